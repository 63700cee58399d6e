//! SQLite `pragma`s and `sqlite_master` → [`LiveSchema`].

use std::collections::BTreeMap;

use sqlx::Row;

use super::{normal_default, LiveColumn, LiveSchema, LiveTable, ReportedForeignKey};
use crate::db::{Conn, TestDb};
use migrations_core::Dialect;

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Names of `CONSTRAINT "name" CHECK` clauses in a table's SQL.
fn check_names(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = sql;
    while let Some(i) = rest.find("CONSTRAINT \"") {
        let after = &rest[i + 12..];
        let mut name = String::new();
        let mut chars = after.char_indices().peekable();
        let mut end = after.len();
        while let Some((j, ch)) = chars.next() {
            if ch == '"' {
                if chars.peek().map(|(_, c)| *c) == Some('"') {
                    name.push('"');
                    chars.next();
                } else {
                    end = j + 1;
                    break;
                }
            } else {
                name.push(ch);
            }
        }
        rest = &after[end..];
        if rest.trim_start().starts_with("CHECK") {
            names.push(name);
        }
    }
    names
}

pub(super) async fn read(db: &mut TestDb) -> LiveSchema {
    let Conn::Lite(conn) = &mut db.conn else { unreachable!("sqlite reader on another backend") };
    let mut out = LiveSchema::new();
    let tables = sqlx::query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .fetch_all(&mut *conn)
        .await
        .expect("tables");
    for t in tables {
        let name: String = t.get(0);
        let sql: String = t.get(1);
        let mut live = LiveTable::default();
        let q = quote(&name);
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in sqlx::query(&format!("PRAGMA table_info({q})")).fetch_all(&mut *conn).await.expect("columns") {
            let col: String = c.get("name");
            let pk_pos: i64 = c.get("pk");
            let ty: String = c.get("type");
            if pk_pos > 0 {
                pk.push((pk_pos, col.clone()));
            }
            let auto = pk_pos > 0 && ty.eq_ignore_ascii_case("integer") && sql.contains("AUTOINCREMENT");
            live.columns.insert(
                col,
                LiveColumn {
                    ty: ty.to_lowercase(),
                    nullable: c.get::<i64, _>("notnull") == 0 && !auto,
                    default: c.get::<Option<String>, _>("dflt_value").and_then(|d| normal_default(&d)),
                    auto_increment: auto,
                    comment: None,
                },
            );
        }
        pk.sort();
        live.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        for i in sqlx::query(&format!("PRAGMA index_list({q})")).fetch_all(&mut *conn).await.expect("index list") {
            let origin: String = i.get("origin");
            if origin == "pk" {
                continue;
            }
            let index_name: String = i.get("name");
            let cols: Vec<String> = sqlx::query(&format!("PRAGMA index_info({})", quote(&index_name)))
                .fetch_all(&mut *conn)
                .await
                .expect("index info")
                .iter()
                .map(|r| r.get::<String, _>("name"))
                .collect();
            live.indexes.insert(index_name, (cols, i.get::<i64, _>("unique") != 0));
        }
        let mut fks: BTreeMap<i64, ReportedForeignKey> = BTreeMap::new();
        let list = format!("PRAGMA foreign_key_list({q})");
        for f in sqlx::query(&list).fetch_all(&mut *conn).await.expect("foreign keys") {
            let e = fks.entry(f.get("id")).or_insert_with(|| ReportedForeignKey {
                ref_table: f.get("table"),
                on_delete: f.get("on_delete"),
                on_update: f.get("on_update"),
                ..ReportedForeignKey::default()
            });
            e.columns.push(f.get("from"));
            e.ref_columns.push(f.get("to"));
        }
        for fk in fks.into_values() {
            live.foreign_keys.insert(fk.definition(), fk.describe(Dialect::Sqlite));
        }
        live.checks = check_names(&sql).into_iter().collect();
        out.insert(name, live);
    }
    out
}
