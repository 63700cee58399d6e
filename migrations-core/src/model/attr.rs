//! Reading `#[model(...)]` attributes on a struct and its fields into a [`Model`]: the
//! options, read as written by `options.rs`, are interpreted here, with every error
//! recorded at the option's span.

use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit};

use super::column::build_column;
use super::ctxt::Ctxt;
use super::naming::default_table_name;
use super::options::{
    expect_expr, expect_flag, expect_flag_or_name, expect_str, expect_u32, lit_str, literal_value, path_name,
    read_opts, ListItem, OptValue, Seen,
};
use super::struct_opts::{parse_struct_opts, DEFERRABLE_VALUES};
use super::{CompositeKey, Field, Model, RefTarget, Reference};
use crate::schema::{names, Check, ColumnType, DefaultValue, Deferrable, FkAction, Index, IndexMethod, Table, Unique};

const FIELD_OPTIONS: &str = "primary_key, auto_increment, unique, index, max_length, default, default_expr, column, references, foreign_key_name, on_delete, on_update, deferrable, not_valid, renamed_from, backfill, backfill_expr, column_type, precision, scale, comment, skip";

/// Options of one field, interpreted.
#[derive(Default)]
pub(super) struct FieldOpts {
    pub(super) primary_key: bool,
    pub(super) auto_increment: Option<Span>,
    /// `auto_increment = "serial"`.
    pub(super) serial: bool,
    pub(super) unique: bool,
    /// `unique = "name"`.
    pub(super) unique_name: Option<String>,
    pub(super) index: Option<bool>,
    /// `index = "name"`.
    pub(super) index_name: Option<String>,
    pub(super) max_length: Option<(u32, Span)>,
    pub(super) default: Option<(DefaultValue, Span)>,
    pub(super) column: Option<String>,
    pub(super) references: Option<(RefTarget, Span)>,
    pub(super) on_delete: Option<(FkAction, Span)>,
    pub(super) on_update: Option<(FkAction, Span)>,
    pub(super) deferrable: Option<(Deferrable, Span)>,
    /// `not_valid`, with its span.
    pub(super) not_valid: Option<Span>,
    pub(super) foreign_key_name: Option<(String, Span)>,
    pub(super) renamed_from: Option<String>,
    pub(super) backfill: Option<(DefaultValue, Span)>,
    pub(super) column_type: Option<ColumnType>,
    pub(super) precision: Option<(u32, Span)>,
    pub(super) scale: Option<(u32, Span)>,
    pub(super) comment: Option<String>,
    pub(super) skip: bool,
}

fn parse_field_opts(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> FieldOpts {
    let mut o = FieldOpts::default();
    let opts = read_opts(cx, attrs);
    let mut seen = Seen::default();
    let mut defaults = 0;
    let mut backfills = 0;
    for opt in &opts {
        if !seen.first_time(cx, opt) {
            continue;
        }
        let span = opt.span();
        match opt.name() {
            "primary_key" => o.primary_key = expect_flag(cx, opt),
            "auto_increment" => match &opt.value {
                OptValue::Flag => o.auto_increment = Some(span),
                _ => match expect_str(cx, opt).as_deref() {
                    Some("identity") => o.auto_increment = Some(span),
                    Some("serial") => (o.auto_increment, o.serial) = (Some(span), true),
                    Some(_) => cx.error_at(
                        span,
                        "`auto_increment` is a flag (an identity column on PostgreSQL), or \"serial\" (a serial column there)",
                    ),
                    None => {}
                },
            },
            "unique" => (o.unique, o.unique_name) = expect_flag_or_name(cx, opt),
            "index" => {
                let (on, name) = expect_flag_or_name(cx, opt);
                (o.index, o.index_name) = (Some(on), name);
            }
            "skip" => o.skip = expect_flag(cx, opt),
            "max_length" => o.max_length = expect_u32(cx, opt).map(|n| (n, span)),
            "precision" => o.precision = expect_u32(cx, opt).map(|n| (n, span)),
            "scale" => {
                // Scale 0 is valid, so read it without the positive-integer rule.
                if let Some(e) = expect_expr(cx, opt, "<number>") {
                    match e {
                        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) if i.base10_parse::<u32>().is_ok() => {
                            o.scale = i.base10_parse::<u32>().ok().map(|n| (n, span));
                        }
                        _ => cx.error_spanned_by(e, "`scale` expects an integer, e.g. `scale = 2`"),
                    }
                }
            }
            "default" | "backfill" => {
                let is_default = opt.name() == "default";
                if let Some(e) = expect_expr(cx, opt, "<literal>") {
                    match literal_value(e) {
                        Some(v) if is_default => o.default = Some((v, span)),
                        Some(v) => o.backfill = Some((v, span)),
                        None => cx.error_spanned_by(
                            e,
                            format!(
                                "`{}` expects a literal (`true`, `42`, `1.5`, `\"text\"`); for SQL such as now() use `{}_expr = \"now()\"`",
                                opt.name(),
                                opt.name()
                            ),
                        ),
                    }
                }
                if is_default {
                    defaults += 1
                } else {
                    backfills += 1
                }
            }
            "default_expr" | "backfill_expr" => {
                let is_default = opt.name() == "default_expr";
                let value = match &opt.value {
                    OptValue::List(items) => per_dialect(cx, items, opt.name(), span).map(DefaultValue::PerDialect),
                    _ => expect_str(cx, opt).map(|s| DefaultValue::expr(&s)),
                };
                if let Some(value) = value {
                    let v = (value, span);
                    if is_default {
                        o.default = Some(v)
                    } else {
                        o.backfill = Some(v)
                    }
                }
                if is_default {
                    defaults += 1
                } else {
                    backfills += 1
                }
            }
            "column" => o.column = expect_str(cx, opt),
            "foreign_key_name" => o.foreign_key_name = expect_str(cx, opt).map(|n| (n, span)),
            "renamed_from" => o.renamed_from = expect_str(cx, opt),
            "comment" => o.comment = expect_str(cx, opt),
            "column_type" => {
                o.column_type = match &opt.value {
                    OptValue::List(items) => per_dialect(cx, items, "column_type", span).map(ColumnType::PerDialect),
                    _ => expect_str(cx, opt).map(|s| s.parse().unwrap_or(ColumnType::Custom(s))),
                };
            }
            "not_valid" => o.not_valid = expect_flag(cx, opt).then_some(span),
            "deferrable" => {
                let when = match &opt.value {
                    OptValue::Flag => Some(Deferrable::InitiallyImmediate),
                    _ => expect_str(cx, opt).and_then(|s| {
                        let when = Deferrable::parse(&s).filter(|d| *d != Deferrable::No);
                        if when.is_none() {
                            cx.error_at(span, DEFERRABLE_VALUES);
                        }
                        when
                    }),
                };
                o.deferrable = when.map(|d| (d, span));
            }
            "on_delete" | "on_update" => {
                if let Some(s) = expect_str(cx, opt) {
                    match FkAction::parse(&s) {
                        Some(a) if opt.name() == "on_delete" => o.on_delete = Some((a, span)),
                        Some(a) => o.on_update = Some((a, span)),
                        None => cx.error_at(
                            span,
                            format!("unknown `{}` action `{s}`: expected \"cascade\", \"set null\", \"restrict\" or \"no action\"", opt.name()),
                        ),
                    }
                }
            }
            "references" => {
                if let Some(e) = expect_expr(cx, opt, "\"table(column)\" or a model type") {
                    match parse_reference(e) {
                        Some(t) => o.references = Some((t, span)),
                        None => cx.error_spanned_by(
                            e,
                            "`references` expects `\"table(column)\"` or a model type such as `references = User`",
                        ),
                    }
                }
            }
            other => cx.error_at(span, format!("unknown field option `{other}`; expected one of: {FIELD_OPTIONS}")),
        }
    }
    if defaults > 1 {
        if let Some((_, span)) = &o.default {
            cx.error_at(*span, "give either `default` or `default_expr`, not both");
        }
    }
    if backfills > 1 {
        if let Some((_, span)) = &o.backfill {
            cx.error_at(*span, "give either `backfill` or `backfill_expr`, not both");
        }
    }
    o
}

fn parse_reference(e: &Expr) -> Option<RefTarget> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
            let v = s.value();
            let (table, rest) = v.split_once('(')?;
            let column = rest.strip_suffix(')')?;
            let (table, column) = (table.trim(), column.trim());
            if table.is_empty() || column.is_empty() || column.contains(',') {
                return None;
            }
            // "auth.users(id)" names another app's table.
            let (app, table) = match table.split_once('.') {
                Some((app, table)) if !app.trim().is_empty() && !table.trim().is_empty() => {
                    (Some(app.trim().to_string()), table.trim())
                }
                Some(_) => return None,
                None => (None, table),
            };
            Some(RefTarget::Table { app, table: table.to_string(), column: column.to_string() })
        }
        Expr::Path(p) if p.qself.is_none() => {
            let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let name = segments.last()?.clone();
            let app = match segments.first().map(String::as_str) {
                Some("crate" | "self" | "super") | None => None,
                Some(first) if segments.len() >= 2 => Some(first.to_string()),
                Some(_) => None,
            };
            Some(RefTarget::Model { app, name })
        }
        _ => None,
    }
}

/// Reads a whole model. Returns `None` only when the shape is unusable; errors go to `cx`.
pub(super) fn parse(cx: &mut Ctxt, input: &syn::DeriveInput) -> Option<Model> {
    let named = match &input.data {
        syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Named(n), .. }) => &n.named,
        _ => {
            cx.error_spanned_by(&input.ident, "#[derive(Model)] works on structs with named fields");
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "a model cannot be generic: a table has one fixed shape");
    }
    let so = parse_struct_opts(cx, &input.attrs);
    let table_name = so.table.clone().unwrap_or_else(|| default_table_name(&input.ident.to_string()));
    let mut table = Table::new(&table_name);
    table.comment = so.comment.clone();

    let mut fields = Vec::new();
    let mut references = Vec::new();
    let mut field_pk: Vec<(String, Span)> = Vec::new();
    let mut fk_indexes = Vec::new();
    let mut auto_spans: Vec<(String, Span)> = Vec::new();
    for f in named {
        let Some(ident) = &f.ident else { continue };
        let fo = parse_field_opts(cx, &f.attrs);
        if fo.skip {
            continue;
        }
        let Some(column) = build_column(cx, f, &fo) else { continue };
        let col_name = column.name.clone();
        if table.column(&col_name).is_some() {
            cx.error_spanned_by(ident, format!("column `{col_name}` is declared twice in this model; use `column = \"...\"` to give one another name"));
            continue;
        }
        if fo.primary_key {
            field_pk.push((col_name.clone(), ident.span()));
        }
        if let (Some(span), true) = (fo.auto_increment, column.auto_increment) {
            auto_spans.push((col_name.clone(), span));
        }
        if fo.unique {
            let cols = vec![col_name.clone()];
            let (name, explicit_name) = match &fo.unique_name {
                Some(n) => (n.clone(), true),
                None => (names::unique(&table_name, &cols), false),
            };
            table.uniques.push(Unique { name, columns: cols, explicit_name });
        }
        let covered = fo.unique || fo.primary_key;
        match (&fo.references, fo.index) {
            (Some(_), None) if !covered => fk_indexes.push((col_name.clone(), None, true)),
            (_, Some(true)) => fk_indexes.push((col_name.clone(), fo.index_name.clone(), false)),
            _ => {}
        }
        match &fo.references {
            Some((target, span)) => references.push(Reference {
                column: col_name.clone(),
                target: target.clone(),
                on_delete: fo.on_delete.map(|(a, _)| a).unwrap_or_default(),
                on_update: fo.on_update.map(|(a, _)| a).unwrap_or_default(),
                name: fo.foreign_key_name.as_ref().map(|(n, _)| n.clone()),
                deferrable: fo.deferrable.map(|(d, _)| d).unwrap_or_default(),
                not_valid: fo.not_valid.is_some(),
                span: *span,
            }),
            None => {
                if let Some(span) = fo.not_valid {
                    cx.error_at(
                        span,
                        "`not_valid` applies to the foreign key of `references = ...`, and this field has none",
                    );
                }
                if let Some((_, span)) = &fo.deferrable {
                    cx.error_at(
                        *span,
                        "`deferrable` applies to the foreign key of `references = ...`, and this field has none",
                    );
                }
                for (_, span) in fo.on_delete.iter().chain(fo.on_update.iter()) {
                    cx.error_at(*span, "`on_delete`/`on_update` only apply to a field with `references = ...`");
                }
                if let Some((_, span)) = &fo.foreign_key_name {
                    cx.error_at(
                        *span,
                        "`foreign_key_name` names the foreign key of `references = ...`, and this field has none",
                    );
                }
            }
        }
        if let (Some((FkAction::SetNull, span)), false) = (fo.on_delete.or(fo.on_update), column.nullable) {
            cx.error_at(span, "\"set null\" needs a nullable column: make the field `Option<_>`");
        }
        fields.push(Field {
            ident: ident.to_string(),
            column: col_name,
            renamed_from: fo.renamed_from.clone(),
            backfill: fo.backfill.map(|(v, _)| v),
            span: ident.span(),
        });
        table.columns.push(column);
    }
    // The indexes a foreign key got without asking: a declared index that serves the
    // key takes their place.
    let mut automatic: Vec<String> = Vec::new();
    for (col, name, unasked) in fk_indexes {
        let cols = vec![col];
        let explicit_name = name.is_some();
        if unasked {
            automatic.push(names::index(&table_name, &cols, false));
        }
        table.indexes.push(Index {
            name: name.unwrap_or_else(|| names::index(&table_name, &cols, false)),
            columns: cols,
            explicit_name,
            ..Index::default()
        });
    }

    // Struct-level lists name Rust fields; map them to columns.
    let to_columns = |cx: &mut Ctxt, paths: &[syn::Path]| -> Option<Vec<String>> {
        let mut out = Vec::new();
        for p in paths {
            let name = path_name(p);
            match fields.iter().find(|f| f.ident == name) {
                Some(f) if out.contains(&f.column) => cx.error_spanned_by(p, format!("field `{name}` is listed twice")),
                Some(f) => out.push(f.column.clone()),
                None => cx.error_spanned_by(p, format!("no field `{name}` in this struct (list Rust field names)")),
            }
        }
        (out.len() == paths.len()).then_some(out)
    };
    match (&so.primary_key, field_pk.as_slice()) {
        (Some((_, _, span)), [_, ..]) => {
            cx.error_at(*span, "two primary keys: remove `primary_key` from the fields or from the struct");
        }
        (Some((paths, name, _)), []) => {
            if let Some(cols) = to_columns(cx, paths) {
                table.primary_key = cols;
                table.primary_key_name.clone_from(name);
            }
        }
        (None, [_, (_, second), ..]) => cx.error_at(
            *second,
            "two fields say `primary_key`: for a composite key write `#[model(primary_key(a, b))]` on the struct",
        ),
        (None, [(one, _)]) => table.primary_key = vec![one.clone()],
        (None, []) => {}
    }
    // A foreign-key index is redundant when the primary key starts with the column.
    if let Some(first) = table.primary_key.first().cloned() {
        table.indexes.retain(|i| i.explicit_name || i.columns != [first.clone()]);
    }
    let mut foreign_keys = Vec::new();
    for fk in &so.foreign_keys {
        let Some(columns) = to_columns(cx, &fk.fields) else { continue };
        if columns.len() != fk.ref_columns.len() {
            cx.error_at(
                fk.span,
                format!(
                    "`foreign_key` lists {} field(s) and references {} column(s): they pair up one to one",
                    columns.len(),
                    fk.ref_columns.len()
                ),
            );
            continue;
        }
        let not_null = columns.iter().find(|c| table.column(c).is_some_and(|col| !col.nullable));
        if let (Some(c), true) = (not_null, fk.on_delete == FkAction::SetNull || fk.on_update == FkAction::SetNull) {
            cx.error_at(
                fk.span,
                format!("\"set null\" needs nullable columns, and `{c}` is not: make its field `Option<_>`"),
            );
            continue;
        }
        // Its index, unless it says not or the primary key starts with its columns.
        if fk.index && !table.primary_key.starts_with(&columns) && !table.indexes.iter().any(|i| i.columns == columns) {
            let name = names::index(&table_name, &columns, false);
            automatic.push(name.clone());
            table.indexes.push(Index {
                name,
                columns: columns.clone(),
                unique: false,
                explicit_name: false,
                ..Index::default()
            });
        }
        foreign_keys.push(CompositeKey {
            columns,
            table: fk.table.clone(),
            ref_columns: fk.ref_columns.clone(),
            on_delete: fk.on_delete,
            on_update: fk.on_update,
            name: fk.name.clone(),
            deferrable: fk.deferrable,
            not_valid: fk.not_valid,
            span: fk.span,
        });
    }
    for (paths, given_name, span) in &so.uniques {
        let Some(cols) = to_columns(cx, paths) else { continue };
        let (name, explicit_name) = match given_name {
            Some(n) => (n.clone(), true),
            None => (names::unique(&table_name, &cols), false),
        };
        if table.uniques.iter().any(|u| u.columns == cols) {
            cx.error_at(
                *span,
                "this unique constraint is declared twice (a field-level `unique` is the same constraint)",
            );
            continue;
        }
        table.uniques.push(Unique { name, columns: cols, explicit_name });
    }
    for decl in &so.indexes {
        let column = |cx: &mut Ctxt, p: &syn::Path| to_columns(cx, std::slice::from_ref(p)).map(|mut c| c.remove(0));
        let Some(index) = super::index::resolve(cx, decl, &table_name, column) else { continue };
        if table.indexes.iter().any(|i| i.definition() == index.definition() && i.explicit_name) {
            cx.error_at(decl.span, "this index is declared twice");
            continue;
        }
        // An automatic foreign-key index whose columns a declared B-tree over every row
        // starts with: the declared one serves the key, and is kept. (One the field asks
        // for with `index` stays.)
        let serves_the_key = index.method == IndexMethod::Btree && index.predicate.is_none();
        table.indexes.retain(|i| {
            !automatic.contains(&i.name) || i.explicit_name || !serves_the_key || !index.columns.starts_with(&i.columns)
        });
        if table.indexes.iter().any(|i| i.name == index.name) {
            let name = &index.name;
            cx.error_at(
                decl.span,
                format!("another index of this table is also named `{name}`: give this one `name = \"...\"`"),
            );
            continue;
        }
        table.indexes.push(index);
    }
    for (name, expr, not_valid, span) in &so.checks {
        if table.checks.iter().any(|c| c.name == *name) {
            cx.error_at(*span, format!("two checks are named `{name}`"));
            continue;
        }
        table.checks.push(Check { name: name.clone(), expr: expr.clone(), not_valid: *not_valid });
    }
    for (col, span) in auto_spans {
        if table.primary_key != [col.clone()] {
            cx.error_at(span, format!("`auto_increment` on `{col}` needs it to be the table's only primary key column (add `primary_key`)"));
        }
    }
    Some(Model {
        ident: input.ident.clone(),
        table,
        renamed_from: so.renamed_from,
        fields,
        references,
        foreign_keys,
        span: input.ident.span(),
    })
}

/// `default_expr(postgres = "...", mysql = "...", sqlite = "...")` and `column_type(...)`
/// likewise: SQL for each dialect, at least one.
fn per_dialect(cx: &mut Ctxt, items: &[ListItem], option: &str, span: Span) -> Option<crate::schema::DialectSql> {
    let mut spellings = crate::schema::DialectSql::default();
    for item in items {
        let (ListItem::KeyValue(k, v), Some(dialect)) = (item, item_dialect(item)) else {
            let p = match item {
                ListItem::Word(p) | ListItem::KeyValue(p, _) | ListItem::List(p, _) => p,
            };
            cx.error_spanned_by(p, format!("`{option}(...)` gives SQL per dialect: `postgres = \"...\"`, `mysql = \"...\"` or `sqlite = \"...\"`"));
            continue;
        };
        match lit_str(v).filter(|s| !s.trim().is_empty()) {
            Some(_) if spellings.get(dialect).is_some() => {
                cx.error_spanned_by(k, format!("`{dialect}` is given twice"))
            }
            Some(sql) => spellings.set(dialect, &sql),
            None => cx.error_spanned_by(v, "expected the SQL as a string literal"),
        }
    }
    if spellings.spellings().next().is_none() {
        cx.error_at(span, format!("`{option}(...)` needs the SQL of at least one dialect"));
        return None;
    }
    Some(spellings)
}

fn item_dialect(item: &ListItem) -> Option<crate::Dialect> {
    let ListItem::KeyValue(k, _) = item else { return None };
    ["postgres", "mysql", "sqlite"].into_iter().find(|d| k.is_ident(d)).and_then(|d| d.parse().ok())
}
