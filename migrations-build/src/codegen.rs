//! Writing a migration module: `quote!` builds the tokens, `prettyplease` formats them,
//! and a header in words says what changed. Comments cannot travel through tokens, so a
//! short marker statement `__chakra_comment_N!();` stands in for comment N and becomes a
//! `// ...` line after formatting.

use migrations_core::operation::{describe_column, Operation};
use migrations_core::schema::{
    Check, Column, ColumnType, Constraint, DefaultValue, Deferrable, FkAction, ForeignKey, Index, Table, Unique,
};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::migration_files::DRAFT_MARK;

/// What a module is made of.
#[derive(Debug, Clone)]
pub struct ModuleSpec<'a> {
    /// `0002_add_user_email`.
    pub id: &'a str,
    /// What it comes after.
    pub dependencies: &'a [String],
    /// The forward operations.
    pub operations: &'a [Operation],
    /// `None` for a draft; the sealing date (`2026-11-22`) otherwise.
    pub sealed_on: Option<&'a str>,
}

fn lit_u32(n: u32) -> Literal {
    Literal::u32_unsuffixed(n)
}

fn ty(t: &ColumnType) -> TokenStream {
    match t {
        ColumnType::SmallInt => quote!(ColumnType::SmallInt),
        ColumnType::Integer => quote!(ColumnType::Integer),
        ColumnType::BigInt => quote!(ColumnType::BigInt),
        ColumnType::Boolean => quote!(ColumnType::Boolean),
        ColumnType::Real => quote!(ColumnType::Real),
        ColumnType::Double => quote!(ColumnType::Double),
        ColumnType::Decimal { precision, scale } => {
            let (p, s) = (lit_u32(*precision), lit_u32(*scale));
            quote!(ColumnType::Decimal { precision: #p, scale: #s })
        }
        ColumnType::Varchar(n) => {
            let n = lit_u32(*n);
            quote!(ColumnType::Varchar(#n))
        }
        ColumnType::UnboundedVarchar => quote!(ColumnType::UnboundedVarchar),
        ColumnType::Text => quote!(ColumnType::Text),
        ColumnType::Binary => quote!(ColumnType::Binary),
        ColumnType::Date => quote!(ColumnType::Date),
        ColumnType::Time => quote!(ColumnType::Time),
        ColumnType::Timestamp => quote!(ColumnType::Timestamp),
        ColumnType::TimestampTz => quote!(ColumnType::TimestampTz),
        ColumnType::Uuid => quote!(ColumnType::Uuid),
        ColumnType::Json => quote!(ColumnType::Json),
        ColumnType::JsonText => quote!(ColumnType::JsonText),
        ColumnType::Inet => quote!(ColumnType::Inet),
        ColumnType::Cidr => quote!(ColumnType::Cidr),
        ColumnType::Interval => quote!(ColumnType::Interval),
        ColumnType::TsVector => quote!(ColumnType::TsVector),
        ColumnType::TimeTz => quote!(ColumnType::TimeTz),
        ColumnType::CiText => quote!(ColumnType::CiText),
        ColumnType::Array(element) => {
            let element = ty(element);
            quote!(ColumnType::array_of(#element))
        }
        ColumnType::Enum(e) => {
            let (name, values) = (&e.name, &e.values);
            quote!(ColumnType::enumeration(#name, &[#(#values),*]))
        }
        ColumnType::Custom(sql) => quote!(ColumnType::Custom(#sql.into())),
        ColumnType::PerDialect(spellings) => {
            let mut each = spellings.spellings().map(|(d, sql)| (dialect(d), sql));
            let Some((first, sql)) = each.next() else { return quote!(ColumnType::Text) };
            let mut out = quote!(ColumnType::sql_for(#first, #sql));
            for (d, sql) in each {
                out = quote!(#out.and_for(#d, #sql));
            }
            out
        }
    }
}

/// `RawSql::new(kind, name)` with its table and its SQL.
fn raw_sql(o: &migrations_core::schema::RawSql) -> TokenStream {
    let (kind, name) = (&o.kind, &o.name);
    let mut out = quote!(RawSql::new(#kind, #name));
    if let Some(t) = &o.table {
        out = quote!(#out.on_table(#t));
    }
    if let Some(sql) = &o.sql {
        let (create, drop) = (&sql.create, &sql.drop);
        out = quote!(#out.sql(#create, #drop));
    }
    for (d, sql) in &o.per_dialect {
        let (d, create, drop) = (dialect(*d), &sql.create, &sql.drop);
        out = quote!(#out.sql_for(#d, #create, #drop));
    }
    out
}

fn dialect(d: migrations_core::Dialect) -> TokenStream {
    match d {
        migrations_core::Dialect::Postgres => quote!(Dialect::Postgres),
        migrations_core::Dialect::MySql => quote!(Dialect::MySql),
        migrations_core::Dialect::Sqlite => quote!(Dialect::Sqlite),
    }
}

fn value(v: &DefaultValue) -> TokenStream {
    match v {
        DefaultValue::Bool(b) => quote!(DefaultValue::Bool(#b)),
        DefaultValue::Number(n) => quote!(DefaultValue::num(#n)),
        DefaultValue::Text(t) => quote!(DefaultValue::text(#t)),
        DefaultValue::Expr(e) => quote!(DefaultValue::expr(#e)),
        DefaultValue::PerDialect(spellings) => {
            let mut each = spellings.spellings();
            let Some((first, sql)) = each.next() else { return quote!(DefaultValue::expr("NULL")) };
            let first = dialect(first);
            let mut out = quote!(DefaultValue::expr_for(#first, #sql));
            for (d, sql) in each {
                let d = dialect(d);
                out = quote!(#out.and_for(#d, #sql));
            }
            out
        }
    }
}

fn column(c: &Column) -> TokenStream {
    let name = &c.name;
    let t = ty(&c.ty);
    let mut out = quote!(Column::new(#name, #t));
    if c.nullable {
        out = quote!(#out.nullable());
    }
    if let Some(d) = &c.default {
        let d = value(d);
        out = quote!(#out.default(#d));
    }
    if c.auto_increment && c.serial {
        out = quote!(#out.serial());
    } else if c.auto_increment {
        out = quote!(#out.auto_increment());
    }
    if let Some(comment) = &c.comment {
        out = quote!(#out.comment(#comment));
    }
    out
}

fn named(explicit: bool) -> TokenStream {
    if explicit {
        quote!(.named())
    } else {
        quote!()
    }
}

fn index(i: &Index) -> TokenStream {
    let (name, cols) = (&i.name, &i.columns);
    let mut out = quote!(Index::new(#name, &[#(#cols),*]));
    if i.unique {
        out = quote!(#out.unique());
    }
    if i.method != migrations_core::schema::IndexMethod::Btree {
        let method = quote::format_ident!("{}", heck::ToUpperCamelCase::to_upper_camel_case(i.method.as_str()));
        out = quote!(#out.using(IndexMethod::#method));
    }
    for (position, key) in i.columns.iter().enumerate() {
        let k = i.key(position);
        if let Some(opclass) = &k.opclass {
            out = quote!(#out.opclass(#key, #opclass));
        }
        if k.descending {
            out = quote!(#out.descending(#key));
        }
        match k.nulls_first {
            Some(true) => out = quote!(#out.nulls_first(#key)),
            Some(false) => out = quote!(#out.nulls_last(#key)),
            None => {}
        }
    }
    if !i.include.is_empty() {
        let include = &i.include;
        out = quote!(#out.include(&[#(#include),*]));
    }
    if let Some(p) = &i.predicate {
        out = quote!(#out.partial(#p));
    }
    let named = named(i.explicit_name);
    quote!(#out #named)
}

fn view(v: &migrations_core::schema::View) -> TokenStream {
    let (name, sql, reads) = (&v.name, &v.sql, &v.reads);
    let materialized = if v.materialized { quote!(.materialized()) } else { quote!() };
    quote!(View::new(#name, #sql).reads(&[#(#reads),*])#materialized)
}

fn unique(u: &Unique) -> TokenStream {
    let (name, cols) = (&u.name, &u.columns);
    let named = named(u.explicit_name);
    quote!(Unique::new(#name, &[#(#cols),*])#named)
}

fn check(c: &Check) -> TokenStream {
    let (name, expr) = (&c.name, &c.expr);
    let not_valid = if c.not_valid { quote!(.not_valid()) } else { quote!() };
    quote!(Check::new(#name, #expr)#not_valid)
}

fn action(a: FkAction) -> TokenStream {
    match a {
        FkAction::NoAction => quote!(FkAction::NoAction),
        FkAction::Restrict => quote!(FkAction::Restrict),
        FkAction::Cascade => quote!(FkAction::Cascade),
        FkAction::SetNull => quote!(FkAction::SetNull),
    }
}

fn foreign_key(f: &ForeignKey) -> TokenStream {
    let (name, cols, table, refs) = (&f.name, &f.columns, &f.ref_table, &f.ref_columns);
    let mut out = quote!(ForeignKey::on(#name, &[#(#cols),*]).references(#table, &[#(#refs),*]));
    if f.on_delete != FkAction::NoAction {
        let a = action(f.on_delete);
        out = quote!(#out.on_delete(#a));
    }
    if f.on_update != FkAction::NoAction {
        let a = action(f.on_update);
        out = quote!(#out.on_update(#a));
    }
    match f.deferrable {
        Deferrable::No => {}
        Deferrable::InitiallyImmediate => out = quote!(#out.deferrable(Deferrable::InitiallyImmediate)),
        Deferrable::InitiallyDeferred => out = quote!(#out.deferrable(Deferrable::InitiallyDeferred)),
    }
    if f.not_valid {
        out = quote!(#out.not_valid());
    }
    let named = named(f.explicit_name);
    quote!(#out #named)
}

fn constraint(c: &Constraint) -> TokenStream {
    match c {
        Constraint::Unique(u) => unique(u),
        Constraint::Check(c) => check(c),
        Constraint::ForeignKey(f) => foreign_key(f),
    }
}

fn table(t: &Table) -> TokenStream {
    let name = &t.name;
    let mut out = quote!(Table::new(#name));
    for c in &t.columns {
        let c = column(c);
        out = quote!(#out.field(#c));
    }
    if !t.primary_key.is_empty() {
        let pk = &t.primary_key;
        out = quote!(#out.primary_key(&[#(#pk),*]));
        if let Some(name) = &t.primary_key_name {
            out = quote!(#out.primary_key_name(#name));
        }
    }
    for u in &t.uniques {
        let u = unique(u);
        out = quote!(#out.unique(#u));
    }
    for c in &t.checks {
        let c = check(c);
        out = quote!(#out.check(#c));
    }
    for f in &t.foreign_keys {
        let f = foreign_key(f);
        out = quote!(#out.foreign_key(#f));
    }
    for i in &t.indexes {
        let i = index(i);
        out = quote!(#out.index(#i));
    }
    if let Some(c) = &t.comment {
        out = quote!(#out.comment(#c));
    }
    out
}

fn opt_str(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

/// The data-loss warning for a destructive operation, in words.
pub fn data_loss(op: &Operation) -> Option<String> {
    match op {
        Operation::DeleteModel { table } => {
            Some(format!("DATA LOSS: drops table `{}` and every row in it.", table.name))
        }
        Operation::RemoveField { table, column } => Some(format!(
            "DATA LOSS: drops column `{table}.{}`; rolling back re-creates it{}, but not its data.",
            column.name,
            if column.needs_fill() { " filled with a zero value" } else { "" }
        )),
        Operation::AlterField { table, old, new, .. } if op.is_destructive() => Some(format!(
            "DATA LOSS: narrows `{table}.{}` from {} to {}; values that do not fit are cut or refused.",
            new.name, old.ty, new.ty
        )),
        _ => None,
    }
}

/// What running `down` loses, in one sentence (`None` when it loses nothing): the tables
/// and columns it drops and the types it narrows, in the order `down` runs.
fn rollback_loss(downs: &[Operation]) -> Option<String> {
    let (mut tables, mut columns, mut narrowed) = (Vec::new(), Vec::new(), Vec::new());
    for op in downs.iter().filter(|op| op.is_destructive()) {
        match op {
            Operation::DeleteModel { table } => tables.push(format!("`{}`", table.name)),
            Operation::RemoveField { table, column } => columns.push(format!("`{table}.{}`", column.name)),
            Operation::AlterField { table, new, .. } => narrowed.push(format!("`{table}.{}` to {}", new.name, new.ty)),
            _ => {}
        }
    }
    let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let mut clauses = Vec::new();
    if !tables.is_empty() {
        let (noun, rows) = (plural(tables.len(), "table", "tables"), plural(tables.len(), "it", "them"));
        clauses.push(format!("drops {noun} {}, with every row in {rows}", and_list(&tables)));
    }
    if !columns.is_empty() {
        let (noun, data) = (plural(columns.len(), "column", "columns"), plural(columns.len(), "its", "their"));
        clauses.push(format!("drops {noun} {}, with {data} data", and_list(&columns)));
    }
    if !narrowed.is_empty() {
        clauses.push(format!("narrows {} (values that do not fit are cut or refused)", and_list(&narrowed)));
    }
    (!clauses.is_empty()).then(|| format!("DATA LOSS if rolled back: {}.", clauses.join("; ")))
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A marker statement for `text`, remembered in `comments`.
fn comment(text: String, comments: &mut Vec<String>) -> TokenStream {
    let marker = quote::format_ident!("__chakra_comment_{}", comments.len());
    comments.push(text);
    quote!(#marker!();)
}

/// Whether a drop spells out what it drops or only names it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drops {
    /// `up`: the reviewer sees what is dropped.
    Spelled,
    /// `down`: it drops what `up`, a few lines above, created; the runtime looks the
    /// rest up in the schema (most of the code, and of the compile cost, of a `down`).
    Named,
}

/// One builder call (with its data-loss comment, if any).
fn statement(op: &Operation, drops: Drops, comments: &mut Vec<String>) -> TokenStream {
    let named = drops == Drops::Named;
    let call = match op {
        Operation::DeleteModel { table: t } if named => {
            let name = &t.name;
            quote!(m.delete_model(#name);)
        }
        Operation::RemoveField { table, column: c } if named => {
            let name = &c.name;
            quote!(m.remove_field(#table, #name);)
        }
        Operation::DropIndex { table, index: i } if named => {
            let name = &i.name;
            quote!(m.drop_index(#table, #name);)
        }
        Operation::RemoveConstraint { table, constraint: c } if named => {
            let name = c.name();
            quote!(m.remove_constraint(#table, #name);)
        }
        Operation::CreateModel { table: t } => {
            let t = table(t);
            quote!(m.create_model(#t);)
        }
        Operation::DeleteModel { table: t } => {
            let t = table(t);
            quote!(m.delete_model(#t);)
        }
        Operation::RenameModel { old, new } => quote!(m.rename_model(#old, #new);),
        Operation::AlterModelComment { table, old, new } => {
            let (o, n) = (opt_str(old), opt_str(new));
            quote!(m.alter_model_comment(#table, #o, #n);)
        }
        Operation::AddField { table, column: c, fill: None } => {
            let c = column(c);
            quote!(m.add_field(#table, #c);)
        }
        Operation::AddField { table, column: c, fill: Some(v) } => {
            let (c, v) = (column(c), value(v));
            quote!(m.add_field_filled(#table, #c, #v);)
        }
        Operation::RemoveField { table, column: c } => {
            let c = column(c);
            quote!(m.remove_field(#table, #c);)
        }
        Operation::AlterField { table, old, new, fill: None } => {
            let (o, n) = (column(old), column(new));
            quote!(m.alter_field(#table, #o, #n);)
        }
        Operation::AlterField { table, old, new, fill: Some(v) } => {
            let (o, n, v) = (column(old), column(new), value(v));
            quote!(m.alter_field_filled(#table, #o, #n, #v);)
        }
        Operation::RenameField { table, old, new } => quote!(m.rename_field(#table, #old, #new);),
        Operation::CreateIndex { table, index: i } => {
            let i = index(i);
            quote!(m.create_index(#table, #i);)
        }
        Operation::CreateView { view: v } => {
            let v = view(v);
            quote!(m.create_view(#v);)
        }
        Operation::DropView { view: v } if named => {
            let name = &v.name;
            quote!(m.drop_view(#name);)
        }
        Operation::DropView { view: v } => {
            let v = view(v);
            quote!(m.drop_view(#v);)
        }
        Operation::DropIndex { table, index: i } => {
            let i = index(i);
            quote!(m.drop_index(#table, #i);)
        }
        Operation::RenameIndex { table, old, new } => quote!(m.rename_index(#table, #old, #new);),
        Operation::AddConstraint { table, constraint: c } => {
            let c = constraint(c);
            quote!(m.add_constraint(#table, #c);)
        }
        Operation::RemoveConstraint { table, constraint: c } => {
            let c = constraint(c);
            quote!(m.remove_constraint(#table, #c);)
        }
        Operation::AlterConstraint { table, old, new } => {
            let (o, n) = (constraint(old), constraint(new));
            quote!(m.alter_constraint(#table, #o, #n);)
        }
        Operation::CreateRaw { object } => {
            let o = raw_sql(object);
            quote!(m.create_raw(#o);)
        }
        Operation::DropRaw { object } if named => {
            let (kind, name) = (&object.kind, &object.name);
            quote!(m.drop_raw_named(#kind, #name);)
        }
        Operation::DropRaw { object } => {
            let o = raw_sql(object);
            quote!(m.drop_raw(#o);)
        }
        Operation::AlterEnum { name, from, to, renamed } => {
            let renamed = renamed.iter().map(|(a, b)| quote!((#a, #b)));
            quote!(m.alter_enum(#name, &[#(#from),*], &[#(#to),*], &[#(#renamed),*]);)
        }
        Operation::RenameEnum { old, new } => quote!(m.rename_enum(#old, #new);),
        Operation::RunSql(sql) => {
            let forward = sql.forward.join(";\n");
            let reverse = opt_str(&sql.reverse.as_ref().map(|r| r.join(";\n")));
            quote!(m.run_sql(#forward, #reverse);)
        }
    };
    // `down` says what rolling back loses once, at its top (`rollback_loss`): a line per
    // dropped table of an initial migration's `down` was the same warning thirty times.
    let loss = if named { None } else { data_loss(op) };
    match loss.or_else(|| migrations_core::render::live::blocking_rewrite(op)) {
        Some(text) => {
            let marker = comment(text, comments);
            quote!(#marker #call)
        }
        None => call,
    }
}

/// The header: what changed, in words, one line per operation.
fn header(spec: &ModuleSpec) -> String {
    let mut h = String::new();
    match spec.sealed_on {
        None => {
            h.push_str(DRAFT_MARK);
            h.push_str(": rewritten by each build until sealed\n");
            h.push_str(
                "// (`cargo chakra seal`, or `CHAKRA_SEAL=1 cargo build`; `--name <name>` or `CHAKRA_SEAL=<name>`\n",
            );
            h.push_str("// to name it yourself). Edit it only after sealing.\n");
        }
        Some(date) => {
            h.push_str(&format!(
                "// Generated by migrations-build and sealed on {date}. Review it like code; once applied\n"
            ));
            h.push_str("// anywhere, change it only with a new migration.\n");
        }
    }
    h.push_str(&format!("//\n// {}\n//\n", spec.id));
    if spec.operations.is_empty() {
        h.push_str("// (no schema change)\n");
    }
    for op in spec.operations {
        let sign = if op.is_destructive() { "-" } else { "+" };
        let words = match op {
            Operation::AddField { table, column, fill } => {
                let mut w = format!("AddField {table}.{} {}", column.name, describe_column(column));
                if let Some(v) = fill {
                    w.push_str(&format!(" (existing rows: {v})"));
                }
                w
            }
            other => other.to_string(),
        };
        let loss = if op.is_destructive() {
            "   (DATA LOSS)"
        } else if migrations_core::render::live::blocking_rewrite(op).is_some() {
            "   (BLOCKING REWRITE)"
        } else {
            ""
        };
        h.push_str(&format!("// {sign} {words}{loss}\n"));
    }
    h
}

/// Formats tokens, turns comment markers into `// ...` lines and puts a blank line
/// between the items.
fn format(tokens: TokenStream, comments: &[String]) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(tokens)?;
    let text = prettyplease::unparse(&file);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker = trimmed
            .strip_prefix("__chakra_comment_")
            .and_then(|rest| rest.strip_suffix("!();"))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| comments.get(n));
        if (line.starts_with("pub fn ") || line.starts_with("pub const ID")) && !out.ends_with("\n\n") {
            out.push('\n');
        }
        match marker {
            Some(text) => {
                let indent = &line[..line.len() - trimmed.len()];
                out.push_str(&format!("{indent}// {text}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The whole module text for `spec`.
pub fn module(spec: &ModuleSpec) -> Result<String, syn::Error> {
    module_with(spec, &Squash::default())
}

/// What a squash's module says beyond an ordinary one.
#[derive(Debug, Clone, Default)]
pub struct Squash<'a> {
    /// The migrations it replaces, in order.
    pub replaces: &'a [String],
    /// The acknowledgements carried over from them: (constant, text).
    pub acknowledgements: &'a [(String, String)],
    /// The header's paragraph about it.
    pub about: &'a str,
}

/// `text` in lines of at most `width` characters (a longer word gets a line of its own).
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// The module text for `spec`, a squash when `squash` replaces anything.
pub fn module_with(spec: &ModuleSpec, squash: &Squash) -> Result<String, syn::Error> {
    let id = spec.id;
    let deps = spec.dependencies;
    let replaces = squash.replaces;
    let replaces_item =
        if replaces.is_empty() { quote!() } else { quote!(pub const REPLACES: &[&str] = &[#(#replaces),*];) };
    let acknowledgements = squash.acknowledgements.iter().map(|(name, text)| {
        let name = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
        quote!(pub const #name: &str = #text;)
    });
    let mut comments = Vec::new();
    let ups: Vec<TokenStream> = spec.operations.iter().map(|op| statement(op, Drops::Spelled, &mut comments)).collect();
    let reversed: Vec<_> = spec.operations.iter().rev().map(Operation::reverse).collect();
    let mut downs = Vec::new();
    let undone: Vec<Operation> = reversed.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    if let Some(loss) = rollback_loss(&undone) {
        for line in wrapped(&loss, 88) {
            downs.push(comment(line, &mut comments));
        }
    }
    for rev in &reversed {
        match rev {
            Ok(rev) => downs.push(statement(rev, Drops::Named, &mut comments)),
            Err(_) => {
                let marker = comment("This step cannot be undone.".into(), &mut comments);
                downs.push(quote!(#marker m.irreversible();));
            }
        }
    }
    let unused = if spec.operations.is_empty() { quote!(let _ = m;) } else { quote!() };
    let tokens = quote! {
        use migrations_runtime::schema::*;

        pub const ID: &str = #id;
        pub const DEPENDENCIES: &[&str] = &[#(#deps),*];
        #replaces_item
        #(#acknowledgements)*

        pub fn up(m: &mut Migration) {
            #unused
            #(#ups)*
        }

        pub fn down(m: &mut Migration) {
            #unused
            #(#downs)*
        }
    };
    let mut head = header(spec);
    if !squash.about.is_empty() {
        let marker = format!("//\n// {}\n//\n", spec.id);
        let about: String = wrapped(squash.about, 88).iter().map(|l| format!("// {l}\n")).collect();
        head = head.replacen(&marker, &format!("{marker}{about}//\n"), 1);
    }
    Ok(format!("{head}\n{}", format(tokens, &comments)?))
}

/// A sealed migration with no operations, for a person to fill in: a merge of two
/// heads, or a hand-written RunSQL or data step. The build never rewrites it.
pub fn empty_module(id: &str, dependencies: &[String], date: &str) -> String {
    let deps = dependencies.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
    format!(
        "// Written by `cargo chakra` on {date} for a person to fill in; the build never rewrites it.\n\
         //\n\
         // {id}\n\
         \n\
         use migrations_runtime::schema::*;\n\
         \n\
         pub const ID: &str = {id:?};\n\
         pub const DEPENDENCIES: &[&str] = &[{deps}];\n\
         \n\
         pub fn up(m: &mut Migration) {{\n    \
             // For example:\n    \
             // m.run_sql(\"UPDATE users SET email = lower(email)\", None);\n    \
             let _ = m;\n\
         }}\n\
         \n\
         pub fn down(m: &mut Migration) {{\n    \
             let _ = m;\n\
         }}\n"
    )
}
