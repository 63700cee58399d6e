//! A struct's own `#[model(...)]` options (`table`, `comment`, `unique(...)`,
//! `check(...)`, `primary_key(...)`, `foreign_key(...)` and `index(...)`), read with
//! every error at its span; `attr.rs` resolves them against the fields.

use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit};

use super::ctxt::Ctxt;
use super::options::{expect_str, lit_str, path_name, read_opts, ListItem, OptValue, Seen};
use crate::schema::{Deferrable, FkAction};

pub(super) const STRUCT_OPTIONS: &str =
    "table, renamed_from, comment, index(...), unique(...), check(name = \"...\", expr = \"...\"), primary_key(..., name = \"...\"), foreign_key(a, b, references = \"table(x, y)\")";

/// Options of the struct, interpreted.
#[derive(Default)]
pub(super) struct StructOpts {
    pub(super) table: Option<String>,
    pub(super) renamed_from: Option<String>,
    pub(super) comment: Option<String>,
    pub(super) uniques: Vec<(Vec<syn::Path>, Option<String>, Span)>,
    pub(super) indexes: Vec<super::index::IndexDecl>,
    /// Name, expression, `not_valid`, span.
    pub(super) checks: Vec<(String, String, bool, Span)>,
    pub(super) primary_key: Option<(Vec<syn::Path>, Option<String>, Span)>,
    pub(super) foreign_keys: Vec<StructForeignKey>,
}

/// A struct-level `foreign_key(...)` as written: the fields, and what they reference.
pub(super) struct StructForeignKey {
    pub(super) fields: Vec<syn::Path>,
    pub(super) table: String,
    pub(super) ref_columns: Vec<String>,
    pub(super) on_delete: FkAction,
    pub(super) on_update: FkAction,
    pub(super) name: Option<String>,
    pub(super) index: bool,
    pub(super) deferrable: Deferrable,
    pub(super) not_valid: bool,
    pub(super) span: Span,
}

/// What `deferrable = ...` takes.
pub(super) const DEFERRABLE_VALUES: &str =
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

pub(super) fn parse_struct_opts(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> StructOpts {
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
