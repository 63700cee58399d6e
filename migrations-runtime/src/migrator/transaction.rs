//! One migration in one transaction (PostgreSQL, SQLite): its statements and its
//! history change commit together, or nothing of it is kept.

use std::time::Instant;

use migrations_core::Dialect;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::Applied;

use super::lock_wait::{begin_sql, LockWaits};
use super::units::{precheck, restore_dependents, run_batch, run_unit, saved_dependents, Unit};
use super::Migrator;

/// The history change made in the same transaction as a migration's statements.
pub(super) enum Record<'a> {
    /// Record it as applied (unless another process just did), with the time since it started.
    Insert(&'a Applied, Instant),
    /// Forget it (a rollback).
    Delete(&'a str, &'a str),
}

impl Migrator {
    pub(super) async fn run_statements<C: Connection>(
        &self,
        conn: &mut C,
        key: &str,
        statements: &[Unit],
        state: &str,
    ) -> Result<(), MigrateError> {
        precheck(conn, key, statements).await?;
        // Each statement is a round trip (to the server, or to sqlx's SQLite worker
        // thread). A migration of plain SQL goes in one, inside a savepoint of the
        // transaction it runs in; if it fails, the savepoint is undone and the
        // statements run one by one to say which failed.
        let sql: Vec<&str> = statements
            .iter()
            .filter_map(|u| match u {
                Unit::Sql(s) => Some(s.sql.as_str()),
                _ => None,
            })
            .collect();
        let plain = sql.len() > 1 && statements.iter().all(|u| matches!(u, Unit::Sql(_) | Unit::Check(_)));
        if plain && conn.dialect().transactional_ddl() && run_batch(conn, key, state, sql).await? {
            return Ok(());
        }
        for (k, s) in statements.iter().enumerate() {
            run_unit(conn, s).await.map_err(|source| MigrateError::Statement {
                id: key.to_string(),
                index: k + 1,
                count: statements.len(),
                statement: s.to_string(),
                source: Box::new(source),
                state: state.to_string(),
            })?;
        }
        Ok(())
    }

    /// One migration's statements and its history change in one transaction
    /// (PostgreSQL, SQLite): one commit, all or nothing.
    pub(super) async fn run_in_transaction<C: Connection>(
        &self,
        conn: &mut C,
        key: &str,
        statements: &[Unit],
        rebuild: bool,
        waits: &LockWaits,
        record: Record<'_>,
    ) -> Result<bool, MigrateError> {
        let sqlite = conn.dialect() == Dialect::Sqlite;
        if rebuild {
            // A no-op inside a transaction, so it goes first (see the SQLite table rebuild).
            conn.execute("PRAGMA foreign_keys = OFF").await.map_err(MigrateError::db("turning foreign keys off"))?;
        }
        conn.execute(&begin_sql(conn.dialect(), waits)).await.map_err(MigrateError::db("starting the transaction"))?;
        // SQLite has no run-wide lock: another process may have applied this migration
        // while this one waited for the write lock. Inside the transaction, look again.
        // (Elsewhere the run's lock keeps other runs out.)
        if let (true, Record::Insert(row, _)) = (sqlite, &record) {
            let already = match conn.is_applied(&row.app, &row.id).await {
                Ok(yes) => yes,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(MigrateError::db("reading the history table")(e));
                }
            };
            if already {
                conn.execute("COMMIT").await.map_err(MigrateError::db("committing"))?;
                if rebuild {
                    conn.execute("PRAGMA foreign_keys = ON")
                        .await
                        .map_err(MigrateError::db("turning foreign keys back on"))?;
                }
                return Ok(false);
            }
        }
        // A table rebuild drops the table's triggers and indexes with it: keep what the
        // migration does not re-create, to re-create it.
        let triggers = if rebuild {
            match saved_dependents(conn, statements).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(MigrateError::db("reading the triggers and indexes of a table to rebuild")(e));
                }
            }
        } else {
            Vec::new()
        };
        let mut outcome = self
            .run_statements(
                conn,
                key,
                statements,
                "nothing of this migration was kept; the migrations before it are applied",
            )
            .await;
        if outcome.is_ok() {
            outcome = restore_dependents(conn, key, &triggers).await;
        }
        if outcome.is_ok() && rebuild {
            outcome = match conn.foreign_key_problems().await {
                Ok(p) if p.is_empty() => Ok(()),
                Ok(p) => Err(MigrateError::Usage(format!(
                    "migration {key} breaks foreign keys, so nothing of it was kept: {}",
                    p.join("; ")
                ))),
                Err(e) => Err(MigrateError::db("checking foreign keys")(e)),
            };
        }
        if outcome.is_ok() {
            outcome = match record {
                Record::Insert(row, started) => {
                    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                    conn.insert_applied(&Applied { execution_time_ms: ms, ..row.clone() }).await
                }
                Record::Delete(app, id) => conn.delete_applied(app, id).await,
            }
            .map_err(MigrateError::db("recording the migration"));
        }
        match outcome {
            Ok(()) => conn.execute("COMMIT").await.map_err(MigrateError::db("committing the migration"))?,
            Err(_) => {
                let _ = conn.execute("ROLLBACK").await;
            }
        }
        if rebuild {
            conn.execute("PRAGMA foreign_keys = ON").await.map_err(MigrateError::db("turning foreign keys back on"))?;
        }
        outcome.map(|()| true)
    }
}
