//! PostgreSQL catalog → [`LiveSchema`].

use sqlx::Row;

use super::{fk_definition, normal_action, normal_default, LiveColumn, LiveSchema, LiveTable};
use crate::db::{Conn, TestDb};
use migrations_core::Dialect;

const TABLES: &str = "SELECT c.relname::text, obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'";

const COLUMNS: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, col_description(a.attrelid, a.attnum)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped";

const INDEXES: &str = "SELECT i.relname::text, ix.indisunique, ix.indisprimary,
  (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum)
FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND t.relname = $1";

const CONSTRAINTS: &str = "SELECT con.conname::text, con.contype::text,
  (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
  ref.relname::text,
  (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum),
  con.confdeltype::text, con.confupdtype::text
FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE n.nspname = current_schema() AND rel.relname = $1 AND con.contype IN ('f', 'c')";

fn action(code: &str) -> String {
    let word = match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "no action",
    };
    normal_action(word, Dialect::Postgres)
}

pub(super) async fn read(db: &mut TestDb) -> LiveSchema {
    let Conn::Pg(conn) = &mut db.conn else { unreachable!("postgres reader on another backend") };
    let mut out = LiveSchema::new();
    let tables = sqlx::query(TABLES).fetch_all(&mut *conn).await.expect("tables");
    for t in tables {
        let name: String = t.get(0);
        let mut live = LiveTable { comment: t.get(1), ..LiveTable::default() };
        for c in sqlx::query(COLUMNS).bind(&name).fetch_all(&mut *conn).await.expect("columns") {
            let identity: String = c.get(4);
            live.columns.insert(
                c.get(0),
                LiveColumn {
                    ty: c.get::<String, _>(1).to_lowercase(),
                    nullable: c.get(2),
                    default: c.get::<Option<String>, _>(3).and_then(|d| normal_default(&d)),
                    auto_increment: !identity.is_empty(),
                    comment: c.get(5),
                },
            );
        }
        for i in sqlx::query(INDEXES).bind(&name).fetch_all(&mut *conn).await.expect("indexes") {
            let cols: Vec<String> = i.get(3);
            if i.get::<bool, _>(2) {
                live.primary_key = cols;
            } else {
                live.indexes.insert(i.get(0), (cols, i.get(1)));
            }
        }
        for c in sqlx::query(CONSTRAINTS).bind(&name).fetch_all(&mut *conn).await.expect("constraints") {
            let con_name: String = c.get(0);
            if c.get::<String, _>(1) == "c" {
                live.checks.insert(con_name);
                continue;
            }
            let cols: Vec<String> = c.get(2);
            let ref_table: String = c.get(3);
            let ref_cols: Vec<String> = c.get(4);
            let desc = format!(
                "{} on delete {} on update {}",
                fk_definition(&cols, &ref_table, &ref_cols),
                action(&c.get::<String, _>(5)),
                action(&c.get::<String, _>(6))
            );
            live.foreign_keys.insert(con_name, desc);
        }
        out.insert(name, live);
    }
    out
}
