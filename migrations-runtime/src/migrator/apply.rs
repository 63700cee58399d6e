//! `apply`: checks the history against the embedded migrations, renders every pending
//! migration against the schema it meets, and runs each in its own transaction (or all in
//! one, `--atomic`), recording each in the history.

use std::time::Instant;

use migrations_core::render::live::Forms;
use migrations_core::render::sqlite_rebuilds_table;
use migrations_core::{Dialect, Schema};

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::{self, Applied, STATEMENT_SEPARATOR};

use super::lock_wait::{self, begin_sql, LockWaits, Tries};
use super::options::{ApplyOptions, Progress, Step};
use super::phases::Bookkeeping;
use super::plan::Planned;
use super::rollback::stored_reverse;
use super::transaction::Record;
use super::units::{
    is_phased, render_error, restore_dependents, run_batch, saved_dependents, statements_of, texts, units_of, Unit,
};
use super::Migrator;

impl Migrator {
    /// Connects to `url` and applies every pending migration: the one call a binary
    /// makes on boot.
    ///
    /// ```
    /// # use migrations_runtime::{schema::*, EmbeddedMigration, Migrations, Migrator};
    /// # fn up(m: &mut Migration) {
    /// #     m.create_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # fn down(m: &mut Migration) {
    /// #     m.delete_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # static MIGRATIONS: Migrations = Migrations {
    /// #     app: "notes",
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    /// Migrator::new(&MIGRATIONS).apply_url(&url).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn apply_url(&self, url: &str) -> Result<Vec<Step>, MigrateError> {
        let mut conn = self.connect(url).await?;
        self.apply(&mut conn).await
    }

    /// Takes one connection from `pool` for the whole run and applies every pending
    /// migration.
    ///
    /// ```
    /// # use migrations_runtime::{schema::*, EmbeddedMigration, Migrations, Migrator};
    /// # fn up(m: &mut Migration) {
    /// #     m.create_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # fn down(m: &mut Migration) {
    /// #     m.delete_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # static MIGRATIONS: Migrations = Migrations {
    /// #     app: "notes",
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// Migrator::new(&MIGRATIONS).apply_pool(&pool).await?;
    /// # use migrations_runtime::sqlx;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn apply_pool<DB>(&self, pool: &sqlx::Pool<DB>) -> Result<Vec<Step>, MigrateError>
    where
        DB: sqlx::Database,
        DB::Connection: Connection,
    {
        let mut conn = pool.acquire().await.map_err(MigrateError::db("taking a connection from the pool"))?;
        self.apply(&mut *conn).await
    }

    /// Applies every pending migration (the common case on boot).
    pub async fn apply<C: Connection>(&self, conn: &mut C) -> Result<Vec<Step>, MigrateError> {
        self.apply_with(conn, &ApplyOptions::default()).await
    }

    /// Applies pending migrations as `options` say, holding the run's lock throughout.
    ///
    /// ```
    /// # use migrations_runtime::{schema::*, EmbeddedMigration, Migrations, Migrator};
    /// # fn up(m: &mut Migration) {
    /// #     m.create_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # fn down(m: &mut Migration) {
    /// #     m.delete_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # static MIGRATIONS: Migrations = Migrations {
    /// #     app: "notes",
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_runtime::ApplyOptions;
    ///
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// let migrator = Migrator::new(&MIGRATIONS);
    /// // Print what would run, run nothing.
    /// let planned = migrator.apply_with(&mut conn, &ApplyOptions { dry_run: true, ..ApplyOptions::default() }).await?;
    /// assert!(planned[0].statements[0].starts_with("CREATE TABLE"));
    /// // Then all pending migrations in one transaction.
    /// migrator.apply_with(&mut conn, &ApplyOptions { atomic: true, ..ApplyOptions::default() }).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn apply_with<C: Connection>(
        &self,
        conn: &mut C,
        options: &ApplyOptions,
    ) -> Result<Vec<Step>, MigrateError> {
        // The plan is made again under the lock, against the history (a squash stands
        // for what it replaces, or gives way to it, as the database stands); a target
        // this binary does not have is refused before the lock is taken.
        if let Some(t) = &options.target {
            if !self.apps.iter().any(|a| a.migrations.iter().any(|m| m.id == t || format!("{}/{}", a.app, m.id) == *t))
            {
                return Err(MigrateError::Usage(format!("no migration `{t}` in this binary")));
            }
        }
        let waits = self.lock_waits()?;
        let owner = self.acquire(conn).await?;
        let result = self.apply_bounded(conn, options, &waits).await;
        let unlocked = self.release(conn, &owner).await;
        let steps = match result {
            // The schema is there already, built without these migrations: say how to adopt it.
            Err(MigrateError::Statement { id, index, count, statement, source, mut state })
                if conn.already_done(&source) || source.to_string().contains("already exists") =>
            {
                if let Ok(Some(hint)) = self.adoption_hint(conn).await {
                    state = format!("{state}\n  {hint}");
                }
                return Err(MigrateError::Statement { id, index, count, statement, source, state });
            }
            other => other?,
        };
        unlocked?;
        if !options.dry_run && !options.fake {
            self.check_on_boot(conn).await?;
        }
        Ok(steps)
    }

    /// Applies with every lock wait bounded: a migration whose statement gave up waiting
    /// for another session's lock kept nothing, and is tried again after a backoff.
    async fn apply_bounded<C: Connection>(
        &self,
        conn: &mut C,
        options: &ApplyOptions,
        waits: &LockWaits,
    ) -> Result<Vec<Step>, MigrateError> {
        let mut steps = Vec::new();
        if options.dry_run {
            return self.apply_locked(conn, options, waits, &mut steps).await.map(|()| steps);
        }
        let restore = lock_wait::bound(conn, waits).await?;
        let mut tries = Tries::new(*waits);
        let result = loop {
            let kept = steps.len();
            match self.apply_locked(conn, options, waits, &mut steps).await {
                Ok(()) => break Ok(steps),
                Err(e) => {
                    if options.atomic {
                        // One transaction: nothing of this try was kept.
                        steps.truncate(kept);
                    }
                    if let Err(e) = tries.wait_after(self, conn, e).await {
                        break Err(e);
                    }
                }
            }
        };
        let restored = lock_wait::unbound(conn, restore).await;
        let steps = result?;
        restored?;
        Ok(steps)
    }

    /// One try of a run: every pending migration of `plan`, each recorded in `steps`
    /// once it is applied.
    pub(super) async fn apply_locked<C: Connection>(
        &self,
        conn: &mut C,
        options: &ApplyOptions,
        waits: &LockWaits,
        steps: &mut Vec<Step>,
    ) -> Result<(), MigrateError> {
        let dialect = conn.dialect();
        let mut summary = self.prepare_summary(conn).await?;
        let whole = self.plan_for(&summary)?;
        let last = match &options.target {
            Some(t) => self.find(&whole, t)?,
            None => whole.len().saturating_sub(1),
        };
        let plan = &whole[..(last + 1).min(whole.len())];

        // An interrupted MySQL migration: finish it first (or say why it cannot be).
        if summary.interrupted {
            let applied = conn.applied_brief().await.map_err(MigrateError::db("reading the history table"))?;
            if let Some(row) = applied.iter().find(|r| r.steps_done.is_some()) {
                self.resume(conn, options, plan, row, steps, waits).await?;
            }
            summary = conn.applied_summary().await.map_err(MigrateError::db("reading the history table"))?;
        }

        let migrations = || plan.iter().map(|p| (p.app, p.migration.id));
        let checksums = summary.checksums(migrations());
        let development = self.is_development()?;
        let mut replaced = false;
        for (p, &checksum) in plan.iter().zip(&checksums) {
            // A draft on a development database may change: it is redone below.
            let may_change = p.migration.draft && development;
            match checksum {
                Some(checksum) if !p.migration.matches(checksum) && !may_change => {
                    return Err(MigrateError::Changed {
                        id: p.key(),
                        applied: checksum.to_string(),
                        embedded: p.migration.recorded_checksum().to_string(),
                    });
                }
                Some(checksum) => replaced |= !p.migration.matches(checksum),
                None if p.migration.draft && !development => {
                    return Err(MigrateError::Draft { id: p.key() });
                }
                None => {}
            }
        }

        // Rows recorded before the semantic checksum get it now, once: after this, the
        // file's formatting and comments may change without the row saying "changed".
        for (p, checksum) in plan.iter().zip(&checksums) {
            if checksum.is_some_and(|c| c != p.migration.recorded_checksum() && p.migration.matches(c)) {
                conn.update_checksum(p.app, p.migration.id, p.migration.recorded_checksum())
                    .await
                    .map_err(MigrateError::db("recording the checksum of an applied migration in its new scheme"))?;
            }
        }
        // A squash the database has through the migrations it replaces has no row.
        let unrecorded = |(p, c): (&Planned, &Option<&str>)| c.is_none() && !p.by_members;
        let mut pending: Vec<bool> = plan.iter().zip(&checksums).map(unrecorded).collect();
        // Development: a draft that changed since it was applied is rolled back (with
        // the SQL stored when it was applied) and applied again below.
        if replaced {
            for (p, checksum) in plan.iter().zip(checksums).rev() {
                if checksum.is_none_or(|c| p.migration.matches(c)) {
                    continue;
                }
                let stored = conn
                    .reverse_sql(p.app, p.migration.id)
                    .await
                    .map_err(MigrateError::db("reading the stored reverse SQL"))?;
                let statements: Vec<Unit> =
                    stored_reverse(&p.key(), stored)?.into_iter().map(Unit::as_written).collect();
                let rebuild = statements.iter().any(|s| s.to_string().contains("_chakra_new_"));
                self.run_in_transaction(
                    conn,
                    &p.key(),
                    &statements,
                    rebuild,
                    waits,
                    Record::Delete(p.app, p.migration.id),
                )
                .await?;
            }
            summary = conn.applied_summary().await.map_err(MigrateError::db("reading the history table"))?;
            pending = plan.iter().zip(&summary.checksums(migrations())).map(unrecorded).collect();
        }
        let batch = summary.last_batch + 1;
        let pending: Vec<(usize, &Planned)> =
            plan.iter().enumerate().zip(pending).filter_map(|(planned, pending)| pending.then_some(planned)).collect();

        if pending.is_empty() {
            // The common boot: nothing to do, and nothing replayed or rendered to learn it.
            return Ok(());
        }

        // Render every pending migration against the schema it meets: one running schema,
        // replayed forward through the plan (no copy per migration).
        struct Prepared<'p> {
            planned: &'p Planned,
            units: Vec<Unit>,
            rebuild: bool,
            reverse: Option<Vec<String>>,
        }
        let mut prepared = Vec::with_capacity(pending.len());
        let mut schema = Schema::new();
        let mut cursor = 0;
        for &(i, p) in &pending {
            while cursor < i {
                let ops = plan[cursor].migration.up_operations(&schema).map_err(render_error(plan[cursor].key()))?;
                schema.apply_all(&ops).map_err(render_error(plan[cursor].key()))?;
                cursor += 1;
            }
            let key = p.key();
            let (ops, data) = p.migration.up_steps(&schema).map_err(render_error(key.clone()))?;
            let rebuild = dialect == Dialect::Sqlite && ops.iter().any(|op| sqlite_rebuilds_table(op, &schema));
            // `--atomic` runs everything in one transaction (where DDL is transactional):
            // the plain forms, which fit in one.
            let forms =
                if options.atomic && dialect.transactional_ddl() { Forms::OneTransaction } else { Forms::Online };
            let units = units_of((ops.clone(), data), &schema, dialect, &key, forms)?;
            schema.apply_all(&ops).map_err(|e| MigrateError::Render { id: key.clone(), source: Box::new(e.into()) })?;
            cursor = i + 1;
            // Stored so an older binary can roll it back: only when it is plain SQL.
            let down = p.migration.down_steps(&schema).ok();
            let reverse = match down {
                Some((ops, data)) if data.is_empty() => statements_of(&ops, &schema, dialect, &key).ok(),
                _ => None,
            };
            prepared.push(Prepared { planned: p, units, rebuild, reverse });
        }

        let atomic = options.atomic && dialect.transactional_ddl() && !options.dry_run;
        let any_rebuild = prepared.iter().any(|p| p.rebuild);
        if atomic {
            if any_rebuild {
                conn.execute("PRAGMA foreign_keys = OFF")
                    .await
                    .map_err(MigrateError::db("turning foreign keys off"))?;
            }
            conn.execute(&begin_sql(dialect, waits)).await.map_err(MigrateError::db("starting the transaction"))?;
        }
        let mut atomic_rows: Vec<Applied> = Vec::new();
        let plain = |p: &Prepared<'_>| p.units.iter().all(|u| matches!(u, Unit::Sql(_)));
        if atomic && !any_rebuild && !options.fake && prepared.len() > 1 && prepared.iter().all(plain) {
            // All of the run's SQL goes to the database as one batch: run a statement at a
            // time, each is a round trip (on SQLite, a hand-off to sqlx's worker thread and
            // back), which for a hundred small migrations costs more than the SQL. If the
            // batch fails, its savepoint is undone and the loop below runs the migrations
            // one at a time, in the same transaction, to name the statement that failed.
            let started = Instant::now();
            let sql = prepared.iter().flat_map(|p| &p.units).filter_map(|u| match u {
                Unit::Sql(s) => Some(s.sql.as_str()),
                _ => None,
            });
            let ran = match run_batch(conn, "the run", "nothing of this run was kept (one transaction)", sql).await {
                Ok(ran) => ran,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(e);
                }
            };
            if ran {
                // Run together, timed together: each is recorded with an equal share.
                let share = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
                    / i64::try_from(prepared.len()).unwrap_or(1);
                for Prepared { planned: p, units, reverse, .. } in prepared.drain(..) {
                    let key = p.key();
                    self.report(Progress::Start { id: key.clone() });
                    atomic_rows.push(Applied { execution_time_ms: share, ..history_row(p, batch, reverse) });
                    self.report(Progress::Done { id: key, ms: share.unsigned_abs().into() });
                    steps.push(Step {
                        app: p.app.into(),
                        id: p.migration.id.into(),
                        statements: texts(&units),
                        ms: share.unsigned_abs().into(),
                    });
                }
            }
        }
        for Prepared { planned: p, units: statements, rebuild, reverse } in prepared {
            let key = p.key();
            if options.dry_run {
                steps.push(Step {
                    app: p.app.into(),
                    id: p.migration.id.into(),
                    statements: texts(&statements),
                    ms: 0,
                });
                continue;
            }
            self.report(Progress::Start { id: key.clone() });
            let started = Instant::now();
            let row = history_row(p, batch, reverse);
            let result = if options.fake {
                conn.insert_applied(&row).await.map(|()| true).map_err(MigrateError::db("recording a faked migration"))
            } else if atomic {
                let triggers = if rebuild {
                    saved_dependents(conn, &statements)
                        .await
                        .map_err(MigrateError::db("reading the triggers and indexes of a table to rebuild"))
                } else {
                    Ok(Vec::new())
                };
                let run = match triggers {
                    Ok(triggers) => match self
                        .run_statements(conn, &key, &statements, "nothing of this run was kept (one transaction)")
                        .await
                    {
                        Ok(()) => restore_dependents(conn, &key, &triggers).await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                run.map(|()| {
                    // Recorded together at the end, in the same transaction.
                    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                    atomic_rows.push(Applied { execution_time_ms: ms, ..row.clone() });
                    true
                })
            } else if dialect == Dialect::Postgres && is_phased(&statements) {
                self.run_phases(conn, &key, &statements, None, waits, Bookkeeping::Apply(&row)).await.map(|()| true)
            } else if dialect.transactional_ddl() {
                self.run_in_transaction(conn, &key, &statements, rebuild, waits, Record::Insert(&row, started)).await
            } else {
                self.run_mysql(conn, &key, &statements, row).await.map(|()| true)
            };
            let ran = match result {
                Ok(ran) => ran,
                Err(e) => {
                    if atomic {
                        let _ = conn.execute("ROLLBACK").await;
                    }
                    return Err(e);
                }
            };
            if !ran {
                // Another process applied it first (SQLite).
                continue;
            }
            let ms = started.elapsed().as_millis();
            self.report(Progress::Done { id: key, ms });
            steps.push(Step { app: p.app.into(), id: p.migration.id.into(), statements: texts(&statements), ms });
        }
        if atomic {
            if let Err(e) = conn.insert_applied_many(&atomic_rows).await {
                let _ = conn.execute("ROLLBACK").await;
                return Err(MigrateError::db("recording the migrations")(e));
            }
            if any_rebuild {
                let problems = conn.foreign_key_problems().await.map_err(MigrateError::db("checking foreign keys"))?;
                if !problems.is_empty() {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(MigrateError::Usage(format!(
                        "the run breaks foreign keys, so nothing was kept: {}",
                        problems.join("; ")
                    )));
                }
            }
            conn.execute("COMMIT").await.map_err(MigrateError::db("committing the run"))?;
            if any_rebuild {
                conn.execute("PRAGMA foreign_keys = ON")
                    .await
                    .map_err(MigrateError::db("turning foreign keys back on"))?;
            }
        }
        Ok(())
    }
}

impl Migrator {
    /// The plan for a database whose history `summary` reads (see
    /// [`Migrator::plan_against`]).
    pub(super) fn plan_for(&self, summary: &history::Summary) -> Result<Vec<Planned>, MigrateError> {
        if !self.has_squashes() {
            return self.plan();
        }
        // The embedded migrations, and those the squashes replace (which may not be).
        let keys: Vec<(&str, &str)> = self
            .apps
            .iter()
            .flat_map(|a| {
                a.migrations.iter().flat_map(move |m| {
                    std::iter::once((a.app, m.id)).chain(m.replaces.iter().map(move |r| (a.app, *r)))
                })
            })
            .collect();
        let recorded = keys.iter().zip(summary.checksums(keys.iter().copied())).filter_map(|(k, c)| c.map(|_| *k));
        self.plan_of_recorded(recorded)
    }
}

/// The history row of a migration applied now, in run `batch`, with the SQL that undoes
/// it when that is plain SQL.
pub(super) fn history_row(p: &Planned, batch: i64, reverse: Option<Vec<String>>) -> Applied {
    Applied {
        app: p.app.into(),
        id: p.migration.id.into(),
        applied_at: history::now(),
        checksum: p.migration.recorded_checksum().into(),
        execution_time_ms: 0,
        batch,
        reverse_sql: reverse.map(|r| r.join(STATEMENT_SEPARATOR)),
        steps_done: None,
    }
}
