//! MySQL commits each DDL statement itself: a migration records its progress after each
//! statement, so an interruption leaves a row that says exactly how far it got, and a
//! later run finishes it. (A PostgreSQL migration in phases records its progress the
//! same way, per phase: see `phases.rs`; finishing it is here too.)

use std::time::Instant;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::Applied;

use super::options::{ApplyOptions, Progress, Step};
use super::plan::Planned;
use migrations_core::render::live::Forms;

use super::lock_wait::LockWaits;
use super::phases::Bookkeeping;
use super::units::{precheck, render_error, run_unit, texts, units_of, Unit};
use super::Migrator;

impl Migrator {
    /// Finishes a migration an earlier run was interrupted in (MySQL): killed, stopped by
    /// a lock it could not get, or by a failed statement. MySQL committed its first
    /// `steps_done` statements; the rest run now, in order, as the interrupted run would
    /// have run them, so a plain boot after a crash needs nobody. It is refused, saying
    /// how to recover, when this binary's migration is not the one that was interrupted
    /// (its checksum changed), or when what comes next is a Rust data step (which may have
    /// run in part): then `--resume` says to go on.
    pub(super) async fn resume<C: Connection>(
        &self,
        conn: &mut C,
        options: &ApplyOptions,
        plan: &[Planned],
        row: &Applied,
        steps: &mut Vec<Step>,
        waits: &LockWaits,
    ) -> Result<(), MigrateError> {
        let i = plan.iter().position(|p| p.app == row.app && p.migration.id == row.id);
        let done = usize::try_from(row.steps_done.unwrap_or_default()).unwrap_or_default();
        let Some(i) = i else {
            return Err(MigrateError::Usage(format!(
                "migration {}/{} was interrupted, and this binary does not know it",
                row.app, row.id
            )));
        };
        let key = plan[i].key();
        let before = self.schema_before(plan, i)?;
        let up = plan[i].migration.up_steps(&before).map_err(render_error(key.clone()))?;
        let statements = units_of(up, &before, conn.dialect(), &key, Forms::Online)?;
        let changed = !plan[i].migration.matches(&row.checksum);
        // On PostgreSQL a data step runs in a phase's transaction: all of it, or none.
        let data_next = matches!(statements.get(done), Some(Unit::Data(..))) && !conn.dialect().transactional_ddl();
        if changed {
            // Its statements are not the ones that ran: neither a plain run nor `--resume`
            // may continue them.
            return Err(MigrateError::Usage(format!(
                "migration {key} was interrupted after {done} of its statements (MySQL committed them), and this binary's {key} is not the migration that was interrupted (its checksum changed), so it cannot be continued. Boot the binary that started it to finish it, or undo those statements by hand, then `migrate resolve {} --rolled-back`",
                row.id
            )));
        }
        if data_next && !options.resume {
            return Err(MigrateError::Interrupted {
                id: row.id.clone(),
                done,
                count: statements.len(),
                next: done + 1,
                why: format!(
                    "statement {} is a Rust data step, which may have run in part before the interruption",
                    done + 1
                ),
            });
        }
        if options.dry_run {
            steps.push(Step {
                app: row.app.clone(),
                id: row.id.clone(),
                statements: texts(&statements[done..]),
                ms: 0,
            });
            return Ok(());
        }
        self.report(Progress::Start { id: key.clone() });
        let started = Instant::now();
        if conn.dialect().transactional_ddl() {
            self.run_phases(conn, &key, &statements, Some(done), waits, Bookkeeping::Apply(row)).await?;
            let ms = started.elapsed().as_millis();
            self.report(Progress::Done { id: key, ms });
            steps.push(Step { app: row.app.clone(), id: row.id.clone(), statements: texts(&statements[done..]), ms });
            return Ok(());
        }
        for (k, s) in statements.iter().enumerate().skip(done) {
            // Statement `done + 1` may have run to the end after its run was killed,
            // before its progress was recorded: if the database says its effect is
            // already there, it counts as done.
            let result = match run_unit(conn, s).await {
                Err(e) if k == done && conn.already_done(&e) => Ok(()),
                other => other,
            };
            result.map_err(|source| MigrateError::Statement {
                id: key.clone(),
                index: k + 1,
                count: statements.len(),
                statement: s.to_string(),
                source: Box::new(source),
                state: format!("MySQL committed statements 1..{k} of it; the next run goes on from statement {} (fix the cause first), or undo them by hand and `migrate resolve {} --rolled-back`", k + 1, row.id),
            })?;
            record_progress(conn, row, k + 1).await?;
        }
        record_completion(conn, row, started).await?;
        let ms = started.elapsed().as_millis();
        self.report(Progress::Done { id: key, ms });
        steps.push(Step { app: row.app.clone(), id: row.id.clone(), statements: texts(&statements[done..]), ms });
        Ok(())
    }

    /// MySQL commits each DDL statement itself: record progress after each, so an
    /// interruption leaves a row that says exactly how far it got. A statement that gave
    /// up waiting for a lock committed nothing: when it is the first, the migration is
    /// not recorded at all (the next try starts it afresh).
    pub(super) async fn run_mysql<C: Connection>(
        &self,
        conn: &mut C,
        key: &str,
        statements: &[Unit],
        row: Applied,
    ) -> Result<(), MigrateError> {
        let started = Instant::now();
        precheck(conn, key, statements).await?;
        conn.insert_applied(&Applied { steps_done: Some(0), ..row.clone() })
            .await
            .map_err(MigrateError::db("recording the start of the migration"))?;
        for (k, s) in statements.iter().enumerate() {
            if let Err(source) = run_unit(conn, s).await {
                let state = if k == 0 {
                    let _ = conn.delete_applied(&row.app, &row.id).await;
                    "nothing of this migration was applied".to_string()
                } else {
                    format!("MySQL committed statements 1..{k} of it; the next run goes on from statement {} (fix the cause first if it is not a lock), or undo them by hand and `migrate resolve {} --rolled-back`", k + 1, row.id)
                };
                return Err(MigrateError::Statement {
                    id: key.to_string(),
                    index: k + 1,
                    count: statements.len(),
                    statement: s.to_string(),
                    source: Box::new(source),
                    state,
                });
            }
            record_progress(conn, &row, k + 1).await?;
        }
        record_completion(conn, &row, started).await
    }
}

/// MySQL: records that the first `done` statements of `row`'s migration are committed.
pub(super) async fn record_progress<C: Connection>(
    conn: &mut C,
    row: &Applied,
    done: usize,
) -> Result<(), MigrateError> {
    let done = i64::try_from(done).unwrap_or(i64::MAX);
    conn.update_progress(&row.app, &row.id, Some(done), 0).await.map_err(MigrateError::db("recording progress"))
}

/// MySQL: records that `row`'s migration is complete, having run since `started`.
pub(super) async fn record_completion<C: Connection>(
    conn: &mut C,
    row: &Applied,
    started: Instant,
) -> Result<(), MigrateError> {
    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    conn.update_progress(&row.app, &row.id, None, ms).await.map_err(MigrateError::db("recording completion"))
}
