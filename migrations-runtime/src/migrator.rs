//! The migrator: brings a database to the embedded migrations, exactly once per
//! migration, each in its own transaction where the backend allows it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use migrations_core::render::{render_all, sqlite_rebuilds_table};
use migrations_core::{Dialect, Operation, Schema};

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::{self, Applied, STATEMENT_SEPARATOR};
use crate::registry::{EmbeddedMigration, Migrations};
use crate::schema::DataStep;

/// Something the migrator reports while it works (for progress lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A migration starts.
    Start {
        /// The migration, as `app/id`.
        id: String,
    },
    /// A migration is done.
    Done {
        /// The migration, as `app/id`.
        id: String,
        /// How long it took.
        ms: u128,
    },
}

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Stop after this migration (`id` or `app/id`).
    pub target: Option<String>,
    /// Print every statement, execute none.
    pub dry_run: bool,
    /// Record the migrations as applied without running them.
    pub fake: bool,
    /// All pending migrations in one transaction (PostgreSQL, SQLite).
    pub atomic: bool,
    /// MySQL: finish a migration an earlier run was interrupted in.
    pub resume: bool,
}

/// How to roll back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackOptions {
    /// Which migrations.
    pub target: RollbackTarget,
    /// Remove irreversible migrations from the history anyway.
    pub force: bool,
    /// Only this app's migrations (the target counts within the app).
    pub app: Option<String>,
}

/// Refuses a rollback that would leave an applied migration without one it depends on.
fn refuse_orphans(plan: &[Planned], applied: &[Applied], chosen: &[Applied]) -> Result<(), MigrateError> {
    let going: BTreeSet<(&str, &str)> = chosen.iter().map(|r| (r.app.as_str(), r.id.as_str())).collect();
    for row in applied {
        if going.contains(&(row.app.as_str(), row.id.as_str())) {
            continue;
        }
        let Some(p) = plan.iter().find(|p| p.app == row.app && p.migration.id == row.id) else { continue };
        for d in p.migration.dependencies {
            let (app, id) = d.split_once('/').unwrap_or((p.app, d));
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

/// What to roll back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The last batch (the migrations the last `apply` applied).
    LastBatch,
    /// The last `n` applied migrations.
    Count(usize),
    /// Everything applied after this migration (it stays).
    To(String),
    /// Everything.
    Zero,
}

/// One migration the run applied, rolled back, or (dry run) would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The app.
    pub app: String,
    /// The migration.
    pub id: String,
    /// Its statements.
    pub statements: Vec<String>,
    /// How long it took (0 for a dry run or a fake).
    pub ms: u128,
}

/// The state of one migration in `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Applied, with when.
    Applied(String),
    /// Not applied yet.
    Pending,
    /// Applied, but its source changed since.
    Changed(String),
    /// Applied, but this binary does not know it (applied by a newer binary?).
    Unknown(String),
    /// MySQL: interrupted after this many statements.
    Interrupted(i64),
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// The app.
    pub app: String,
    /// The migration.
    pub id: String,
    /// Its state.
    pub state: State,
    /// Whether it is an unsealed draft.
    pub draft: bool,
}

/// How a run keeps other processes out.
///
/// ```
/// # static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
/// use std::time::Duration;
/// use migrations_runtime::{LockStrategy, Migrator};
///
/// // Behind a pooler in transaction mode, where session advisory locks do not hold:
/// let migrator = Migrator::new(&MIGRATIONS)
///     .lock_strategy(LockStrategy::Table { lease: Duration::from_secs(600) })
///     .lock_timeout(Duration::from_secs(120));
/// # let _ = migrator;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStrategy {
    /// The database's own lock: `pg_advisory_lock`, MySQL `GET_LOCK`, SQLite's write
    /// lock per migration. The default.
    Advisory,
    /// A row in `_chakra_lock`, for databases without advisory locks (CockroachDB,
    /// poolers in transaction mode). A row older than `lease` is presumed left by a dead
    /// process and taken over.
    Table {
        /// How long a holder may keep the row before it is presumed dead.
        lease: Duration,
    },
}

/// Applies and rolls back the embedded migrations of one or more apps.
///
/// ```no_run
/// # async fn boot() -> Result<(), migrations_runtime::MigrateError> {
/// # static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
/// use sqlx::Connection;
/// let mut conn = sqlx::SqliteConnection::connect("sqlite://blog.db?mode=rwc").await.expect("database");
/// migrations_runtime::Migrator::new(&MIGRATIONS).apply(&mut conn).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    apps: Vec<&'static Migrations>,
    lock: LockStrategy,
    lock_timeout: Duration,
    development: bool,
    progress: Option<fn(&Progress)>,
}

/// An embedded migration with its app and its place in the global order.
#[derive(Debug, Clone, Copy)]
struct Planned {
    app: &'static str,
    migration: &'static EmbeddedMigration,
}

impl Planned {
    fn key(&self) -> String {
        format!("{}/{}", self.app, self.migration.id)
    }
}

/// One thing a migration runs: a SQL statement, or a Rust data step.
#[derive(Clone)]
enum Unit {
    Sql(String),
    Data(&'static str, DataStep),
    /// Every value of a column fits its new type: read before the migration changes
    /// anything (see [`migrations_core::conversion`]).
    Check(migrations_core::conversion::ConversionCheck),
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Sql(s) => f.write_str(s),
            Unit::Data(name, _) => write!(f, "-- Rust data step `{name}`"),
            Unit::Check(c) => write!(f, "-- check that every value of {}.{} fits {}", c.table, c.column, c.target),
        }
    }
}

fn texts(units: &[Unit]) -> Vec<String> {
    units.iter().map(ToString::to_string).collect()
}

/// A migration's operations that do not fit the schema they meet, as an error naming it.
fn render_error(id: String) -> impl FnOnce(migrations_core::apply::ApplyError) -> MigrateError {
    move |e| MigrateError::Render { id, source: Box::new(e.into()) }
}

/// The statements and data steps of one direction of a migration, in order, each
/// statement rendered against the schema it meets.
fn units_of(
    steps: (Vec<Operation>, Vec<(usize, &'static str, DataStep)>),
    before: &Schema,
    dialect: Dialect,
    id: &str,
) -> Result<Vec<Unit>, MigrateError> {
    let (ops, data) = steps;
    // Only the tables these operations touch are copied, not the whole schema.
    let mut touched: Vec<String> = Vec::new();
    for op in &ops {
        for t in migrations_core::render::touched_tables(op, before) {
            if !touched.contains(&t) {
                touched.push(t);
            }
        }
    }
    let mut schema = before.subset(&touched);
    let mut units: Vec<Unit> = conversion_checks(&ops, before, dialect).into_iter().map(Unit::Check).collect();
    let mut data = data.into_iter().peekable();
    for (k, op) in ops.iter().enumerate() {
        while let Some((_, name, step)) = data.next_if(|(at, _, _)| *at <= k) {
            units.push(Unit::Data(name, step));
        }
        let sql = migrations_core::render::render(op, &schema, dialect)
            .map_err(|source| MigrateError::Render { id: id.to_string(), source: Box::new(source) })?;
        units.extend(sql.into_iter().map(Unit::Sql));
        schema.apply(op).map_err(|e| MigrateError::Render { id: id.to_string(), source: Box::new(e.into()) })?;
    }
    units.extend(data.map(|(_, name, step)| Unit::Data(name, step)));
    Ok(units)
}

/// The conversion checks `ops` need, each naming the table and column as they are
/// before the migration (a rename earlier in it is followed back), so that all of them
/// run before its first statement. A column the migration itself adds needs none.
fn conversion_checks(
    ops: &[Operation],
    before: &Schema,
    dialect: Dialect,
) -> Vec<migrations_core::conversion::ConversionCheck> {
    let mut checks = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        let Operation::AlterField { table, old, new, .. } = op else { continue };
        let (mut table, mut column) = (table.clone(), old.name.clone());
        for earlier in ops[..k].iter().rev() {
            match earlier {
                Operation::RenameField { table: t, old, new } if *t == table && *new == column => column = old.clone(),
                Operation::RenameModel { old, new } if *new == table => table = old.clone(),
                _ => {}
            }
        }
        if before.table(&table).and_then(|t| t.column(&column)).is_none() {
            continue;
        }
        checks.extend(migrations_core::conversion::check_column(&table, &column, &old.ty, &new.ty, dialect));
    }
    checks
}

/// Runs the conversion checks among `units`; the first value that does not fit stops
/// the migration before any of its statements.
async fn precheck<C: Connection>(conn: &mut C, key: &str, units: &[Unit]) -> Result<(), MigrateError> {
    for unit in units {
        let Unit::Check(check) = unit else { continue };
        let values = conn
            .query_text(&check.sql)
            .await
            .map_err(MigrateError::db(&format!("reading {}.{} to check its new type", check.table, check.column)))?;
        if let Some(value) = check.first_misfit(values.iter().map(String::as_str)) {
            return Err(MigrateError::Misfit {
                id: key.to_string(),
                table: check.table.clone(),
                column: check.column.clone(),
                target: check.target.to_string(),
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

fn statements_of(ops: &[Operation], before: &Schema, dialect: Dialect, id: &str) -> Result<Vec<String>, MigrateError> {
    let touched: Vec<String> = ops.iter().flat_map(|op| migrations_core::render::touched_tables(op, before)).collect();
    let before = &before.subset(&touched);
    render_all(ops, before, dialect)
        .map(|(sql, _)| sql)
        .map_err(|source| MigrateError::Render { id: id.to_string(), source: Box::new(source) })
}

impl Migrator {
    /// A migrator for one app's migrations.
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // `MIGRATIONS` is `embed_migrations!()` in a real crate.
    /// let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await?;
    /// let applied = Migrator::new(&MIGRATIONS).apply(&mut conn).await?;
    /// assert_eq!(applied[0].id, "0001_initial");
    /// # use sqlx::Connection as _;
    /// # use migrations_runtime::sqlx;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(migrations: &'static Migrations) -> Self {
        Self::for_apps([migrations])
    }

    /// A migrator for several apps, applied in one order that respects the dependencies
    /// across them (`"auth/0001_initial"`).
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // In a workspace: `Migrator::for_apps([&auth::MIGRATIONS, &MIGRATIONS])`.
    /// let migrator = Migrator::for_apps([&MIGRATIONS]);
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// migrator.apply(&mut conn).await?;
    /// let status = migrator.status(&mut conn).await?;
    /// assert_eq!(status[0].app, "notes");
    /// # Ok(())
    /// # }
    /// ```
    pub fn for_apps(apps: impl IntoIterator<Item = &'static Migrations>) -> Self {
        Self {
            apps: apps.into_iter().collect(),
            lock: LockStrategy::Advisory,
            lock_timeout: Duration::from_secs(60),
            development: false,
            progress: None,
        }
    }

    /// How the run keeps other processes out (default: the database's advisory lock).
    pub fn lock_strategy(mut self, strategy: LockStrategy) -> Self {
        self.lock = strategy;
        self
    }

    /// How long to wait for another process's run to finish (default 60 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Marks the database as a development database: drafts are applied, and a draft
    /// that changed since it was applied is rolled back and applied again.
    pub fn development(mut self, yes: bool) -> Self {
        self.development = yes;
        self
    }

    /// Called as each migration starts and ends.
    pub fn on_progress(mut self, f: fn(&Progress)) -> Self {
        self.progress = Some(f);
        self
    }

    fn report(&self, p: Progress) {
        if let Some(f) = self.progress {
            f(&p);
        }
    }

    /// Every embedded migration in the order they apply: dependencies first, then by
    /// app order and id.
    fn plan(&self) -> Result<Vec<Planned>, MigrateError> {
        // A boot with a thousand migrations and nothing to do spends most of its own time
        // here, so the graph works on indices: keys are hashed once, and the order among
        // ready migrations is a precomputed rank, not string comparisons.
        type Key = (&'static str, &'static str);
        let all: Vec<Planned> =
            self.apps.iter().flat_map(|a| a.migrations.iter().map(|m| Planned { app: a.app, migration: m })).collect();
        let key = |i: usize| -> Key { (all[i].app, all[i].migration.id) };
        // Sorted by (app, id): the order among ready migrations, and how a dependency is
        // found (by binary search; a registry lists its migrations sorted already).
        let mut by_name: Vec<usize> = (0..all.len()).collect();
        by_name.sort_by(|a, b| key(*a).cmp(&key(*b)));
        let mut rank = vec![0; all.len()];
        for (r, i) in by_name.iter().enumerate() {
            rank[*i] = r;
        }
        // The dependency lists, flat: those of `i` are `deps[dep_start[i]..dep_start[i + 1]]`.
        let mut deps: Vec<usize> = Vec::with_capacity(all.len());
        let mut dep_start: Vec<usize> = Vec::with_capacity(all.len() + 1);
        for (i, p) in all.iter().enumerate() {
            dep_start.push(deps.len());
            for d in p.migration.dependencies {
                let (app, id) = d.split_once('/').unwrap_or((p.app, d));
                // Usually the migration just before it.
                let before = rank[i].checked_sub(1).filter(|r| key(by_name[*r]) == (app, id));
                match before.ok_or(()).or_else(|()| by_name.binary_search_by(|i| key(*i).cmp(&(app, id)))) {
                    Ok(r) => deps.push(by_name[r]),
                    Err(_) => {
                        let hint = if self.apps.iter().any(|a| a.app == app) {
                            format!("app `{app}` has no migration `{id}`")
                        } else {
                            format!("this binary does not link app `{app}`; add its migrations to the Migrator")
                        };
                        return Err(MigrateError::Usage(format!(
                            "migration `{}` depends on `{app}/{id}`: {hint}",
                            p.key()
                        )));
                    }
                }
            }
        }
        dep_start.push(deps.len());
        let deps_of = |i: usize| &deps[dep_start[i]..dep_start[i + 1]];
        // Kahn's algorithm; among the ready ones, the smallest (app, id) first.
        let mut indegree: Vec<usize> = (0..all.len()).map(|i| deps_of(i).len()).collect();
        // Who depends on whom, flat in the same way.
        let mut dependent_start = vec![0; all.len() + 1];
        for d in &deps {
            dependent_start[d + 1] += 1;
        }
        for i in 0..all.len() {
            dependent_start[i + 1] += dependent_start[i];
        }
        let mut dependents = vec![0; deps.len()];
        let mut filled = dependent_start.clone();
        for i in 0..all.len() {
            for d in deps_of(i) {
                dependents[filled[*d]] = i;
                filled[*d] += 1;
            }
        }
        let mut ready: BTreeSet<usize> = (0..all.len()).filter(|i| indegree[*i] == 0).map(|i| rank[i]).collect();
        let mut order = Vec::with_capacity(all.len());
        while let Some(r) = ready.pop_first() {
            let next = by_name[r];
            order.push(all[next]);
            for d in &dependents[dependent_start[next]..dependent_start[next + 1]] {
                indegree[*d] -= 1;
                if indegree[*d] == 0 {
                    ready.insert(rank[*d]);
                }
            }
        }
        if order.len() != all.len() {
            // Walk dependencies among the stuck ones until one repeats: that is a cycle.
            let stuck = |i: usize| indegree[i] > 0;
            let mut path: Vec<usize> = by_name.iter().copied().find(|i| stuck(*i)).into_iter().collect();
            while let Some(&last) = path.last() {
                match deps_of(last).iter().copied().find(|d| stuck(*d)) {
                    Some(k) if path.contains(&k) => {
                        let start = path.iter().position(|p| *p == k).unwrap_or(0);
                        path.drain(..start);
                        path.push(k);
                        break;
                    }
                    Some(k) => path.push(k),
                    None => break,
                }
            }
            let cycle: Vec<String> = path.iter().map(|i| all[*i].key()).collect();
            return Err(MigrateError::Usage(format!(
                "the migrations depend on each other in a cycle: {} (each depends on the next); remove one of these dependencies",
                cycle.join(" → ")
            )));
        }
        Ok(order)
    }

    /// Takes the run's lock; returns the owner name (table strategy) to release with.
    async fn acquire<C: Connection>(&self, conn: &mut C) -> Result<String, MigrateError> {
        match self.lock {
            LockStrategy::Advisory => conn.lock(self.lock_timeout).await.map(|()| String::new()),
            LockStrategy::Table { lease } => {
                let owner = crate::table_lock::owner();
                // SQLite still needs its busy timeout to wait on the database's write lock.
                conn.lock(self.lock_timeout).await?;
                conn.unlock().await?;
                crate::table_lock::acquire(conn, &owner, self.lock_timeout, lease).await?;
                Ok(owner)
            }
        }
    }

    async fn release<C: Connection>(&self, conn: &mut C, owner: &str) -> Result<(), MigrateError> {
        match self.lock {
            LockStrategy::Advisory => conn.unlock().await,
            LockStrategy::Table { .. } => crate::table_lock::release(conn, owner).await,
        }
    }

    /// The schema before `plan[i]`, replayed in memory.
    fn schema_before(&self, plan: &[Planned], i: usize) -> Result<Schema, MigrateError> {
        let mut schema = Schema::new();
        for p in &plan[..i] {
            let ops = p.migration.up_operations(&schema).map_err(render_error(p.key()))?;
            schema.apply_all(&ops).map_err(render_error(p.key()))?;
        }
        Ok(schema)
    }

    fn find(&self, plan: &[Planned], id: &str) -> Result<usize, MigrateError> {
        plan.iter()
            .position(|p| p.key() == id || p.migration.id == id)
            .ok_or_else(|| MigrateError::Usage(format!("no migration `{id}` in this binary")))
    }

    /// The SQL of one migration for `dialect`, forward or backward.
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_runtime::Dialect;
    /// let sql = Migrator::new(&MIGRATIONS).sql("0001_initial", Dialect::Postgres, false)?;
    /// assert!(sql[0].starts_with(r#"CREATE TABLE "notes""#));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sql(&self, id: &str, dialect: Dialect, backward: bool) -> Result<Vec<String>, MigrateError> {
        let plan = self.plan()?;
        let i = self.find(&plan, id)?;
        let p = plan[i];
        if backward {
            let after = self.schema_before(&plan, i + 1)?;
            let down = p.migration.down_steps(&after).map_err(render_error(p.key()))?;
            units_of(down, &after, dialect, &p.key()).map(|u| texts(&u))
        } else {
            let before = self.schema_before(&plan, i)?;
            let up = p.migration.up_steps(&before).map_err(render_error(p.key()))?;
            units_of(up, &before, dialect, &p.key()).map(|u| texts(&u))
        }
    }

    /// The history, creating its table on first use. The table is read first and
    /// created only if that fails, which saves a boot with nothing to do a statement.
    async fn prepare<C: Connection>(&self, conn: &mut C) -> Result<Vec<Applied>, MigrateError> {
        if let Ok(rows) = conn.applied().await {
            return Ok(rows);
        }
        self.ensure_history(conn).await?;
        conn.applied().await.map_err(MigrateError::db("reading the history table"))
    }

    /// [`Migrator::prepare`] reading only what `apply` needs.
    async fn prepare_summary<C: Connection>(&self, conn: &mut C) -> Result<history::Summary, MigrateError> {
        if let Ok(summary) = conn.applied_summary().await {
            return Ok(summary);
        }
        self.ensure_history(conn).await?;
        conn.applied_summary().await.map_err(MigrateError::db("reading the history table"))
    }

    /// [`Migrator::prepare`] reading only what a rollback needs.
    async fn prepare_brief<C: Connection>(&self, conn: &mut C) -> Result<Vec<Applied>, MigrateError> {
        if let Ok(rows) = conn.applied_brief().await {
            return Ok(rows);
        }
        self.ensure_history(conn).await?;
        conn.applied_brief().await.map_err(MigrateError::db("reading the history table"))
    }

    async fn ensure_history<C: Connection>(&self, conn: &mut C) -> Result<(), MigrateError> {
        conn.execute(&history::create_sql(conn.dialect())).await.map_err(MigrateError::db("creating the history table"))
    }

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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
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
        let mut conn = crate::any::AnyConnection::connect(url).await?;
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
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
        let plan = self.plan()?;
        let last = match &options.target {
            Some(t) => self.find(&plan, t)?,
            None => plan.len().saturating_sub(1),
        };
        let owner = self.acquire(conn).await?;
        let result = self.apply_locked(conn, options, &plan[..(last + 1).min(plan.len())]).await;
        let unlocked = self.release(conn, &owner).await;
        let steps = result?;
        unlocked?;
        Ok(steps)
    }

    async fn apply_locked<C: Connection>(
        &self,
        conn: &mut C,
        options: &ApplyOptions,
        plan: &[Planned],
    ) -> Result<Vec<Step>, MigrateError> {
        let dialect = conn.dialect();
        let mut summary = self.prepare_summary(conn).await?;
        let mut steps = Vec::new();

        // An interrupted MySQL migration: refuse, or finish it with --resume.
        if summary.interrupted {
            let applied = conn.applied_brief().await.map_err(MigrateError::db("reading the history table"))?;
            if let Some(row) = applied.iter().find(|r| r.steps_done.is_some()) {
                self.resume(conn, options, plan, row).await?;
            }
            summary = conn.applied_summary().await.map_err(MigrateError::db("reading the history table"))?;
        }

        let migrations = || plan.iter().map(|p| (p.app, p.migration.id));
        let checksums = summary.checksums(migrations());
        let mut replaced = false;
        for (p, &checksum) in plan.iter().zip(&checksums) {
            match checksum {
                Some(checksum) if checksum != p.migration.checksum && !(p.migration.draft && self.development) => {
                    return Err(MigrateError::Changed {
                        id: p.key(),
                        applied: checksum.to_string(),
                        embedded: p.migration.checksum.to_string(),
                    });
                }
                Some(checksum) => replaced |= checksum != p.migration.checksum,
                None if p.migration.draft && !self.development => {
                    return Err(MigrateError::Draft { id: p.key() });
                }
                None => {}
            }
        }

        let mut pending: Vec<bool> = checksums.iter().map(Option::is_none).collect();
        // Development: a draft that changed since it was applied is rolled back (with
        // the SQL stored when it was applied) and applied again below.
        if replaced {
            for (p, checksum) in plan.iter().zip(checksums).rev() {
                if checksum.is_none_or(|c| c == p.migration.checksum) {
                    continue;
                }
                let stored = conn
                    .reverse_sql(p.app, p.migration.id)
                    .await
                    .map_err(MigrateError::db("reading the stored reverse SQL"))?;
                let statements: Vec<Unit> = stored_reverse(&p.key(), stored)?.into_iter().map(Unit::Sql).collect();
                let rebuild = statements.iter().any(|s| s.to_string().contains("_chakra_new_"));
                self.run_in_transaction(conn, &p.key(), &statements, rebuild, Record::Delete(p.app, p.migration.id))
                    .await?;
            }
            summary = conn.applied_summary().await.map_err(MigrateError::db("reading the history table"))?;
            pending = summary.checksums(migrations()).iter().map(Option::is_none).collect();
        }
        let batch = summary.last_batch + 1;
        let pending: Vec<(usize, &Planned)> =
            plan.iter().enumerate().zip(pending).filter_map(|(planned, pending)| pending.then_some(planned)).collect();

        if pending.is_empty() {
            // The common boot: nothing to do, and nothing replayed or rendered to learn it.
            return Ok(steps);
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
            let units = units_of((ops.clone(), data), &schema, dialect, &key)?;
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
            let begin = if dialect == Dialect::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
            conn.execute(begin).await.map_err(MigrateError::db("starting the transaction"))?;
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
                Unit::Sql(s) => Some(s.as_str()),
                _ => None,
            });
            if run_batch(conn, sql).await? {
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
                    saved_triggers(conn, &statements)
                        .await
                        .map_err(MigrateError::db("reading the triggers of a table to rebuild"))
                } else {
                    Ok(Vec::new())
                };
                let run = match triggers {
                    Ok(triggers) => match self
                        .run_statements(conn, &key, &statements, "nothing of this run was kept (one transaction)")
                        .await
                    {
                        Ok(()) => restore_triggers(conn, &key, &triggers).await,
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
            } else if dialect.transactional_ddl() {
                self.run_in_transaction(conn, &key, &statements, rebuild, Record::Insert(&row, started)).await
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
        Ok(steps)
    }

    /// Refuses to go on from a migration an earlier run was interrupted in (MySQL), or,
    /// with `--resume`, runs the rest of its statements.
    async fn resume<C: Connection>(
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

    async fn run_statements<C: Connection>(
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
                Unit::Sql(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        let plain = sql.len() > 1 && statements.iter().all(|u| matches!(u, Unit::Sql(_) | Unit::Check(_)));
        if plain && conn.dialect().transactional_ddl() && run_batch(conn, sql).await? {
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
    async fn run_in_transaction<C: Connection>(
        &self,
        conn: &mut C,
        key: &str,
        statements: &[Unit],
        rebuild: bool,
        record: Record<'_>,
    ) -> Result<bool, MigrateError> {
        let sqlite = conn.dialect() == Dialect::Sqlite;
        if rebuild {
            // A no-op inside a transaction, so it goes first (see the SQLite table rebuild).
            conn.execute("PRAGMA foreign_keys = OFF").await.map_err(MigrateError::db("turning foreign keys off"))?;
        }
        conn.execute(if sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" })
            .await
            .map_err(MigrateError::db("starting the transaction"))?;
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
        // A table rebuild drops the table's triggers with it: keep them to re-create.
        let triggers = if rebuild {
            match saved_triggers(conn, statements).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(MigrateError::db("reading the triggers of a table to rebuild")(e));
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
            outcome = restore_triggers(conn, key, &triggers).await;
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

    /// MySQL commits each DDL statement itself: record progress after each, so an
    /// interruption leaves a row that says exactly how far it got.
    async fn run_mysql<C: Connection>(
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
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
        self.rollback_with(conn, &RollbackOptions { target: target.clone(), force, app: None }).await
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
    /// let options = RollbackOptions { target: RollbackTarget::LastBatch, force: false, app: Some("blog".into()) };
    /// migrator.rollback_with(conn, &options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn rollback_with<C: Connection>(
        &self,
        conn: &mut C,
        options: &RollbackOptions,
    ) -> Result<Vec<Step>, MigrateError> {
        let plan = self.plan()?;
        if let Some(app) = &options.app {
            if !self.apps.iter().any(|a| a.app == app) {
                let known: Vec<&str> = self.apps.iter().map(|a| a.app).collect();
                return Err(MigrateError::Usage(format!(
                    "no app `{app}` in this binary; its apps are: {}",
                    known.join(", ")
                )));
            }
        }
        let owner = self.acquire(conn).await?;
        let result = self.rollback_locked(conn, options, &plan).await;
        let unlocked = self.release(conn, &owner).await;
        let steps = result?;
        unlocked?;
        Ok(steps)
    }

    async fn rollback_locked<C: Connection>(
        &self,
        conn: &mut C,
        options: &RollbackOptions,
        plan: &[Planned],
    ) -> Result<Vec<Step>, MigrateError> {
        let (target, force) = (&options.target, options.force);
        let dialect = conn.dialect();
        let applied = self.prepare_brief(conn).await?;
        if let Some(row) = applied.iter().find(|r| r.steps_done.is_some()) {
            return Err(MigrateError::Usage(format!(
                "migration {}/{} was interrupted; finish it first (`migrate apply --resume`)",
                row.app, row.id
            )));
        }
        let mut order: Vec<Applied> =
            applied.iter().filter(|r| options.app.as_ref().is_none_or(|a| *a == r.app)).cloned().collect();
        order.reverse();
        let chosen: Vec<Applied> = match target {
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
                    None => return Err(MigrateError::Usage(format!("`{id}` is not applied"))),
                }
            }
        };
        refuse_orphans(plan, &applied, &chosen)?;
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
                    units_of(down, &after, dialect, &key)?
                }
                None => {
                    let stored = conn
                        .reverse_sql(&row.app, &row.id)
                        .await
                        .map_err(MigrateError::db("reading the stored reverse SQL"))?;
                    stored_reverse(&key, stored)?.into_iter().map(Unit::Sql).collect()
                }
            };
            self.report(Progress::Start { id: key.clone() });
            let started = Instant::now();
            if dialect.transactional_ddl() {
                let rebuild =
                    dialect == Dialect::Sqlite && statements.iter().any(|s| s.to_string().contains("_chakra_new_"));
                self.run_in_transaction(conn, &key, &statements, rebuild, Record::Delete(&row.app, &row.id)).await?;
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

    /// Where each migration stands, embedded ones in order, then applied ones this
    /// binary does not know.
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_runtime::State;
    ///
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// let migrator = Migrator::new(&MIGRATIONS);
    /// assert_eq!(migrator.status(&mut conn).await?[0].state, State::Pending);
    /// migrator.apply(&mut conn).await?;
    /// assert!(matches!(migrator.status(&mut conn).await?[0].state, State::Applied(_)));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status<C: Connection>(&self, conn: &mut C) -> Result<Vec<StatusLine>, MigrateError> {
        let plan = self.plan()?;
        let applied = self.prepare(conn).await?;
        let by_key: BTreeMap<(String, String), &Applied> =
            applied.iter().map(|r| ((r.app.clone(), r.id.clone()), r)).collect();
        let mut lines: Vec<StatusLine> = plan
            .iter()
            .map(|p| {
                let state = match by_key.get(&(p.app.to_string(), p.migration.id.to_string())) {
                    None => State::Pending,
                    Some(r) if r.steps_done.is_some() => State::Interrupted(r.steps_done.unwrap_or_default()),
                    Some(r) if r.checksum != p.migration.checksum => State::Changed(r.applied_at.clone()),
                    Some(r) => State::Applied(r.applied_at.clone()),
                };
                StatusLine { app: p.app.into(), id: p.migration.id.into(), state, draft: p.migration.draft }
            })
            .collect();
        for r in &applied {
            if !plan.iter().any(|p| p.app == r.app && p.migration.id == r.id) {
                lines.push(StatusLine {
                    app: r.app.clone(),
                    id: r.id.clone(),
                    state: State::Unknown(r.applied_at.clone()),
                    draft: false,
                });
            }
        }
        Ok(lines)
    }

    /// The history table, in the order migrations were applied.
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// let migrator = Migrator::new(&MIGRATIONS);
    /// migrator.apply(&mut conn).await?;
    /// let history = migrator.history(&mut conn).await?;
    /// assert_eq!((history[0].id.as_str(), history[0].batch), ("0001_initial", 1));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn history<C: Connection>(&self, conn: &mut C) -> Result<Vec<Applied>, MigrateError> {
        self.prepare(conn).await
    }

    /// `migrate resolve ID --rolled-back` (MySQL recovery): forgets an interrupted
    /// migration after its statements were undone by hand.
    pub async fn resolve_rolled_back<C: Connection>(&self, conn: &mut C, id: &str) -> Result<(), MigrateError> {
        let applied = self.prepare(conn).await?;
        let row = applied
            .iter()
            .find(|r| r.id == id || format!("{}/{}", r.app, r.id) == id)
            .ok_or_else(|| MigrateError::Usage(format!("`{id}` is not in the history table")))?;
        conn.delete_applied(&row.app, &row.id).await.map_err(MigrateError::db("removing the history row"))
    }
}

/// The `CREATE TRIGGER` statements of every table the units rebuild.
async fn saved_triggers<C: Connection>(conn: &mut C, units: &[Unit]) -> Result<Vec<String>, sqlx::Error> {
    let mut triggers = Vec::new();
    for table in rebuilt_tables(units) {
        triggers.extend(conn.triggers_of(&table).await?);
    }
    Ok(triggers)
}

/// Re-creates triggers a rebuild dropped; one that no longer fits stops the migration.
async fn restore_triggers<C: Connection>(conn: &mut C, key: &str, triggers: &[String]) -> Result<(), MigrateError> {
    for trigger in triggers {
        if let Err(e) = conn.execute(trigger).await {
            return Err(MigrateError::Usage(format!(
                "migration {key} rebuilt a table, and its trigger could not be re-created, so nothing of the migration was kept:\n  {trigger}\n  the database said: {e}\n  drop or change the trigger in an earlier migration"
            )));
        }
    }
    Ok(())
}

/// The tables a SQLite table rebuild recreates (`CREATE TABLE "_chakra_new_<name>"`).
fn rebuilt_tables(units: &[Unit]) -> Vec<String> {
    const PREFIX: &str = "CREATE TABLE \"_chakra_new_";
    units
        .iter()
        .filter_map(|u| match u {
            Unit::Sql(sql) => sql.strip_prefix(PREFIX),
            Unit::Data(..) | Unit::Check(_) => None,
        })
        .map(|rest| {
            let mut name = String::new();
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                name.push(c);
            }
            name
        })
        .collect()
}

async fn run_unit<C: Connection>(conn: &mut C, unit: &Unit) -> Result<(), sqlx::Error> {
    match unit {
        Unit::Sql(sql) => conn.execute(sql).await,
        Unit::Data(_, step) => step(conn.data()).await,
        // Run by `precheck` before the first statement.
        Unit::Check(_) => Ok(()),
    }
}

/// The history change made in the same transaction as a migration's statements.
enum Record<'a> {
    /// Record it as applied (unless another process just did), with the time since it started.
    Insert(&'a Applied, Instant),
    /// Forget it (a rollback).
    Delete(&'a str, &'a str),
}

/// Runs `statements` in one round trip, inside a savepoint of the transaction they run
/// in. `Ok(false)` when one of them failed: the savepoint is undone, nothing of the batch
/// is left, and the caller runs them one at a time to name the one that fails.
async fn run_batch<'s, C: Connection>(
    conn: &mut C,
    statements: impl IntoIterator<Item = &'s str>,
) -> Result<bool, MigrateError> {
    let mut sql = String::from("SAVEPOINT chakra_batch;\n");
    for statement in statements {
        sql.push_str(statement);
        sql.push_str(";\n");
    }
    sql.push_str("RELEASE chakra_batch");
    if conn.execute(&sql).await.is_ok() {
        return Ok(true);
    }
    conn.execute("ROLLBACK TO chakra_batch").await.map_err(MigrateError::db("undoing a failed batch"))?;
    conn.execute("RELEASE chakra_batch").await.map_err(MigrateError::db("undoing a failed batch"))?;
    Ok(false)
}

/// MySQL: records that the first `done` statements of `row`'s migration are committed.
async fn record_progress<C: Connection>(conn: &mut C, row: &Applied, done: usize) -> Result<(), MigrateError> {
    let done = i64::try_from(done).unwrap_or(i64::MAX);
    conn.update_progress(&row.app, &row.id, Some(done), 0).await.map_err(MigrateError::db("recording progress"))
}

/// MySQL: records that `row`'s migration is complete, having run since `started`.
async fn record_completion<C: Connection>(conn: &mut C, row: &Applied, started: Instant) -> Result<(), MigrateError> {
    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    conn.update_progress(&row.app, &row.id, None, ms).await.map_err(MigrateError::db("recording completion"))
}

/// The history row of a migration applied now, in run `batch`, with the SQL that undoes
/// it when that is plain SQL.
fn history_row(p: &Planned, batch: i64, reverse: Option<Vec<String>>) -> Applied {
    Applied {
        app: p.app.into(),
        id: p.migration.id.into(),
        applied_at: history::now(),
        checksum: p.migration.checksum.into(),
        execution_time_ms: 0,
        batch,
        reverse_sql: reverse.map(|r| r.join(STATEMENT_SEPARATOR)),
        steps_done: None,
    }
}

fn stored_reverse(key: &str, stored: Option<String>) -> Result<Vec<String>, MigrateError> {
    match &stored {
        Some(sql) => Ok(sql.split(STATEMENT_SEPARATOR).filter(|s| !s.trim().is_empty()).map(str::to_string).collect()),
        None => Err(MigrateError::Irreversible {
            id: key.to_string(),
            reason: "this binary does not know it and no reverse SQL was stored with it".into(),
        }),
    }
}
