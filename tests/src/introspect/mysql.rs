//! MySQL / MariaDB `information_schema` → [`LiveSchema`].

use std::collections::BTreeMap;

use sqlx::Row;

use super::{normal_default, LiveColumn, LiveSchema, LiveTable, ReportedForeignKey};
use crate::db::{Conn, TestDb};
use migrations_core::Dialect;

const TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_COMMENT AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";
const COLUMNS: &str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), CAST(COLUMN_COMMENT AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?";
const INDEXES: &str = "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX";
const FOREIGN_KEYS: &str = "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR)
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION";
const CHECKS: &str = "SELECT CAST(CONSTRAINT_NAME AS CHAR) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'CHECK'";

/// MariaDB shows display widths (`bigint(20)`); MySQL 8 does not. Drop them, except
/// `tinyint(1)`, which is how both spell BOOLEAN.
fn normal_type(t: &str) -> String {
    let t = t.to_lowercase();
    for int in ["bigint", "smallint", "int"] {
        if t.starts_with(&format!("{int}(")) {
            return int.to_string();
        }
    }
    t
}

pub(super) async fn read(db: &mut TestDb) -> LiveSchema {
    let Conn::My(conn) = &mut db.conn else { unreachable!("mysql reader on another backend") };
    let mut out = LiveSchema::new();
    for t in sqlx::query(TABLES).fetch_all(&mut *conn).await.expect("tables") {
        let name: String = t.get(0);
        let comment: String = t.get(1);
        let mut live = LiveTable { comment: Some(comment).filter(|c| !c.is_empty()), ..LiveTable::default() };
        for c in sqlx::query(COLUMNS).bind(&name).fetch_all(&mut *conn).await.expect("columns") {
            let extra: String = c.get(4);
            let comment: String = c.get(5);
            live.columns.insert(
                c.get(0),
                LiveColumn {
                    ty: normal_type(&c.get::<String, _>(1)),
                    nullable: c.get::<String, _>(2) == "YES",
                    default: c.get::<Option<String>, _>(3).and_then(|d| normal_default(&d)),
                    auto_increment: extra.to_lowercase().contains("auto_increment"),
                    comment: Some(comment).filter(|c| !c.is_empty()),
                },
            );
        }
        let mut indexes: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
        for i in sqlx::query(INDEXES).bind(&name).fetch_all(&mut *conn).await.expect("indexes") {
            let entry = indexes.entry(i.get(0)).or_insert_with(|| (Vec::new(), i.get::<i64, _>(1) == 0));
            entry.0.push(i.get(2));
        }
        if let Some((pk, _)) = indexes.remove("PRIMARY") {
            live.primary_key = pk;
        }
        live.indexes = indexes;
        let mut fks: BTreeMap<String, ReportedForeignKey> = BTreeMap::new();
        for f in sqlx::query(FOREIGN_KEYS).bind(&name).fetch_all(&mut *conn).await.expect("foreign keys") {
            let e = fks.entry(f.get(0)).or_insert_with(|| ReportedForeignKey {
                ref_table: f.get(2),
                on_delete: f.get(4),
                on_update: f.get(5),
                ..ReportedForeignKey::default()
            });
            e.columns.push(f.get(1));
            e.ref_columns.push(f.get(3));
        }
        for (fk_name, fk) in fks {
            live.foreign_keys.insert(fk_name, fk.describe(Dialect::MySql));
        }
        for c in sqlx::query(CHECKS).bind(&name).fetch_all(&mut *conn).await.expect("checks") {
            live.checks.insert(c.get(0));
        }
        out.insert(name, live);
    }
    out
}
