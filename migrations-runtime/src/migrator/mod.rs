//! The migrator: brings a database to the embedded migrations, exactly once per
//! migration, each in its own transaction where the backend allows it.
//!
//! One concept per file: [`options`] (what a caller asks for and is told), `plan` (the
//! order of every migration), `units` (what a migration runs), `apply`, `transaction`
//! (one migration, all or nothing), `mysql_progress` (MySQL's per-statement progress and
//! `--resume`), `rollback` and `status` (reading the history).

use std::time::Duration;

use migrations_core::render::live::Forms;
use migrations_core::Dialect;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::registry::Migrations;

mod apply;
pub mod lock_wait;
mod mysql_keys;
mod mysql_progress;
pub mod options;
mod phases;
mod plan;
mod rollback;
mod script;
mod status;
mod transaction;
mod units;
mod verify;

pub use lock_wait::LockWaits;
pub use options::{
    parse_duration, ApplyOptions, LockRetry, LockStrategy, Progress, RollbackOptions, RollbackTarget, Step,
};
pub use rollback::{Loss, Undo};
pub use script::{script_of, ScriptRange, ScriptSteps, Scripted, StepsOf};
pub use status::{State, StatusLine};
use units::{described, render_error, units_of};
pub use verify::{Baseline, BootCheck, VerifyOptions};

/// The environment variable that marks a database for development (see
/// [`Migrator::development`]).
pub const DEVELOPMENT_VAR: &str = "CHAKRA_DEVELOPMENT";

/// The environment variable holding the URL migrations run with, when it differs from the
/// application's (see [`Migrator::migration_url`]).
pub const MIGRATION_URL_VAR: &str = "MIGRATION_DATABASE_URL";

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
    run_lock_timeout: Duration,
    lock_timeout: Option<Duration>,
    retry: Option<LockRetry>,
    connect_timeout: Option<Duration>,
    migration_url: Option<String>,
    development: Option<bool>,
    progress: Option<fn(&Progress)>,
    boot_check: BootCheck,
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
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
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
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
            run_lock_timeout: Duration::from_secs(60),
            lock_timeout: None,
            retry: None,
            connect_timeout: None,
            migration_url: None,
            development: None,
            progress: None,
            boot_check: BootCheck::Off,
        }
    }

    /// How the run keeps other processes out (default: the database's advisory lock).
    pub fn lock_strategy(mut self, strategy: LockStrategy) -> Self {
        self.lock = strategy;
        self
    }

    /// How long to wait for another process's run (its migration lock) to finish
    /// (default 60 s). SQLite has no run lock: see [`Migrator::lock_timeout`].
    pub fn run_lock_timeout(mut self, timeout: Duration) -> Self {
        self.run_lock_timeout = timeout;
        self
    }

    /// How long any one statement of a run waits for a lock another session holds on a
    /// table before it gives up (default: `CHAKRA_LOCK_TIMEOUT` from the environment,
    /// else 3 s). While an `ALTER TABLE` waits for its lock, every other reader and writer
    /// of the table waits behind it, so this bounds how long a migration can stall the
    /// table's users. A migration whose statement gave up keeps nothing and is tried
    /// again (see [`Migrator::lock_retry`]).
    ///
    /// PostgreSQL: `lock_timeout` (for the run's session, and `SET LOCAL` in each of its
    /// transactions); MySQL/MariaDB: `lock_wait_timeout` and `innodb_lock_wait_timeout`
    /// (whole seconds); SQLite: the busy timeout.
    ///
    /// ```
    /// # static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
    /// use std::time::Duration;
    /// use migrations_runtime::Migrator;
    ///
    /// let migrator = Migrator::new(&MIGRATIONS).lock_timeout(Duration::from_millis(1500));
    /// assert_eq!(migrator.lock_waits()?.lock_timeout, Duration::from_millis(1500));
    /// # Ok::<(), migrations_runtime::MigrateError>(())
    /// ```
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// How a migration that gave up waiting for a lock is tried again (default: 5 tries,
    /// or `CHAKRA_LOCK_TRIES` from the environment; see [`LockRetry`]).
    pub fn lock_retry(mut self, retry: LockRetry) -> Self {
        self.retry = Some(retry);
        self
    }

    /// How long [`Migrator::apply_url`] and the `migrate` CLI wait for the server to
    /// answer a new connection (default: `CHAKRA_CONNECT_TIMEOUT` from the environment,
    /// else 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The URL migrations run with, distinct from the application's own: a role that
    /// owns the schema migrates, while the application connects as a role that may only
    /// read and write rows (see SECURITY.md). Without it, `MIGRATION_DATABASE_URL` from
    /// the environment, else the URL [`Migrator::apply_url`] or the `migrate` CLI is given.
    pub fn migration_url(mut self, url: impl Into<String>) -> Self {
        self.migration_url = Some(url.into());
        self
    }

    /// Connects for a run within the connect timeout (see [`Migrator::connect_timeout`]):
    /// to the migration URL when there is one (see [`Migrator::migration_url`]), else to
    /// `app_url`.
    pub async fn connect(&self, app_url: &str) -> Result<crate::any::AnyConnection, MigrateError> {
        let timeout = lock_wait::connect_timeout(self.connect_timeout)?;
        let from_env = std::env::var(MIGRATION_URL_VAR).ok().filter(|u| !u.trim().is_empty());
        let url = self.migration_url.clone().or(from_env).unwrap_or_else(|| app_url.to_string());
        crate::any::AnyConnection::connect_within(&url, timeout).await
    }

    /// Marks the database as a development database: drafts are applied, and a draft
    /// that changed since it was applied is rolled back and applied again. Without it,
    /// `CHAKRA_DEVELOPMENT=1` (or `true`) in the environment marks it.
    pub fn development(mut self, yes: bool) -> Self {
        self.development = Some(yes);
        self
    }

    /// Whether the database is marked for development (see [`Migrator::development`]).
    pub fn is_development(&self) -> Result<bool, MigrateError> {
        if let Some(yes) = self.development {
            return Ok(yes);
        }
        match std::env::var(DEVELOPMENT_VAR) {
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "" | "0" | "false" | "no" | "off" => Ok(false),
                other => {
                    Err(MigrateError::Usage(format!("{DEVELOPMENT_VAR}: `{other}` is not yes or no: write 1 or 0")))
                }
            },
            Err(_) => Ok(false),
        }
    }

    /// Called as each migration starts and ends.
    pub fn on_progress(mut self, f: fn(&Progress)) -> Self {
        self.progress = Some(f);
        self
    }

    /// Reports `p` to the progress callback; without one, a wait for another session's
    /// lock still goes to standard error, so that a boot is never silent while it waits.
    pub(super) fn report(&self, p: Progress) {
        match (self.progress, &p) {
            (Some(f), _) => f(&p),
            (None, Progress::LockWait { report, .. } | Progress::Drift { report }) => eprintln!("{report}"),
            (None, _) => {}
        }
    }

    /// Takes the run's lock; returns the owner name (table strategy) to release with.
    pub(super) async fn acquire<C: Connection>(&self, conn: &mut C) -> Result<String, MigrateError> {
        match self.lock {
            LockStrategy::Advisory => conn.lock(self.run_lock_timeout).await.map(|()| String::new()),
            LockStrategy::Table { lease } => {
                let owner = crate::table_lock::owner();
                // SQLite still needs its busy timeout to wait on the database's write lock.
                conn.lock(self.run_lock_timeout).await?;
                conn.unlock().await?;
                crate::table_lock::acquire(conn, &owner, self.run_lock_timeout, lease).await?;
                Ok(owner)
            }
        }
    }

    pub(super) async fn release<C: Connection>(&self, conn: &mut C, owner: &str) -> Result<(), MigrateError> {
        match self.lock {
            LockStrategy::Advisory => conn.unlock().await,
            LockStrategy::Table { .. } => crate::table_lock::release(conn, owner).await,
        }
    }

    /// The SQL of one migration for `dialect`, forward or backward, as it runs on a live
    /// database: each statement after a comment that says how it runs (in the
    /// migration's transaction, outside one, in batches), the lock it takes, and whether
    /// it reads or rewrites the table.
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
    /// use migrations_runtime::Dialect;
    /// let sql = Migrator::new(&MIGRATIONS).sql("0001_initial", Dialect::Postgres, false)?;
    /// // Each statement after a comment on how it runs and what it locks.
    /// assert!(sql[0].starts_with("-- in the migration's transaction; ACCESS EXCLUSIVE"));
    /// assert!(sql[0].contains(r#"CREATE TABLE "notes""#));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sql(&self, id: &str, dialect: Dialect, backward: bool) -> Result<Vec<String>, MigrateError> {
        let plan = self.plan()?;
        let (plan, i) = match self.find(&plan, id) {
            Ok(i) => (plan, i),
            // One of the migrations a squash replaces: as a database that applied the
            // first of them runs it.
            Err(e) => {
                let first = |app: &str, id: &str| {
                    self.apps
                        .iter()
                        .any(|a| a.app == app && a.migrations.iter().any(|s| s.replaces.first() == Some(&id)))
                };
                let members = self.plan_against(&first)?;
                let i = self.find(&members, id).map_err(|_| e)?;
                (members, i)
            }
        };
        let p = plan[i];
        if backward {
            let after = self.schema_before(&plan, i + 1)?;
            let down = p.migration.down_steps(&after).map_err(render_error(p.key()))?;
            units_of(down, &after, dialect, &p.key(), Forms::Online).map(|u| described(&u, dialect))
        } else {
            let before = self.schema_before(&plan, i)?;
            let up = p.migration.up_steps(&before).map_err(render_error(p.key()))?;
            units_of(up, &before, dialect, &p.key(), Forms::Online).map(|u| described(&u, dialect))
        }
    }
}
