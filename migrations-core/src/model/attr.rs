//! Reading `#[model(...)]` attributes on a struct and its fields into a [`Model`]: the
//! options, read as written by `options.rs`, are interpreted here, with every error
//! recorded at the option's span.

use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit};

use super::ctxt::Ctxt;
use super::naming::default_table_name;
use super::options::{
    expect_expr, expect_flag, expect_flag_or_name, expect_str, expect_u32, lit_str, literal_value, path_name,
    read_opts, ListItem, OptValue, Seen,
};
use super::rust_type::{field_type, RustKind};
use super::{CompositeKey, Field, Model, RefTarget, Reference};
use crate::schema::{
    names, Check, Column, ColumnType, DefaultValue, Deferrable, FkAction, Index, IndexMethod, Table, Unique,
};

const FIELD_OPTIONS: &str = "primary_key, auto_increment, unique, index, max_length, default, default_expr, column, references, foreign_key_name, on_delete, on_update, deferrable, not_valid, renamed_from, backfill, backfill_expr, column_type, precision, scale, comment, skip";
const STRUCT_OPTIONS: &str =
    "table, renamed_from, comment, index(...), unique(...), check(name = \"...\", expr = \"...\"), primary_key(..., name = \"...\"), foreign_key(a, b, references = \"table(x, y)\")";

/// Options of one field, interpreted.
#[derive(Default)]
struct FieldOpts {
    primary_key: bool,
    auto_increment: Option<Span>,
    /// `auto_increment = "serial"`.
    serial: bool,
    unique: bool,
    /// `unique = "name"`.
    unique_name: Option<String>,
    index: Option<bool>,
    /// `index = "name"`.
    index_name: Option<String>,
    max_length: Option<(u32, Span)>,
    default: Option<(DefaultValue, Span)>,
    column: Option<String>,
    references: Option<(RefTarget, Span)>,
    on_delete: Option<(FkAction, Span)>,
    on_update: Option<(FkAction, Span)>,
    deferrable: Option<(Deferrable, Span)>,
    /// `not_valid`, with its span.
    not_valid: Option<Span>,
    foreign_key_name: Option<(String, Span)>,
    renamed_from: Option<String>,
    backfill: Option<(DefaultValue, Span)>,
    column_type: Option<ColumnType>,
    precision: Option<(u32, Span)>,
    scale: Option<(u32, Span)>,
    comment: Option<String>,
    skip: bool,
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

/// Options of the struct, interpreted.
#[derive(Default)]
struct StructOpts {
    table: Option<String>,
    renamed_from: Option<String>,
    comment: Option<String>,
    uniques: Vec<(Vec<syn::Path>, Option<String>, Span)>,
    indexes: Vec<super::index::IndexDecl>,
    /// Name, expression, `not_valid`, span.
    checks: Vec<(String, String, bool, Span)>,
    primary_key: Option<(Vec<syn::Path>, Option<String>, Span)>,
    foreign_keys: Vec<StructForeignKey>,
}

/// A struct-level `foreign_key(...)` as written: the fields, and what they reference.
struct StructForeignKey {
    fields: Vec<syn::Path>,
    table: String,
    ref_columns: Vec<String>,
    on_delete: FkAction,
    on_update: FkAction,
    name: Option<String>,
    index: bool,
    deferrable: Deferrable,
    not_valid: bool,
    span: Span,
}

/// What `deferrable = ...` takes.
const DEFERRABLE_VALUES: &str =
    "`deferrable` is a flag (checked at each statement unless deferred) or \"initially deferred\" (checked at commit)";

/// `foreign_key(a, b, references = "table(x, y)", name = "...", on_delete = "...",
/// on_update = "...", deferrable [= "initially deferred"], index = false)`.
fn parse_foreign_key(cx: &mut Ctxt, items: &[ListItem], span: Span) -> Option<StructForeignKey> {
    let mut fk = StructForeignKey {
        fields: Vec::new(),
        table: String::new(),
        ref_columns: Vec::new(),
        on_delete: FkAction::NoAction,
        on_update: FkAction::NoAction,
        name: None,
        index: true,
        deferrable: Deferrable::No,
        not_valid: false,
        span,
    };
    let mut references = false;
    for item in items {
        match item {
            // (`deferrable` alone is the flag, not a field.)
            ListItem::Word(p) if p.is_ident("deferrable") => fk.deferrable = Deferrable::InitiallyImmediate,
            ListItem::Word(p) if p.is_ident("not_valid") => fk.not_valid = true,
            ListItem::Word(p) => fk.fields.push(p.clone()),
            ListItem::KeyValue(k, v) if k.is_ident("references") => {
                let target = lit_str(v).and_then(|s| {
                    let (table, rest) = s.split_once('(')?;
                    let columns: Vec<String> =
                        rest.strip_suffix(')')?.split(',').map(|c| c.trim().to_string()).collect();
                    let table = table.trim().to_string();
                    (!table.is_empty() && !table.contains('.') && columns.iter().all(|c| !c.is_empty()))
                        .then_some((table, columns))
                });
                match target {
                    Some((table, columns)) => {
                        fk.table = table;
                        fk.ref_columns = columns;
                        references = true;
                    }
                    None => cx.error_spanned_by(
                        v,
                        "`references` expects `\"table(column_a, column_b)\"`, a table of this crate",
                    ),
                }
            }
            ListItem::KeyValue(k, v) if k.is_ident("name") => match lit_str(v) {
                Some(s) => fk.name = Some(s),
                None => cx.error_spanned_by(v, "`name` expects a string literal"),
            },
            ListItem::KeyValue(k, v) if k.is_ident("on_delete") || k.is_ident("on_update") => {
                match lit_str(v).as_deref().and_then(FkAction::parse) {
                    Some(a) if k.is_ident("on_delete") => fk.on_delete = a,
                    Some(a) => fk.on_update = a,
                    None => cx.error_spanned_by(v, "expected \"cascade\", \"set null\", \"restrict\" or \"no action\""),
                }
            }
            ListItem::KeyValue(k, v) if k.is_ident("deferrable") => {
                match lit_str(v).as_deref().and_then(Deferrable::parse).filter(|d| *d != Deferrable::No) {
                    Some(d) => fk.deferrable = d,
                    None => cx.error_spanned_by(v, DEFERRABLE_VALUES),
                }
            }
            ListItem::KeyValue(k, v) if k.is_ident("index") => match v.as_ref() {
                Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => fk.index = b.value,
                other => cx.error_spanned_by(other, "`index` expects `true` or `false`"),
            },
            ListItem::KeyValue(p, _) | ListItem::List(p, _) => {
                cx.error_spanned_by(p, format!("unexpected `{}` in `foreign_key(...)`; expected fields, then references, name, on_delete, on_update, deferrable, not_valid or index", path_name(p)));
            }
        }
    }
    if fk.fields.is_empty() {
        cx.error_at(
            span,
            "`foreign_key(...)` needs the fields it is made of: `foreign_key(a, b, references = \"table(x, y)\")`",
        );
        return None;
    }
    if !references {
        cx.error_at(span, "`foreign_key(...)` needs `references = \"table(x, y)\"`");
        return None;
    }
    Some(fk)
}

fn parse_struct_opts(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> StructOpts {
    let mut o = StructOpts::default();
    let opts = read_opts(cx, attrs);
    let mut seen = Seen::default();
    for opt in &opts {
        let name = opt.name();
        let span = opt.span();
        let repeatable = matches!(name, "index" | "unique" | "check" | "foreign_key");
        if !repeatable && !seen.first_time(cx, opt) {
            continue;
        }
        match name {
            "table" => o.table = expect_str(cx, opt),
            "renamed_from" => o.renamed_from = expect_str(cx, opt),
            "comment" => o.comment = expect_str(cx, opt),
            "foreign_key" => match &opt.value {
                OptValue::List(items) => o.foreign_keys.extend(parse_foreign_key(cx, items, span)),
                _ => cx.error_at(
                    span,
                    "on a struct, `foreign_key` takes a list: `foreign_key(a, b, references = \"table(x, y)\")`",
                ),
            },
            "index" => match &opt.value {
                OptValue::List(items) => o.indexes.extend(super::index::parse(cx, items, span)),
                _ => cx.error_at(span, "on a struct, `index` takes a list: `index(field_a, field_b, name = \"...\")`"),
            },
            "unique" | "primary_key" | "check" => {
                let OptValue::List(items) = &opt.value else {
                    let example = if name == "check" {
                        "check(name = \"...\", expr = \"...\")".to_string()
                    } else {
                        format!("{name}(field_a, field_b)")
                    };
                    cx.error_at(span, format!("on a struct, `{name}` takes a list: `{example}`"));
                    continue;
                };
                let mut columns = Vec::new();
                let mut given_name = None;
                let mut expr = None;
                let mut not_valid = false;
                for item in items {
                    match item {
                        ListItem::Word(p) if name == "check" && p.is_ident("not_valid") => not_valid = true,
                        ListItem::KeyValue(p, _) if name == "check" && p.is_ident("not_valid") => cx.error_spanned_by(
                            p,
                            "`not_valid` is a flag: `check(name = \"...\", expr = \"...\", not_valid)`",
                        ),
                        ListItem::Word(p) if name != "check" => columns.push(p.clone()),
                        ListItem::KeyValue(k, v) if k.is_ident("name") => match lit_str(v) {
                            Some(s) => given_name = Some(s),
                            None => cx.error_spanned_by(v, "`name` expects a string literal"),
                        },
                        ListItem::KeyValue(k, v) if k.is_ident("expr") && name == "check" => match lit_str(v) {
                            Some(s) => expr = Some(s),
                            None => cx.error_spanned_by(v, "`expr` expects a string literal with a SQL condition"),
                        },
                        ListItem::Word(p) | ListItem::KeyValue(p, _) | ListItem::List(p, _) => {
                            cx.error_spanned_by(p, format!("unexpected `{}` in `{name}(...)`", path_name(p)));
                        }
                    }
                }
                match name {
                    "check" => match (given_name, expr) {
                        (Some(n), Some(e)) => o.checks.push((n, e, not_valid, span)),
                        _ => cx.error_at(
                            span,
                            "`check` needs both a name and an expression: `check(name = \"...\", expr = \"...\")`",
                        ),
                    },
                    _ if columns.is_empty() => cx.error_at(span, format!("`{name}(...)` needs at least one field")),
                    "primary_key" => o.primary_key = Some((columns, given_name, span)),
                    _ => o.uniques.push((columns, given_name, span)),
                }
            }
            other => cx.error_at(span, format!("unknown struct option `{other}`; expected one of: {STRUCT_OPTIONS}")),
        }
    }
    o
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

fn build_column(cx: &mut Ctxt, f: &syn::Field, fo: &FieldOpts) -> Option<Column> {
    let ident = f.ident.as_ref()?;
    let ft = match field_type(&f.ty) {
        Ok(ft) => ft,
        Err(msg) => {
            cx.error_spanned_by(&f.ty, msg);
            return None;
        }
    };
    let name = fo.column.clone().unwrap_or_else(|| ident.to_string());
    let ty = match (&fo.column_type, ft.kind) {
        (Some(t), _) => {
            for (what, span) in [
                ("max_length", fo.max_length.map(|m| m.1)),
                ("precision", fo.precision.map(|m| m.1)),
                ("scale", fo.scale.map(|m| m.1)),
            ] {
                if let Some(span) = span {
                    cx.error_at(
                        span,
                        format!(
                            "`{what}` has no effect with `column_type`; write it into the type, e.g. `varchar(50)`"
                        ),
                    );
                }
            }
            t.clone()
        }
        (None, None) if is_unsigned_or_odd_int(&f.ty) => {
            cx.error_spanned_by(
                &f.ty,
                format!("field `{ident}`: PostgreSQL has no unsigned or 8/128-bit integers, so this type is not portable; use i16, i32 or i64, or give `column_type = \"...\"`"),
            );
            return None;
        }
        (None, None) => {
            cx.error_spanned_by(
                &f.ty,
                format!("unknown column type for field `{ident}`: the build cannot resolve type aliases or newtypes; add `#[model(column_type = \"...\")]` (e.g. \"text\", \"bigint\", \"sql:citext\")"),
            );
            return None;
        }
        (None, Some(kind)) if ft.array => ColumnType::array_of(type_for(cx, kind, fo, ident)?),
        (None, Some(kind)) => type_for(cx, kind, fo, ident)?,
    };
    if let Some(span) = fo.auto_increment {
        if !ty.is_integer() {
            cx.error_at(span, format!("`auto_increment` needs an integer field (i16, i32, i64), not {ty}"));
        }
    }
    for (v, span) in fo.default.iter().chain(fo.backfill.iter()) {
        if let Some(msg) = default_mismatch(v, &ty) {
            cx.error_at(*span, msg);
        }
    }
    let integer = ty.is_integer();
    if fo.primary_key && ft.nullable {
        cx.error_spanned_by(&f.ty, "a primary key column cannot be `Option<_>`");
    }
    Some(Column {
        name,
        ty,
        nullable: ft.nullable,
        default: fo.default.as_ref().map(|(v, _)| v.clone()),
        auto_increment: fo.auto_increment.is_some() && integer,
        serial: fo.serial && fo.auto_increment.is_some() && integer,
        comment: fo.comment.clone(),
    })
}

fn type_for(cx: &mut Ctxt, kind: RustKind, fo: &FieldOpts, ident: &syn::Ident) -> Option<ColumnType> {
    if let (Some((_, span)), false) = (fo.max_length, kind == RustKind::String) {
        cx.error_at(span, format!("`max_length` applies to `String` fields only; `{ident}` is not a string"));
    }
    if kind != RustKind::Decimal {
        for (what, span) in [("precision", fo.precision.map(|m| m.1)), ("scale", fo.scale.map(|m| m.1))] {
            if let Some(span) = span {
                cx.error_at(span, format!("`{what}` applies to decimal fields only"));
            }
        }
    }
    Some(match kind {
        RustKind::I16 => ColumnType::SmallInt,
        RustKind::I32 => ColumnType::Integer,
        RustKind::I64 => ColumnType::BigInt,
        RustKind::Bool => ColumnType::Boolean,
        RustKind::F32 => ColumnType::Real,
        RustKind::F64 => ColumnType::Double,
        RustKind::String => match fo.max_length {
            Some((n, _)) => ColumnType::Varchar(n),
            None => ColumnType::Text,
        },
        RustKind::Bytes => ColumnType::Binary,
        RustKind::Date => ColumnType::Date,
        RustKind::Time => ColumnType::Time,
        RustKind::DateTime => ColumnType::Timestamp,
        RustKind::DateTimeTz => ColumnType::TimestampTz,
        RustKind::Uuid => ColumnType::Uuid,
        RustKind::Json => ColumnType::Json,
        RustKind::IpAddr => ColumnType::Inet,
        RustKind::Interval => ColumnType::Interval,
        RustKind::TimeTz => ColumnType::TimeTz,
        RustKind::Decimal => match (fo.precision, fo.scale) {
            (Some((precision, _)), Some((scale, span))) => {
                if scale > precision {
                    cx.error_at(span, "`scale` cannot be larger than `precision`");
                    return None;
                }
                ColumnType::Decimal { precision, scale }
            }
            _ => {
                cx.error_at(ident.span(), format!("decimal field `{ident}` needs `precision = N, scale = M` (digits in all, digits after the point)"));
                return None;
            }
        },
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

fn default_mismatch(v: &DefaultValue, ty: &ColumnType) -> Option<String> {
    match (v, ty) {
        (DefaultValue::Expr(_) | DefaultValue::PerDialect(_), _) => None,
        (_, t) if t.is_verbatim() => None,
        (DefaultValue::Bool(_), ColumnType::Boolean) => None,
        (DefaultValue::Bool(_), _) => Some(format!("a boolean default does not fit column type {ty}")),
        (DefaultValue::Number(n), t) if t.is_integer() && n.contains('.') => {
            Some(format!("`{n}` is not an integer, but the column is {t}"))
        }
        (DefaultValue::Number(n), ColumnType::Decimal { precision, scale }) => {
            let (whole, frac) = n.trim_start_matches('-').split_once('.').unwrap_or((n.trim_start_matches('-'), ""));
            let whole_digits = if whole == "0" { 0 } else { whole.len() };
            if frac.len() > *scale as usize || whole_digits + *scale as usize > *precision as usize {
                Some(format!("`{n}` does not fit decimal({precision},{scale}); the database would round or refuse it"))
            } else {
                None
            }
        }
        (DefaultValue::Number(_), t) if t.is_numeric() => None,
        (DefaultValue::Number(_), _) => {
            Some(format!("a number default does not fit column type {ty}; for text write it in quotes"))
        }
        (DefaultValue::Text(_), t) if t.is_numeric() || *t == ColumnType::Boolean => {
            Some(format!("a string default does not fit column type {ty}; write the value without quotes"))
        }
        (DefaultValue::Text(s), ColumnType::Timestamp | ColumnType::TimestampTz | ColumnType::Date) => {
            match crate::civil::DateTimeText::parse(s) {
                Some(t) if *ty == ColumnType::Date && t.has_time => {
                    Some(format!("`{s}` is a date and time, but the column is a date; write `YYYY-MM-DD`"))
                }
                Some(_) => None,
                None => Some(format!(
                    "`{s}` is not a date and time every database reads the same way; write `2024-01-31T09:30:00Z` (RFC 3339), `2024-01-31 09:30:00` or `2024-01-31`"
                )),
            }
        }
        (DefaultValue::Text(_), _) => None,
    }
}

fn is_unsigned_or_odd_int(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            ["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i128", "isize"].iter().any(|n| s.ident == n)
        }),
        _ => false,
    }
}
