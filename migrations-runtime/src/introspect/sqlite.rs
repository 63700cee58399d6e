//! SQLite's `sqlite_schema` and `pragma_*` functions → [`Inspected`].

use std::collections::BTreeMap;

use migrations_core::catalog::{column_type, default_value};
use migrations_core::dialect::quote_str;
use migrations_core::schema::{
    names, parse_quoted_list, Check, Column, ColumnType, Deferrable, EnumType, FkAction, ForeignKey, Index, KeyOptions,
    Table, Unique,
};
use migrations_core::Dialect;

use super::{generated_unique_name, list, opt, text, yes, InspectOptions, Inspected, RawKind, RawObject};
use crate::backend::Connection;

const D: Dialect = Dialect::Sqlite;

pub(super) async fn read<C: Connection>(conn: &mut C, options: &InspectOptions) -> Result<Inspected, sqlx::Error> {
    let mut out = Inspected::default();
    let objects = conn
        .query_rows(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .await?;
    for row in objects.iter().filter(|r| text(r, 0) == "table" && options.wants(&text(r, 1))) {
        let table = read_table(conn, &text(row, 1), &text(row, 3), &mut out.objects).await?;
        out.schema.tables.insert(table.name.clone(), table);
    }
    for row in &objects {
        let kind = match text(row, 0).as_str() {
            "view" => RawKind::View,
            "trigger" => RawKind::Trigger,
            _ => continue,
        };
        let table = Some(text(row, 2)).filter(|t| kind == RawKind::Trigger && !t.is_empty());
        out.objects.push(RawObject { kind, name: text(row, 1), table, create: text(row, 3) });
    }
    Ok(out)
}

async fn read_table<C: Connection>(
    conn: &mut C,
    name: &str,
    sql: &str,
    raw: &mut Vec<RawObject>,
) -> Result<Table, sqlx::Error> {
    let mut table = Table::new(name);
    let t = quote_str(D, name);
    let rows = conn
        .query_rows(&format!(
            "SELECT name, type, CAST(\"notnull\" AS TEXT), dflt_value, CAST(pk AS TEXT) FROM pragma_table_info({t}) ORDER BY cid"
        ))
        .await?;
    let mut key: Vec<(i64, String)> = Vec::new();
    let autoincrement = sql.to_ascii_uppercase().contains("AUTOINCREMENT");
    for row in &rows {
        let position: i64 = text(row, 4).parse().unwrap_or(0);
        if position > 0 {
            key.push((position, text(row, 0)));
        }
        let declared = text(row, 1);
        // The rowid key: a 64-bit integer whatever the declared width.
        let rowid = position > 0 && autoincrement && declared.eq_ignore_ascii_case("integer");
        let ty = if rowid { ColumnType::BigInt } else { column_type(&declared, D) };
        // An enumerated type: text with a CHECK of its list on the column. Text compared
        // without case: `COLLATE NOCASE` right after the type (which the pragma leaves out).
        let ty = match enum_check(sql, &text(row, 0)) {
            Some(values) if ty == ColumnType::Text => ColumnType::Enum(EnumType { name: String::new(), values }),
            _ if ty == ColumnType::Text && sql.contains(&format!("{} TEXT COLLATE NOCASE", D.quote(&text(row, 0)))) => {
                ColumnType::CiText
            }
            _ => ty,
        };
        table.columns.push(Column {
            name: text(row, 0),
            default: opt(row, 3).and_then(|d| default_value(&d, &ty, D)),
            ty,
            // A key column is NOT NULL to every other database and to the models; SQLite,
            // for old times' sake, lets a key not declared NOT NULL hold NULLs.
            nullable: !yes(row, 2) && position == 0,
            auto_increment: rowid,
            serial: false,
            comment: None,
        });
    }
    key.sort();
    table.primary_key = key.into_iter().map(|(_, c)| c).collect();
    let indexes = conn
        .query_rows(&format!(
            "SELECT l.name, CAST(l.\"unique\" AS TEXT), l.origin, CAST(l.partial AS TEXT), m.sql,
                    (SELECT group_concat(x.cid || char(30) || COALESCE(x.name, '') || char(30) || x.\"desc\" || char(30) || x.coll, char(31))
                     FROM pragma_index_xinfo(l.name) x WHERE x.key)
             FROM pragma_index_list({t}) l LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name ORDER BY l.name"
        ))
        .await?;
    for row in indexes {
        let (index, origin) = (text(&row, 0), text(&row, 2));
        let nocase: Vec<String> =
            table.columns.iter().filter(|c| c.ty == ColumnType::CiText).map(|c| c.name.clone()).collect();
        let read = index_of(name, &index, yes(&row, 1), &text(&row, 4), &list(&row, 5), &nocase);
        match (origin.as_str(), read) {
            ("pk", _) => {}
            // `UNIQUE (a, b)` in the table's SQL: an automatic index without a name of its own.
            ("u", Some(i)) => table.uniques.push(Unique {
                name: names::unique(name, &i.columns),
                columns: i.columns,
                explicit_name: false,
            }),
            (_, None) => raw.push(RawObject {
                kind: RawKind::Index,
                name: index,
                table: Some(name.into()),
                create: text(&row, 4),
            }),
            (_, Some(i)) if i.unique && i.is_plain() => {
                let explicit_name = !generated_unique_name(&index, name, &i.columns);
                table.uniques.push(Unique { name: index, columns: i.columns, explicit_name });
            }
            (_, Some(i)) => table.indexes.push(i),
        }
    }
    let fks = conn
        .query_rows(&format!(
            "SELECT CAST(id AS TEXT), \"from\", \"table\", \"to\", on_delete, on_update FROM pragma_foreign_key_list({t}) ORDER BY id, seq"
        ))
        .await?;
    let mut by_id: BTreeMap<String, ForeignKey> = BTreeMap::new();
    for row in fks {
        let action = |i| FkAction::parse(&text(&row, i)).unwrap_or_default();
        let fk = by_id.entry(text(&row, 0)).or_insert_with(|| ForeignKey {
            name: String::new(),
            columns: Vec::new(),
            ref_table: text(&row, 2),
            ref_columns: Vec::new(),
            on_delete: action(4),
            on_update: action(5),
            // (Not reported; `catalog::as_seen` leaves it out on SQLite.)
            deferrable: Deferrable::No,
            not_valid: false,
            explicit_name: false,
        });
        fk.columns.push(text(&row, 1));
        fk.ref_columns.push(text(&row, 3));
    }
    for mut fk in by_id.into_values() {
        // SQLite does not report a foreign key's name.
        fk.name = names::foreign_key(name, &fk.columns, &fk.ref_table);
        table.foreign_keys.push(fk);
    }
    table.checks = named_checks(sql);
    Ok(table)
}

/// The list of a column's `CHECK ("column" IN ('a', 'b'))` in a table's SQL: what an
/// enumerated type is on SQLite.
fn enum_check(sql: &str, column: &str) -> Option<Vec<String>> {
    let start = format!("CHECK ({} IN (", D.quote(column));
    let rest = &sql[sql.find(&start)? + start.len()..];
    // The list ends at the first `)` outside a quoted value.
    let mut quoted = false;
    let end = rest.char_indices().find_map(|(i, c)| match c {
        '\'' => {
            quoted = !quoted;
            None
        }
        ')' if !quoted => Some(i),
        _ => None,
    })?;
    rest[end..].starts_with("))").then_some(())?;
    parse_quoted_list(&rest[..end])
}

/// The `CONSTRAINT "name" CHECK (expr)` clauses of a table's SQL.
fn named_checks(sql: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut rest = sql;
    while let Some(i) = rest.find("CONSTRAINT ") {
        rest = &rest[i + "CONSTRAINT ".len()..];
        let Some((name, after)) = identifier(rest) else { continue };
        let after = after.trim_start();
        let Some(body) = after.strip_prefix("CHECK").map(str::trim_start).and_then(|b| b.strip_prefix('(')) else {
            continue;
        };
        let (mut depth, mut quoted, mut end) = (1, false, None);
        for (j, c) in body.char_indices() {
            match c {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        checks.push(Check { name, expr: body[..end].trim().to_string(), not_valid: false });
        rest = &body[end..];
    }
    checks
}

/// A quoted (`"a ""b"""`) or bare identifier at the start of `s`, and what follows it.
fn identifier(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((j, c)) = chars.next() {
            if c == '"' {
                if chars.peek().map(|(_, c)| *c) == Some('"') {
                    name.push('"');
                    chars.next();
                } else {
                    return Some((name, &body[j + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_string(), &s[end..]))
}

/// The index `name` on `table` from its keys as `pragma_index_xinfo` lists them
/// (`cid`, column, descending, collation) and, for expressions and a `WHERE`, its SQL;
/// `None` when the IR cannot hold it (a collation of its own).
///
/// A key on a `citext` column (among `nocase`) has that column's `NOCASE` collation.
fn index_of(table: &str, name: &str, unique: bool, sql: &str, keys: &[String], nocase: &[String]) -> Option<Index> {
    let written = (!sql.is_empty()).then(|| index_parts(sql)).flatten();
    let mut index = Index { name: name.to_string(), unique, ..Index::default() };
    let mut options = Vec::new();
    for (position, key) in keys.iter().enumerate() {
        let [cid, column, desc, collation] = key.split('\u{1e}').collect::<Vec<_>>()[..] else { return None };
        let own = if nocase.iter().any(|c| c == column) { "NOCASE" } else { "BINARY" };
        if !collation.eq_ignore_ascii_case(own) {
            return None;
        }
        let key = if cid == "-2" {
            // An expression: its text as written, in the parentheses that mark one.
            let written = written.as_ref()?.0.get(position)?;
            let text = strip_order(written);
            if text.starts_with('(') && text.ends_with(')') {
                text.to_string()
            } else {
                format!("({text})")
            }
        } else {
            column.to_string()
        };
        options.push((key.clone(), desc == "1"));
        index.columns.push(key);
    }
    for (key, descending) in options.into_iter().filter(|(_, d)| *d) {
        index.set_key(&key, KeyOptions { descending, ..KeyOptions::default() });
    }
    index.predicate = written.and_then(|(_, predicate)| predicate);
    index.explicit_name = name != names::index(table, &index.columns, unique);
    index.expressible().then_some(index)
}

/// A key as written without its `ASC` / `DESC`.
fn strip_order(key: &str) -> &str {
    let key = key.trim();
    for suffix in [" ASC", " DESC", " asc", " desc"] {
        if let Some(k) = key.strip_suffix(suffix) {
            return k.trim_end();
        }
    }
    key
}

/// The keys and the `WHERE` condition of a `CREATE INDEX` statement, read with quotes
/// and nesting respected.
fn index_parts(sql: &str) -> Option<(Vec<String>, Option<String>)> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let (mut keys, mut current, mut end) = (Vec::new(), String::new(), None);
    for (i, c) in sql.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q || (q == '[' && c == ']') => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`' | '[') => quote = Some(c),
            (None, '(') => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    keys.push(current.trim().to_string());
                    end = Some(i + 1);
                    break;
                }
            }
            (None, ',') if depth == 1 => {
                keys.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        if depth >= 1 {
            current.push(c);
        }
    }
    let rest = sql[end?..].trim();
    let predicate = match rest.get(..5) {
        Some(w) if w.eq_ignore_ascii_case("WHERE") => Some(rest[5..].trim().to_string()),
        _ => None,
    };
    Some((keys, predicate))
}
