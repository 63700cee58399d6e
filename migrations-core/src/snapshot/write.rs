//! Writing the canonical snapshot text.

use std::fmt::Write;

use super::FORMAT_VERSION;
use crate::schema::{Column, ColumnType, DefaultValue, FkAction, Schema, Table};

/// Appends `text` as a TOML string literal. Names and types are almost always plain
/// printable ASCII, which needs no escaping and is written directly (the TOML writer is
/// by far the slowest part of this in an unoptimised build script); anything else is
/// left to it.
fn lit(out: &mut String, text: &str) {
    // A plain loop: an iterator adapter with a closure costs several calls a byte at
    // opt-level 0, where build scripts run.
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() && matches!(bytes[i], b' '..=b'~') && !matches!(bytes[i], b'"' | b'\\' | b'\'') {
        i += 1;
    }
    if i == bytes.len() {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&toml::Value::String(text.to_string()).to_string());
    }
}

/// Appends `, key = "text"`.
fn field(out: &mut String, key: &str, text: &str) {
    out.push_str(", ");
    out.push_str(key);
    out.push_str(" = ");
    lit(out, text);
}

/// Appends `, key = ["a", "b"]`.
fn list_field(out: &mut String, key: &str, items: &[String]) {
    out.push_str(", ");
    out.push_str(key);
    out.push_str(" = [");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        lit(out, item);
    }
    out.push(']');
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(out: &mut String, k: &str) {
    if !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
        out.push_str(k);
    } else {
        lit(out, k);
    }
}

fn default_value(out: &mut String, v: &DefaultValue) {
    let (kind, text) = match v {
        DefaultValue::Bool(b) => {
            out.push_str(if *b { ", default = { bool = true }" } else { ", default = { bool = false }" });
            return;
        }
        DefaultValue::Number(n) => ("number", n),
        DefaultValue::Text(t) => ("text", t),
        DefaultValue::Expr(e) => ("expr", e),
        DefaultValue::PerDialect(spellings) => {
            out.push_str(", default = { dialects = { ");
            for (i, (dialect, sql)) in spellings.spellings().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(dialect.as_str());
                out.push_str(" = ");
                lit(out, sql);
            }
            out.push_str(" } }");
            return;
        }
    };
    out.push_str(", default = { ");
    out.push_str(kind);
    out.push_str(" = ");
    lit(out, text);
    out.push_str(" }");
}

fn column(out: &mut String, c: &Column) {
    out.push_str("name = ");
    lit(out, &c.name);
    match &c.ty {
        // The portable names are plain ASCII: written as they are, without a copy, and
        // most without the formatting machinery.
        ColumnType::Custom(_) | ColumnType::PerDialect(_) | ColumnType::Enum(_) => {
            field(out, "type", &c.ty.to_string())
        }
        ty => match ty.plain_name() {
            Some(name) => {
                out.push_str(", type = \"");
                out.push_str(name);
                out.push('"');
            }
            None => {
                let _ = write!(out, ", type = \"{ty}\"");
            }
        },
    }
    if c.nullable {
        out.push_str(", nullable = true");
    }
    if let Some(d) = &c.default {
        default_value(out, d);
    }
    if c.auto_increment {
        out.push_str(", auto_increment = true");
    }
    if c.auto_increment && c.serial {
        out.push_str(", serial = true");
    }
    if let Some(comment) = &c.comment {
        field(out, "comment", comment);
    }
}

/// Appends `name = [ { item }, … ]`, one inline table per line; nothing when empty.
fn section<T>(out: &mut String, name: &str, items: &[T], write: impl Fn(&mut String, &T)) {
    if items.is_empty() {
        return;
    }
    out.push_str(name);
    out.push_str(" = [\n");
    for item in items {
        out.push_str("    { ");
        write(out, item);
        out.push_str(" },\n");
    }
    out.push_str("]\n");
}

fn named(out: &mut String, explicit: bool) {
    if explicit {
        out.push_str(", named = true");
    }
}

pub(crate) fn table(out: &mut String, t: &Table) {
    out.push_str("\n[tables.");
    key(out, &t.name);
    out.push_str("]\n");
    if let Some(c) = &t.comment {
        out.push_str("comment = ");
        lit(out, c);
        out.push('\n');
    }
    if !t.primary_key.is_empty() {
        // `list_field` writes a leading ", ", which a top-level key has no use for.
        let mut line = String::new();
        list_field(&mut line, "primary_key", &t.primary_key);
        out.push_str(&line[2..]);
        out.push('\n');
    }
    if let Some(name) = &t.primary_key_name {
        out.push_str("primary_key_name = ");
        lit(out, name);
        out.push('\n');
    }
    section(out, "columns", &t.columns, column);
    section(out, "uniques", &t.uniques, |out, u| {
        out.push_str("name = ");
        lit(out, &u.name);
        list_field(out, "columns", &u.columns);
        named(out, u.explicit_name);
    });
    section(out, "checks", &t.checks, |out, c| {
        out.push_str("name = ");
        lit(out, &c.name);
        field(out, "expr", &c.expr);
        if c.not_valid {
            out.push_str(", not_valid = true");
        }
    });
    section(out, "foreign_keys", &t.foreign_keys, |out, f| {
        out.push_str("name = ");
        lit(out, &f.name);
        list_field(out, "columns", &f.columns);
        field(out, "references", &f.ref_table);
        list_field(out, "ref_columns", &f.ref_columns);
        if f.on_delete != FkAction::NoAction {
            field(out, "on_delete", f.on_delete.as_str());
        }
        if f.on_update != FkAction::NoAction {
            field(out, "on_update", f.on_update.as_str());
        }
        if f.deferrable != crate::schema::Deferrable::No {
            field(out, "deferrable", f.deferrable.as_str());
        }
        if f.not_valid {
            out.push_str(", not_valid = true");
        }
        named(out, f.explicit_name);
    });
    section(out, "indexes", &t.indexes, |out, i| {
        out.push_str("name = ");
        lit(out, &i.name);
        list_field(out, "columns", &i.columns);
        if i.unique {
            out.push_str(", unique = true");
        }
        if i.method != crate::schema::IndexMethod::Btree {
            field(out, "method", i.method.as_str());
        }
        // Per key, in the order of `columns`; "" for a key's default.
        if i.keys.iter().any(|k| k.descending || k.nulls_first.is_some()) {
            list_field(out, "order", &i.keys.iter().map(crate::schema::KeyOptions::order_str).collect::<Vec<_>>());
        }
        if i.keys.iter().any(|k| k.opclass.is_some()) {
            let opclasses: Vec<String> = i.keys.iter().map(|k| k.opclass.clone().unwrap_or_default()).collect();
            list_field(out, "opclasses", &opclasses);
        }
        if !i.include.is_empty() {
            list_field(out, "include", &i.include);
        }
        if let Some(p) = &i.predicate {
            field(out, "where", p);
        }
        named(out, i.explicit_name);
    });
}

pub(crate) fn header() -> String {
    format!(
        "# @generated by migrations-build: the schema as of the newest sealed migration.\n# Do not edit by hand; it is rewritten when a migration is sealed.\nversion = {FORMAT_VERSION}\n"
    )
}

/// The canonical snapshot text of `schema`.
pub fn to_toml(schema: &Schema) -> String {
    let mut out = header();
    out.reserve(schema.tables.len() * 1024);
    for t in schema.tables.values() {
        table(&mut out, t);
    }
    for v in schema.views.values() {
        out.push_str("\n[views.");
        key(&mut out, &v.name);
        out.push_str("]\nsql = ");
        lit(&mut out, &v.sql);
        out.push_str("\nreads = [");
        for (i, r) in v.reads.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            lit(&mut out, r);
        }
        out.push_str("]\n");
        if v.materialized {
            out.push_str("materialized = true\n");
        }
    }
    for r in schema.raw.values() {
        out.push_str("\n[raw.");
        key(&mut out, &r.key());
        out.push_str("]\nkind = ");
        lit(&mut out, &r.kind);
        out.push_str("\nname = ");
        lit(&mut out, &r.name);
        if let Some(t) = &r.table {
            out.push_str("\ntable = ");
            lit(&mut out, t);
        }
        let mut each = |name: &str, sql: &crate::schema::CreateDrop| {
            out.push('\n');
            out.push_str(name);
            out.push_str(" = { create = ");
            lit(&mut out, &sql.create);
            out.push_str(", drop = ");
            lit(&mut out, &sql.drop);
            out.push_str(" }");
        };
        if let Some(sql) = &r.sql {
            each("sql", sql);
        }
        for (d, sql) in &r.per_dialect {
            each(&format!("per_dialect.{d}"), sql);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_strings_are_written_as_the_toml_writer_would() {
        for text in ["", "id", "varchar(100)", "a b", "x-y_z.1", "now()", "{}[]#=,;:!?", "~`@$%^&*+<>|/"] {
            let mut out = String::new();
            super::lit(&mut out, text);
            assert_eq!(out, toml::Value::String(text.to_string()).to_string(), "{text:?}");
        }
        // Everything else still goes through the TOML writer.
        for text in ["it's", "say \"hi\"", "back\\slash", "tab\there", "line\nbreak", "é", "\u{0}"] {
            let mut out = String::new();
            super::lit(&mut out, text);
            assert_eq!(out, toml::Value::String(text.to_string()).to_string(), "{text:?}");
        }
    }
}
