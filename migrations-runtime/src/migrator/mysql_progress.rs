//! MySQL commits each DDL statement itself: a migration records its progress after each
//! statement, so an interruption leaves a row that says exactly how far it got, and a
//! later run can finish it (`--resume`).

use std::time::Instant;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::Applied;

use super::options::ApplyOptions;
use super::plan::Planned;
use super::units::{precheck, render_error, run_unit, units_of, Unit};
use super::Migrator;

impl Migrator {
    /// Refuses to go on from a migration an earlier run was interrupted in (MySQL), or,
    /// with `--resume`, runs the rest of its statements.
    pub(super) async fn resume<C: Connection>(
        &self,
        conn: &mut C,
        options: &ApplyOptions,
        plan: &[Planned],
        row: &Applied,
    ) -> Result<(), MigrateError> {
        let i = plan.iter().position(|p| p.app == row.app && p.migration.id == row.id);
        let done = usize::try_from(row.steps_done.unwrap_or_default()).unwrap_or_default();
        let Some(i) = i else {
            return Err(MigrateError::Usage(format!(
                "migration {}/{} was interrupted, and this binary does not know it",
                row.app, row.id
            )));
        };
        let before = self.schema_before(plan, i)?;
        let up = plan[i].migration.up_steps(&before).map_err(render_error(plan[i].key()))?;
        let statements = units_of(up, &before, conn.dialect(), &plan[i].key())?;
        if !options.resume {
            return Err(MigrateError::Interrupted {
                id: row.id.clone(),
                done,
                count: statements.len(),
                next: done + 1,
            });
        }
        let started = Instant::now();
        for (k, s) in statements.iter().enumerate().skip(done) {
            // Statement `done + 1` may have run to the end after its run was killed,
            // before its progress was recorded: if the database says its effect is
            // already there, it counts as done.
            let result = match run_unit(conn, s).await {
                Err(e) if k == done && conn.already_done(&e) => Ok(()),
                other => other,
            };
            result.map_err(|source| MigrateError::Statement {
                id: plan[i].key(),
                index: k + 1,
                count: statements.len(),
                statement: s.to_string(),
                source: Box::new(source),
                state: format!("statements 1..{k} are committed; fix the cause, then `migrate apply --resume` again"),
            })?;
            record_progress(conn, row, k + 1).await?;
        }
        record_completion(conn, row, started).await
    }

    /// MySQL commits each DDL statement itself: record progress after each, so an
    /// interruption leaves a row that says exactly how far it got.
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
                    format!("MySQL committed statements 1..{k} of it; fix the cause, then `migrate apply --resume`, or undo them by hand and `migrate resolve {} --rolled-back`", row.id)
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
