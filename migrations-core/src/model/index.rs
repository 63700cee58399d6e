//! A struct's `#[model(index(...))]`: keys (fields and expressions), order, operator
//! classes, method, `include`, `where`, `unique` and `name`, read with every error at
//! its span and then resolved against the struct's fields.

use proc_macro2::Span;
use syn::Expr;

use super::ctxt::Ctxt;
use super::options::{lit_str, path_name, ListItem};
use crate::schema::{names, Index, IndexMethod, KeyOptions};

/// What `index(...)` on a struct says, before its fields are columns.
pub(super) struct IndexDecl {
    keys: Vec<Key>,
    name: Option<String>,
    unique: bool,
    method: IndexMethod,
    /// Per key field: its order and operator class.
    options: Vec<(syn::Path, KeyOptions)>,
    include: Vec<syn::Path>,
    predicate: Option<String>,
    pub(super) span: Span,
}

enum Key {
    Field(syn::Path),
    Expr(String),
}

const ITEMS: &str = "fields, then expr = \"...\", name = \"...\", unique, method = \"...\", order(field = \"desc\"), opclass(field = \"...\"), include(fields), where = \"...\"";

/// Reads `index(...)`'s items; `None` when it cannot be made into an index.
pub(super) fn parse(cx: &mut Ctxt, items: &[ListItem], span: Span) -> Option<IndexDecl> {
    let mut d = IndexDecl {
        keys: Vec::new(),
        name: None,
        unique: false,
        method: IndexMethod::Btree,
        options: Vec::new(),
        include: Vec::new(),
        predicate: None,
        span,
    };
    let string = |cx: &mut Ctxt, v: &Expr, what: &str| {
        let s = lit_str(v).filter(|s| !s.trim().is_empty());
        if s.is_none() {
            cx.error_spanned_by(v, format!("`{what}` expects a string literal that is not empty"));
        }
        s
    };
    for item in items {
        match item {
            ListItem::Word(p) if p.is_ident("unique") => d.unique = true,
            ListItem::Word(p) => d.keys.push(Key::Field(p.clone())),
            ListItem::KeyValue(k, v) if k.is_ident("expr") => {
                if let Some(e) = string(cx, v, "expr") {
                    d.keys.push(Key::Expr(e.trim().to_string()));
                }
            }
            ListItem::KeyValue(k, v) if k.is_ident("name") => d.name = string(cx, v, "name"),
            ListItem::KeyValue(k, v) if k.is_ident("where") => d.predicate = string(cx, v, "where"),
            ListItem::KeyValue(k, v) if k.is_ident("method") => {
                match lit_str(v).as_deref().and_then(IndexMethod::parse) {
                    Some(m) => d.method = m,
                    None => cx.error_spanned_by(
                        v,
                        "`method` expects one of \"btree\", \"hash\", \"gin\", \"gist\", \"brin\", \"spgist\"",
                    ),
                }
            }
            ListItem::List(k, fields) if k.is_ident("include") => {
                for f in fields {
                    match f {
                        ListItem::Word(p) => d.include.push(p.clone()),
                        ListItem::KeyValue(p, _) | ListItem::List(p, _) => {
                            cx.error_spanned_by(p, "`include(...)` lists fields: `include(title, created_at)`");
                        }
                    }
                }
            }
            ListItem::List(k, fields) if k.is_ident("order") || k.is_ident("opclass") => {
                let order = k.is_ident("order");
                for f in fields {
                    let ListItem::KeyValue(field, v) = f else {
                        let example = if order {
                            "order(created_at = \"desc nulls last\")"
                        } else {
                            "opclass(title = \"gin_trgm_ops\")"
                        };
                        let p = match f {
                            ListItem::Word(p) | ListItem::KeyValue(p, _) | ListItem::List(p, _) => p,
                        };
                        cx.error_spanned_by(p, format!("give each key field its value: `{example}`"));
                        continue;
                    };
                    let entry = match d.options.iter().position(|(p, _)| p == field) {
                        Some(i) => i,
                        None => {
                            d.options.push((field.clone(), KeyOptions::default()));
                            d.options.len() - 1
                        }
                    };
                    let value = lit_str(v);
                    if order {
                        match value.as_deref().and_then(KeyOptions::parse_order) {
                            Some(o) => {
                                let k = &mut d.options[entry].1;
                                (k.descending, k.nulls_first) = (o.descending, o.nulls_first);
                            }
                            None => cx.error_spanned_by(v, "an order is \"asc\" or \"desc\", optionally followed by \"nulls first\" or \"nulls last\""),
                        }
                    } else {
                        match value
                            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.'))
                        {
                            Some(o) => d.options[entry].1.opclass = Some(o),
                            None => cx.error_spanned_by(
                                v,
                                "`opclass` expects the name of an operator class, such as \"gin_trgm_ops\"",
                            ),
                        }
                    }
                }
            }
            ListItem::KeyValue(p, _) | ListItem::List(p, _) => {
                cx.error_spanned_by(p, format!("unexpected `{}` in `index(...)`; expected {ITEMS}", path_name(p)));
            }
        }
    }
    if d.keys.is_empty() {
        cx.error_at(span, "`index(...)` needs at least one key: a field, or `expr = \"lower(email)\"`");
        return None;
    }
    Some(d)
}

/// The index `d` declares on `table`, with `column` giving the column of a field (and
/// recording the error when there is none).
pub(super) fn resolve(
    cx: &mut Ctxt,
    d: &IndexDecl,
    table: &str,
    mut column: impl FnMut(&mut Ctxt, &syn::Path) -> Option<String>,
) -> Option<Index> {
    let mut columns = Vec::new();
    for key in &d.keys {
        match key {
            Key::Field(p) => {
                let c = column(cx, p)?;
                if columns.contains(&c) {
                    cx.error_spanned_by(p, format!("field `{}` is listed twice", path_name(p)));
                    return None;
                }
                columns.push(c);
            }
            // Parentheses make it an expression, and are what PostgreSQL needs around one.
            Key::Expr(e) => columns.push(format!("({e})")),
        }
    }
    let mut include = Vec::new();
    for p in &d.include {
        let c = column(cx, p)?;
        if columns.contains(&c) {
            cx.error_spanned_by(p, format!("field `{}` is already a key of this index", path_name(p)));
            return None;
        }
        include.push(c);
    }
    let (name, explicit_name) = match &d.name {
        Some(n) => (n.clone(), true),
        None => (names::index(table, &columns, d.unique), false),
    };
    let mut index = Index {
        name,
        columns,
        unique: d.unique,
        explicit_name,
        method: d.method,
        keys: Vec::new(),
        include,
        predicate: d.predicate.clone(),
    };
    for (p, options) in &d.options {
        let c = column(cx, p)?;
        if !index.columns.contains(&c) {
            cx.error_spanned_by(p, format!("field `{}` is not a key of this index: list it first", path_name(p)));
            return None;
        }
        index.set_key(&c, options.clone());
    }
    Some(index)
}
