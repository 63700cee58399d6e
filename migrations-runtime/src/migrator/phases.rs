//! A migration in phases (PostgreSQL): groups of statements that commit together, and
//! statements that run outside a transaction (`CREATE INDEX CONCURRENTLY`), in one of
//! their own (`VALIDATE CONSTRAINT`), or in batches (a backfill). The history row
//! records progress after each phase, in the phase's own transaction where it has one,
//! so a run killed between phases is finished by the next run from where it stopped.

use std::ops::Range;
use std::time::Instant;

use migrations_core::dialect::quote_str;
use migrations_core::render::live::{phases, Run};
use migrations_core::Dialect;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::Applied;

use super::lock_wait::{begin_sql, LockWaits};
use super::mysql_progress::{record_completion, record_progress};
use super::units::{precheck, run_unit, Unit};
use super::Migrator;

/// What a phased run records in the history.
pub(super) enum Bookkeeping<'a> {
    /// Applying: the row is written first, its progress after each phase.
    Apply(&'a Applied),
    /// Rolling back: the row goes once the last phase is done.
    Rollback(&'a str, &'a str),
}

impl Migrator {
    /// Runs `units` phase by phase, keeping the history as `books` says: all of them
    /// (`resume_at: None`), or from where an interrupted run stopped, whose history row
    /// is there already.
    pub(super) async fn run_phases<C: Connection>(
        &self,
        conn: &mut C,
        key: &str,
        units: &[Unit],
        resume_at: Option<usize>,
        waits: &LockWaits,
        books: Bookkeeping<'_>,
    ) -> Result<(), MigrateError> {
        let started = Instant::now();
        let start = resume_at.unwrap_or(0);
        if resume_at.is_none() {
            precheck(conn, key, units).await?;
            if let Bookkeeping::Apply(row) = books {
                conn.insert_applied(&Applied { steps_done: Some(0), ..row.clone() })
                    .await
                    .map_err(MigrateError::db("recording the start of the migration"))?;
            }
        }
        let runs: Vec<Run> = units.iter().map(Unit::run).collect();
        for range in phases(&runs).into_iter().filter(|r| r.start >= start) {
            let resumed = resume_at == Some(range.start);
            let outcome = match runs[range.start] {
                Run::Transaction | Run::OwnTransaction => {
                    self.run_phase_in_transaction(conn, key, units, range.clone(), waits, &books).await
                }
                Run::NoTransaction | Run::Batches => {
                    let unit = &units[range.start];
                    let ran = run_alone(conn, unit, resumed).await;
                    match (ran, &books) {
                        (Ok(()), Bookkeeping::Apply(row)) => record_progress(conn, row, range.end).await,
                        (Ok(()), Bookkeeping::Rollback(..)) => Ok(()),
                        (Err(source), _) => Err(failed(key, units, range.start, source)),
                    }
                }
            };
            if let Err(e) = outcome {
                return Err(self.explain_stop(conn, e, range.start, &books).await);
            }
        }
        match books {
            Bookkeeping::Apply(row) => record_completion(conn, row, started).await,
            Bookkeeping::Rollback(app, id) => {
                conn.delete_applied(app, id).await.map_err(MigrateError::db("removing the history row"))
            }
        }
    }

    /// One transactional phase: its statements and its progress commit together.
    async fn run_phase_in_transaction<C: Connection>(
        &self,
        conn: &mut C,
        key: &str,
        units: &[Unit],
        range: Range<usize>,
        waits: &LockWaits,
        books: &Bookkeeping<'_>,
    ) -> Result<(), MigrateError> {
        conn.execute(&begin_sql(conn.dialect(), waits)).await.map_err(MigrateError::db("starting the transaction"))?;
        let mut outcome = Ok(());
        for k in range.clone() {
            if let Err(source) = run_unit(conn, &units[k]).await {
                outcome = Err(failed(key, units, k, source));
                break;
            }
        }
        if outcome.is_ok() {
            if let Bookkeeping::Apply(row) = books {
                outcome = record_progress(conn, row, range.end).await;
            }
        }
        match outcome {
            Ok(()) => conn.execute("COMMIT").await.map_err(MigrateError::db("committing a phase of the migration")),
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                Err(e)
            }
        }
    }

    /// The error of a phased run that stopped at unit `at`, saying what it kept.
    async fn explain_stop<C: Connection>(
        &self,
        conn: &mut C,
        error: MigrateError,
        at: usize,
        books: &Bookkeeping<'_>,
    ) -> MigrateError {
        let state = match books {
            Bookkeeping::Apply(row) if at == 0 => {
                let _ = conn.delete_applied(&row.app, &row.id).await;
                "nothing of this migration was kept".to_string()
            }
            Bookkeeping::Apply(row) => format!(
                "statements 1..{at} of it are committed (it runs in phases); the next run goes on from statement {} (fix the cause first if it is not a lock), or undo them by hand and `migrate resolve {} --rolled-back`",
                at + 1,
                row.id
            ),
            Bookkeeping::Rollback(_, id) if at == 0 => {
                format!("nothing of it was undone; {id} is still applied")
            }
            Bookkeeping::Rollback(_, id) => format!(
                "statements 1..{at} of its reverse are committed (it runs in phases) and {id} is still recorded as applied: undo the rest by hand, then `migrate resolve {id} --rolled-back`"
            ),
        };
        match error {
            MigrateError::Statement { id, index, count, statement, source, .. } => {
                MigrateError::Statement { id, index, count, statement, source, state }
            }
            other => other,
        }
    }
}

/// The error of unit `k` of `units`.
fn failed(key: &str, units: &[Unit], k: usize, source: sqlx::Error) -> MigrateError {
    MigrateError::Statement {
        id: key.to_string(),
        index: k + 1,
        count: units.len(),
        statement: units[k].to_string(),
        source: Box::new(source),
        state: String::new(),
    }
}

/// A statement run outside a transaction. A concurrent index build that failed or was
/// killed leaves an INVALID index behind (which slows every write and would make the
/// retry fail): it is dropped before the build, and after a failed one. When `resumed`,
/// the statement may have completed before the interruption was recorded: an effect
/// that is already there counts as done.
async fn run_alone<C: Connection>(conn: &mut C, unit: &Unit, resumed: bool) -> Result<(), sqlx::Error> {
    let index = match unit {
        Unit::Sql(s) if conn.dialect() == Dialect::Postgres => s.builds_index.clone(),
        _ => None,
    };
    if let Some(name) = &index {
        drop_invalid_index(conn, name).await?;
    }
    match run_unit(conn, unit).await {
        Err(e) if resumed && conn.already_done(&e) => Ok(()),
        Err(e) => {
            if let Some(name) = &index {
                let _ = drop_invalid_index(conn, name).await;
            }
            Err(e)
        }
        Ok(()) => Ok(()),
    }
}

/// Drops the index `name` of the current schema if it is INVALID (a concurrent build
/// that did not finish).
async fn drop_invalid_index<C: Connection>(conn: &mut C, name: &str) -> Result<(), sqlx::Error> {
    let d = Dialect::Postgres;
    let invalid = conn
        .query_text(&format!(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = {} AND n.nspname = current_schema() AND NOT i.indisvalid",
            quote_str(d, name)
        ))
        .await?;
    if !invalid.is_empty() {
        conn.execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {}", d.quote(name))).await?;
    }
    Ok(())
}
