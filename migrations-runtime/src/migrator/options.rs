//! The options and reports of a run: how to apply, what to roll back, how to keep other
//! processes out, and what the migrator reports as it goes.

use std::time::Duration;

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
