//! `rollback`: undoes applied migrations, last applied first, with the binary's own
//! `down` (or, for a migration this binary does not know, the reverse SQL stored with it).

use std::collections::BTreeSet;
use std::time::Instant;

use migrations_core::render::live::Forms;
use migrations_core::{Dialect, Operation};

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::{Applied, STATEMENT_SEPARATOR};

use super::lock_wait::{self, LockWaits, Tries};
use super::options::{LockRetry, Progress, RollbackOptions, RollbackTarget, Step};
use super::phases::Bookkeeping;
use super::plan::Planned;
use super::transaction::Record;
use super::units::{is_phased, render_error, texts, units_of, Unit};
use super::Migrator;

/// Refuses a rollback that would leave an applied migration without one it depends on.
pub(super) fn refuse_orphans(plan: &[Planned], applied: &[Applied], chosen: &[Applied]) -> Result<(), MigrateError> {
    let going: BTreeSet<(&str, &str)> = chosen.iter().map(|r| (r.app.as_str(), r.id.as_str())).collect();
    for row in applied {
        if going.contains(&(row.app.as_str(), row.id.as_str())) {
            continue;
        }
        let Some(p) = plan.iter().find(|p| p.app == row.app && p.migration.id == row.id) else { continue };
        for d in p.migration.dependencies {
            let (app, id) = d.split_once('/').unwrap_or((p.app, d));
            // A dependency on a migration a squash replaces is one on the squash.
            let squash = plan.iter().find(|s| s.app == app && s.migration.replaces.contains(&id));
            let (app, id) = squash.map_or((app, id), |s| (s.app, s.migration.id));
            if going.contains(&(app, id)) {
                return Err(MigrateError::Usage(format!(
                    "cannot roll back {app}/{id}: {} depends on it and stays applied; roll back `{}` first (`migrate rollback --app {} --to ...`)",
                    p.key(),
                    p.app,
                    p.app
                )));
            }
        }
    }
    Ok(())
}

impl Migrator {
    /// Rolls back applied migrations, last applied first.
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
    /// use migrations_runtime::RollbackTarget;
    ///
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// let migrator = Migrator::new(&MIGRATIONS);
    /// migrator.apply(&mut conn).await?;
    /// let undone = migrator.rollback(&mut conn, &RollbackTarget::LastBatch, false).await?;
    /// assert_eq!(undone.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rollback<C: Connection>(
        &self,
        conn: &mut C,
        target: &RollbackTarget,
        force: bool,
    ) -> Result<Vec<Step>, MigrateError> {
        self.rollback_with(conn, &RollbackOptions { target: target.clone(), force, ..RollbackOptions::default() }).await
    }

    /// Rolls back as `options` say: with [`RollbackOptions::app`], only that app's
    /// migrations are chosen, and the run is refused while another app's applied
    /// migration depends on one of them.
    ///
    /// ```no_run
    /// # static AUTH: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "auth", migrations: &[], snapshot: "" };
    /// # static BLOG: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
    /// # async fn run(conn: &mut sqlx::SqliteConnection) -> Result<(), migrations_runtime::MigrateError> {
    /// use migrations_runtime::{Migrator, RollbackOptions, RollbackTarget};
    ///
    /// let migrator = Migrator::for_apps([&AUTH, &BLOG]);
    /// let options = RollbackOptions { app: Some("blog".into()), ..RollbackOptions::default() };
    /// migrator.rollback_with(conn, &options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn rollback_with<C: Connection>(
        &self,
        conn: &mut C,
        options: &RollbackOptions,
    ) -> Result<Vec<Step>, MigrateError> {
        if let Some(app) = &options.app {
            if !self.apps.iter().any(|a| a.app == app) {
                let known: Vec<&str> = self.apps.iter().map(|a| a.app).collect();
                return Err(MigrateError::Usage(format!(
                    "no app `{app}` in this binary; its apps are: {}",
                    known.join(", ")
                )));
            }
        }
        // Lock waits are bounded as for `apply`, but a rollback that gave up is not tried
        // again by itself: what "the last batch" or "the last N" means has moved once part
        // of it is undone. It stops with the report of who holds the lock.
        let waits = LockWaits { retry: LockRetry { tries: 1, ..LockRetry::default() }, ..self.lock_waits()? };
        let owner = self.acquire(conn).await?;
        let result = match lock_wait::bound(conn, &waits).await {
            Ok(restore) => {
                let result = match self.rollback_locked(conn, options, &waits).await {
                    Err(e) => Tries::new(waits).wait_after(self, conn, e).await.map(|()| Vec::new()),
                    ok => ok,
                };
                let restored = lock_wait::unbound(conn, restore).await;
                result.and_then(|steps| restored.map(|()| steps))
            }
            Err(e) => Err(e),
        };
        let unlocked = self.release(conn, &owner).await;
        let steps = result?;
        unlocked?;
        Ok(steps)
    }

    pub(super) async fn rollback_locked<C: Connection>(
        &self,
        conn: &mut C,
        options: &RollbackOptions,
        waits: &LockWaits,
    ) -> Result<Vec<Step>, MigrateError> {
        let force = options.force;
        let dialect = conn.dialect();
        let applied = self.prepare_brief(conn).await?;
        let plan = &self.plan_of_rows(&applied)?;
        if let Some(row) = applied.iter().find(|r| r.steps_done.is_some()) {
            return Err(MigrateError::Usage(format!(
                "migration {}/{} was interrupted; finish it first (`migrate apply`)",
                row.app, row.id
            )));
        }
        let chosen = choose(plan, &applied, options)?;
        refuse_orphans(plan, &applied, &chosen)?;
        let known = |row: &Applied| plan.iter().any(|p| p.app == row.app && p.migration.id == row.id);
        // SQL read from the database is data, not code: anyone who can write the history
        // table could have put any SQL there. It runs only when asked for, and is shown
        // first; the refusal comes before anything is undone.
        if !options.fake {
            for row in chosen.iter().filter(|r| known(r)) {
                self.refuse_unfillable(conn, plan, row).await?;
            }
        }
        if options.fake {
            // Forget them without running anything: the operator undid them by hand.
            let mut steps = Vec::new();
            for row in chosen {
                conn.delete_applied(&row.app, &row.id).await.map_err(MigrateError::db("removing the history row"))?;
                steps.push(Step { app: row.app, id: row.id, statements: Vec::new(), ms: 0 });
            }
            return Ok(steps);
        }
        let mut stored = Vec::new();
        for row in chosen.iter().filter(|r| !known(r)) {
            let key = format!("{}/{}", row.app, row.id);
            let sql = conn
                .reverse_sql(&row.app, &row.id)
                .await
                .map_err(MigrateError::db("reading the stored reverse SQL"))?;
            stored.push((key.clone(), stored_reverse(&key, sql)?));
        }
        if !stored.is_empty() && !options.run_stored_sql {
            let listing: Vec<String> =
                stored.iter().map(|(key, statements)| format!("{key}:\n    {}", statements.join(";\n    "))).collect();
            return Err(MigrateError::StoredSql { listing: listing.join("\n  ") });
        }
        let mut steps = Vec::new();
        for row in chosen {
            let key = format!("{}/{}", row.app, row.id);
            let statements = match plan.iter().position(|p| p.app == row.app && p.migration.id == row.id) {
                Some(i) => {
                    let after = self.schema_before(plan, i + 1)?;
                    let down = plan[i].migration.down_steps(&after).map_err(render_error(key.clone()))?;
                    let irreversible = down
                        .0
                        .iter()
                        .any(|op| matches!(op, Operation::RunSql(s) if s.forward.is_empty() && s.reverse.is_none()));
                    if irreversible && !force {
                        return Err(MigrateError::Irreversible {
                            id: key,
                            reason:
                                "its `down` says it cannot be undone; pass --force to remove it from the history anyway"
                                    .into(),
                        });
                    }
                    units_of(down, &after, dialect, &key, Forms::Online)?
                }
                None => {
                    let statements = stored
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, statements)| statements.clone())
                        .unwrap_or_default();
                    self.report(Progress::StoredSql { id: key.clone(), statements: statements.clone() });
                    statements.into_iter().map(Unit::as_written).collect()
                }
            };
            self.report(Progress::Start { id: key.clone() });
            let started = Instant::now();
            if dialect == Dialect::Postgres && is_phased(&statements) {
                self.run_phases(conn, &key, &statements, None, waits, Bookkeeping::Rollback(&row.app, &row.id)).await?;
            } else if dialect.transactional_ddl() {
                let rebuild =
                    dialect == Dialect::Sqlite && statements.iter().any(|s| s.to_string().contains("_chakra_new_"));
                self.run_in_transaction(conn, &key, &statements, rebuild, waits, Record::Delete(&row.app, &row.id))
                    .await?;
            } else {
                self.run_statements(
                    conn,
                    &key,
                    &statements,
                    "MySQL committed the statements before this one; the migration is still recorded as applied",
                )
                .await?;
                conn.delete_applied(&row.app, &row.id).await.map_err(MigrateError::db("removing the history row"))?;
            }
            let ms = started.elapsed().as_millis();
            self.report(Progress::Done { id: key, ms });
            steps.push(Step { app: row.app, id: row.id, statements: texts(&statements), ms });
        }
        Ok(steps)
    }
}

/// The applied migrations `options` chose, last applied first.
fn choose(plan: &[Planned], applied: &[Applied], options: &RollbackOptions) -> Result<Vec<Applied>, MigrateError> {
    let mut order: Vec<Applied> =
        applied.iter().filter(|r| options.app.as_ref().is_none_or(|a| *a == r.app)).cloned().collect();
    order.reverse();
    Ok(match &options.target {
        RollbackTarget::LastBatch => {
            let last = order.iter().map(|r| r.batch).max().unwrap_or(0);
            order.into_iter().filter(|r| r.batch == last).collect()
        }
        RollbackTarget::Count(n) => order.into_iter().take(*n).collect(),
        RollbackTarget::Zero => order,
        RollbackTarget::To(id) => {
            let pos = order.iter().position(|r| r.id == *id || format!("{}/{}", r.app, r.id) == *id);
            match pos {
                Some(p) => order.into_iter().take(p).collect(),
                None => match plan.iter().find(|s| s.migration.replaces.iter().any(|r| r == id || format!("{}/{r}", s.app) == *id)) {
                    Some(s) => {
                        return Err(MigrateError::Usage(format!(
                            "`{id}` is one of the migrations the squash `{}` replaces, which this database applied as one: \
                             it can be rolled back whole (`--to` the migration before it), not part way",
                            s.key()
                        )))
                    }
                    None => return Err(MigrateError::Usage(format!("`{id}` is not applied"))),
                },
            }
        }
    })
}

/// What rolling back one migration would undo, for an operator to read before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    /// The app.
    pub app: String,
    /// The migration.
    pub id: String,
    /// When it was applied.
    pub applied_at: String,
    /// The data its rollback drops: each table or column, with the rows that hold data
    /// in it now.
    pub losses: Vec<Loss>,
    /// This binary does not know the migration: it is undone only with the SQL stored in
    /// the database (see [`RollbackOptions::run_stored_sql`]), which cannot be read for
    /// losses.
    pub unknown: bool,
}

/// A table or column a rollback drops, and how many rows hold data in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The table.
    pub table: String,
    /// The column, or `None` for the whole table.
    pub column: Option<String>,
    /// Rows that hold data there now (for a column: rows where it is not null).
    pub rows: u64,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = if self.rows == 1 { "1 row".to_string() } else { format!("{} rows", self.rows) };
        match &self.column {
            None => write!(f, "drops table {} ({rows})", self.table),
            Some(c) => write!(f, "drops column {}.{c} ({rows} with a value)", self.table),
        }
    }
}

impl Migrator {
    /// What [`Migrator::rollback_with`] would undo, without undoing anything: each
    /// migration, last applied first, with the tables and columns its rollback drops and
    /// the rows that hold data there now. Reads only (no lock, no history table created).
    pub async fn rollback_preview<C: Connection>(
        &self,
        conn: &mut C,
        options: &RollbackOptions,
    ) -> Result<Vec<Undo>, MigrateError> {
        let applied = self.read_history(conn).await?;
        let plan = self.plan_of_rows(&applied)?;
        let mut undos = Vec::new();
        for row in choose(&plan, &applied, options)? {
            let key = format!("{}/{}", row.app, row.id);
            let Some(i) = plan.iter().position(|p| p.app == row.app && p.migration.id == row.id) else {
                undos.push(Undo {
                    app: row.app,
                    id: row.id,
                    applied_at: row.applied_at,
                    losses: Vec::new(),
                    unknown: true,
                });
                continue;
            };
            let after = self.schema_before(&plan, i + 1)?;
            let (ops, _) = plan[i].migration.down_steps(&after).map_err(render_error(key))?;
            let mut losses = Vec::new();
            for op in &ops {
                let (table, column) = match op {
                    Operation::DeleteModel { table } => (table.name.clone(), None),
                    Operation::RemoveField { table, column } => (table.clone(), Some(column.name.clone())),
                    _ => continue,
                };
                let rows = count_rows(conn, &table, column.as_deref()).await?;
                losses.push(Loss { table, column, rows });
            }
            undos.push(Undo { app: row.app, id: row.id, applied_at: row.applied_at, losses, unknown: false });
        }
        Ok(undos)
    }
}

impl Migrator {
    /// Refuses, before anything is undone, a rollback whose `down` re-adds a dropped NOT
    /// NULL column that a foreign key uses to a table that has rows: the column's values
    /// went with it, and the fill the `down` gives (the type's zero, as generated) would
    /// break the foreign key part-way through the rollback (on MySQL, after earlier
    /// statements committed).
    async fn refuse_unfillable<C: Connection>(
        &self,
        conn: &mut C,
        plan: &[Planned],
        row: &Applied,
    ) -> Result<(), MigrateError> {
        let Some(i) = plan.iter().position(|p| p.app == row.app && p.migration.id == row.id) else { return Ok(()) };
        let key = plan[i].key();
        let after = self.schema_before(plan, i + 1)?;
        let (ops, _) = plan[i].migration.down_steps(&after).map_err(render_error(key.clone()))?;
        for (k, op) in ops.iter().enumerate() {
            let Operation::AddField { table, column, fill: Some(fill) } = op else { continue };
            if column.nullable || column.default.is_some() || after.table(table).is_none() {
                continue;
            }
            let fk = ops[k + 1..].iter().find_map(|later| match later {
                Operation::AddConstraint {
                    table: t,
                    constraint: migrations_core::schema::Constraint::ForeignKey(fk),
                } if t == table && fk.columns.contains(&column.name) => Some(fk),
                _ => None,
            });
            let Some(fk) = fk else { continue };
            let rows = count_rows(conn, table, None).await?;
            if rows > 0 {
                return Err(MigrateError::Usage(format!(
                    "rolling back {key} would re-add {table}.{} (NOT NULL, used by the foreign key {} to {}) to {rows} rows whose values were dropped with the column, filled with {fill}, which breaks that foreign key part-way through the rollback. Nothing was rolled back. Give those rows their values another way first (a migration that re-adds the column as nullable and fills it), or delete them, or roll back with a hand-written `down` that chooses the values",
                    column.name, fk.name, fk.ref_table
                )));
            }
        }
        Ok(())
    }
}

/// Rows of `table` (with a value in `column`, when given).
async fn count_rows<C: Connection>(conn: &mut C, table: &str, column: Option<&str>) -> Result<u64, MigrateError> {
    let d = conn.dialect();
    let what = column.map_or_else(|| "*".to_string(), |c| d.quote(c));
    let text = if d == Dialect::MySql { "CHAR" } else { "TEXT" };
    let sql = format!("SELECT CAST(COUNT({what}) AS {text}) FROM {}", d.quote(table));
    let counted = conn.query_text(&sql).await.map_err(MigrateError::db(format!("counting the rows of {table}")))?;
    Ok(counted.first().and_then(|n| n.parse().ok()).unwrap_or(0))
}

pub(super) fn stored_reverse(key: &str, stored: Option<String>) -> Result<Vec<String>, MigrateError> {
    match &stored {
        Some(sql) => Ok(sql.split(STATEMENT_SEPARATOR).filter(|s| !s.trim().is_empty()).map(str::to_string).collect()),
        None => Err(MigrateError::Irreversible {
            id: key.to_string(),
            reason: "this binary does not know it and no reverse SQL was stored with it".into(),
        }),
    }
}
