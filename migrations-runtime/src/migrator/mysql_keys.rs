//! MySQL/MariaDB: a foreign key added to a table that holds rows, without copying it.
//!
//! InnoDB adds a foreign key in place (writes go on) only while `foreign_key_checks` is
//! off, and then does not check the rows already there. So the runtime turns the setting
//! off for that one statement (and puts it back whatever happens: the session may be
//! the application's), then looks for a row that references nothing itself. If it finds
//! one, it drops the key again (and the index InnoDB made for it) and fails, naming the
//! row: the table is left as it was, and the next run, after the row is fixed, adds the
//! key again. A row written while the key was being added is checked by its writer's
//! session, which has checks on.

use std::borrow::Cow;

use migrations_core::dialect::quote_str;
use migrations_core::render::live::UncheckedKey;
use migrations_core::Dialect;

use crate::backend::Connection;

/// Adds the key with `sql`, checks the rows, and undoes it if one references nothing.
pub(super) async fn add_unchecked<C: Connection>(
    conn: &mut C,
    sql: &str,
    key: &UncheckedKey,
) -> Result<(), sqlx::Error> {
    let index_was_there = has_index_named(conn, key).await?;
    let was = conn.query_text("SELECT CAST(@@SESSION.foreign_key_checks AS CHAR)").await?;
    // (MySQL says `1`/`0`, MariaDB `ON`/`OFF`.)
    let off = was.first().is_some_and(|v| v == "0" || v.eq_ignore_ascii_case("off"));
    let was = if off { 0 } else { 1 };
    conn.execute("SET SESSION foreign_key_checks = 0").await?;
    let added = conn.execute(sql).await;
    let restored = conn.execute(&format!("SET SESSION foreign_key_checks = {was}")).await;
    match added {
        // Added by a run killed before it recorded the statement: its rows are checked
        // all the same.
        Err(e) if !conn.already_done(&e) => return Err(e),
        _ => restored?,
    }
    let Some(row) = conn.query_text(&key.orphan).await?.into_iter().next() else { return Ok(()) };
    let q = |name: &str| Dialect::MySql.quote(name);
    conn.execute(&format!("ALTER TABLE {} DROP FOREIGN KEY {}", q(&key.table), q(&key.name))).await?;
    if !index_was_there && has_index_named(conn, key).await? {
        conn.execute(&format!("ALTER TABLE {} DROP INDEX {}", q(&key.table), q(&key.name))).await?;
    }
    let (columns, ref_columns) = (key.columns.join(", "), key.ref_columns.join(", "));
    Err(sqlx::Error::Database(Box::new(RowWithoutParent {
        message: format!(
            "a row of {table} has ({columns}) = ({row}), and no row of {ref} has ({ref_columns}) = ({row}). The foreign key {name} was added without copying the table, its rows checked, and the key dropped again: the table is as it was. Fix or delete the rows of {table} that reference nothing, then run again",
            table = key.table,
            ref = key.ref_table,
            name = key.name,
        ),
    })))
}

/// Whether `key`'s table has an index by the key's name (InnoDB names the index it makes
/// for a key that has none after the key).
async fn has_index_named<C: Connection>(conn: &mut C, key: &UncheckedKey) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {} AND INDEX_NAME = {} LIMIT 1",
        quote_str(Dialect::MySql, &key.table),
        quote_str(Dialect::MySql, &key.name)
    );
    Ok(!conn.query_text(&sql).await?.is_empty())
}

/// A row found that a foreign key being added does not hold for: what MySQL says with
/// error 1452 when it checks the rows itself.
#[derive(Debug)]
struct RowWithoutParent {
    message: String,
}

impl std::fmt::Display for RowWithoutParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RowWithoutParent {}

impl sqlx::error::DatabaseError for RowWithoutParent {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("23000"))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::ForeignKeyViolation
    }
}
