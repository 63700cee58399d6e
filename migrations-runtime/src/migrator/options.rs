//! The options and reports of a run: how to apply, what to roll back, how to keep other
//! processes out, and what the migrator reports as it goes.

use std::time::Duration;

/// Something the migrator reports while it works (for progress lines).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// A rollback is about to run the reverse SQL stored in the database with a migration
    /// this binary does not know (see [`RollbackOptions::run_stored_sql`]).
    StoredSql {
        /// The migration, as `app/id`.
        id: String,
        /// The statements, as stored.
        statements: Vec<String>,
    },
    /// A statement gave up waiting for a lock another session holds; nothing of it was
    /// kept, and the migration is tried again after `retry_in`.
    LockWait {
        /// The migration, as `app/id`.
        id: String,
        /// Which try just failed (1-based).
        attempt: u32,
        /// Tries in all.
        tries: u32,
        /// The wait before the next try.
        retry_in: Duration,
        /// What waited on what, and who holds the lock, for people.
        report: String,
    },
    /// The check after a boot's apply found that the database differs from what its
    /// migrations build (see [`Migrator::verify_on_boot`](crate::Migrator::verify_on_boot)).
    Drift {
        /// Every difference, for people.
        report: String,
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackOptions {
    /// Which migrations.
    pub target: RollbackTarget,
    /// Remove irreversible migrations from the history anyway.
    pub force: bool,
    /// Only this app's migrations (the target counts within the app).
    pub app: Option<String>,
    /// Roll back a migration this binary does not know (applied by a newer binary) by
    /// running the reverse SQL stored with it in the history table. That SQL comes from
    /// the database, which anyone able to write the history table can change, so it runs
    /// only when asked for, and is reported first ([`Progress::StoredSql`]).
    pub run_stored_sql: bool,
    /// Remove the chosen migrations from the history without running anything (they
    /// were undone by hand).
    pub fake: bool,
}

/// What to roll back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The last batch (the migrations the last `apply` applied).
    #[default]
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
///     .run_lock_timeout(Duration::from_secs(120));
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

/// How a migration whose statement could not get a lock in time is tried again: after a
/// wait that doubles from `first_backoff` up to `max_backoff` (each wait jittered between
/// half and all of it, so processes booting together do not try in step), until `tries`
/// tries were made or `deadline` has passed since the first.
///
/// ```
/// # static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
/// use std::time::Duration;
/// use migrations_runtime::{LockRetry, Migrator};
///
/// // A busy table: short waits, many tries.
/// let migrator = Migrator::new(&MIGRATIONS)
///     .lock_timeout(Duration::from_secs(1))
///     .lock_retry(LockRetry { tries: 20, ..LockRetry::default() });
/// # let _ = migrator;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRetry {
    /// Tries in all (1: no retry).
    pub tries: u32,
    /// The wait after the first failed try.
    pub first_backoff: Duration,
    /// The longest wait between tries.
    pub max_backoff: Duration,
    /// No try starts later than this after the first.
    pub deadline: Duration,
}

impl Default for LockRetry {
    /// 5 tries, waits of 1, 2, 4 and 8 s (jittered), within 2 minutes.
    fn default() -> Self {
        LockRetry {
            tries: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(15),
            deadline: Duration::from_secs(120),
        }
    }
}

/// Reads a duration as people write it: `3s`, `500ms`, `1.5s`, `2m`, or a bare number of
/// seconds.
///
/// ```
/// use std::time::Duration;
/// use migrations_runtime::parse_duration;
///
/// assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
/// assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 && !scale.is_nan() => Ok(Duration::from_secs_f64(n * scale)),
        _ => Err(format!("`{text}` is not a duration: write it as `3s`, `500ms`, `2m` or a number of seconds")),
    }
}
