//! The runtime's errors: each names the migration, and for a failed statement the
//! statement and the database's own message.

use migrations_core::render::RenderError;

/// Why a migration run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database could not be reached or a bookkeeping query failed.
    #[error("chakra: database error while {doing}: {}", server_says(.source))]
    Database {
        /// What the migrator was doing.
        doing: String,
        /// The database's error.
        #[source]
        source: Box<sqlx::Error>,
    },
    /// A statement of a migration failed; on PostgreSQL and SQLite nothing of that
    /// migration was kept.
    #[error("chakra: migration {id} failed at statement {index} of {count}:\n  {statement}\n  the database said: {}\n  {state}", server_says(.source))]
    Statement {
        /// The migration.
        id: String,
        /// 1-based statement number.
        index: usize,
        /// Statements in the migration.
        count: usize,
        /// The statement.
        statement: String,
        /// What the database said.
        #[source]
        source: Box<sqlx::Error>,
        /// What state the database is left in.
        state: String,
    },
    /// A column cannot change type: one of its values does not fit the new type. Found
    /// before any statement of the migration ran.
    #[error("chakra: migration {id} changes {table}.{column} to {target}, but it holds the value {value:?}, which does not fit; nothing of this migration was applied.\n  change or remove such values first (a data step or `m.run_sql(...)` in an earlier migration), then apply again")]
    Misfit {
        /// The migration.
        id: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The new type.
        target: String,
        /// The first value that does not fit.
        value: String,
    },
    /// MySQL: an earlier run stopped inside a migration (DDL commits itself there, so part
    /// of it is in the database), and this run cannot simply finish it.
    #[error("chakra: migration {id} was interrupted after {done} of {count} statements (MySQL commits DDL as it goes, so those {done} are in the database), and is not finished by itself: {why}.\n  to finish it: `migrate apply --resume` (runs statements {next}..{count})\n  to undo it instead, revert those statements by hand, then: `migrate resolve {id} --rolled-back`")]
    Interrupted {
        /// The migration.
        id: String,
        /// Statements committed.
        done: usize,
        /// Statements in the migration.
        count: usize,
        /// The next statement number.
        next: usize,
        /// Why it is not finished by itself.
        why: String,
    },
    /// An applied migration's source changed since it was applied.
    #[error("chakra: migration {id} was changed after it was applied (checksum {applied} in the database, {embedded} in this binary); restore the file, or write a new migration for the change; if the change is deliberate and the databases already match it, `migrate resolve {id} --accept-checksum`")]
    Changed {
        /// The migration.
        id: String,
        /// Checksum recorded when applied.
        applied: String,
        /// Checksum embedded now.
        embedded: String,
    },
    /// A draft migration met a database not marked for development.
    #[error("chakra: migration {id} is an unsealed draft; seal it (`cargo chakra seal`) or mark this database for development (`Migrator::development(true)`)")]
    Draft {
        /// The migration.
        id: String,
    },
    /// The lock could not be had in time.
    #[error("chakra: could not take the migration lock within {seconds} s; {holder}")]
    LockTimeout {
        /// The timeout.
        seconds: u64,
        /// Who holds it, where the database can tell.
        holder: String,
    },
    /// A statement of a migration waited longer than the lock timeout for a lock another
    /// session holds, on every try: the run gave up rather than keep the table's other
    /// users waiting behind it.
    #[error("{0}")]
    LockConflict(Box<LockConflict>),
    /// The server did not answer the connection in time.
    #[error("chakra: no answer from {url} within {seconds} s of connecting (the connect timeout); check that the host and port are a database server that is up, or raise the timeout (CHAKRA_CONNECT_TIMEOUT, `Migrator::connect_timeout`)")]
    ConnectTimeout {
        /// The URL, without its password.
        url: String,
        /// The timeout.
        seconds: f64,
    },
    /// A rollback would run SQL read from the database (the reverse SQL stored with
    /// migrations this binary does not know), and was not told to.
    #[error("chakra: the rollback reaches migrations this binary does not know; the only way to undo them is the SQL stored with them in the history table, which this binary cannot vouch for (anyone who can write `_chakra_migrations` could have put any SQL there). Nothing was rolled back. It would run:\n  {listing}\n  to run it: read it, then pass `--run-stored-sql` (`RollbackOptions::run_stored_sql`); or roll back with the binary that applied them")]
    StoredSql {
        /// Each migration with its stored statements, for people.
        listing: String,
    },
    /// A step cannot be rolled back.
    #[error("chakra: migration {id} cannot be rolled back: {reason}")]
    Irreversible {
        /// The migration.
        id: String,
        /// Why.
        reason: String,
    },
    /// Operations could not be rendered to SQL.
    #[error("chakra: migration {id}: {source}")]
    Render {
        /// The migration.
        id: String,
        /// Why.
        #[source]
        source: Box<RenderError>,
    },
    /// The database's schema is not what its migrations build (`migrate verify`,
    /// `migrate baseline`, or the check on boot).
    #[error("chakra: {doing}: the database differs from what the migrations build:\n{}\n  {advice}", listed(.drift))]
    Drift {
        /// What was being done.
        doing: String,
        /// Every difference.
        drift: Vec<migrations_core::catalog::Drift>,
        /// What to do about it.
        advice: String,
    },
    /// A migration, app or target that does not exist, a cycle, or a bad request.
    #[error("chakra: {0}")]
    Usage(String),
}

/// The report of a run that gave up waiting for other sessions' locks (see
/// [`MigrateError::LockConflict`]).
#[derive(Debug, thiserror::Error)]
#[error("chakra: migration {id} gave up after {tries} tries in {seconds} s: each time, a statement waited longer than the lock timeout ({lock_timeout}) for a lock another session holds.\n  the statement: {statement}\n  {holders}\n  {state}\n  what to do: {advice}")]
pub struct LockConflict {
    /// The migration.
    pub id: String,
    /// Tries made.
    pub tries: u32,
    /// Time from the first try to giving up.
    pub seconds: u64,
    /// The lock timeout, for people.
    pub lock_timeout: String,
    /// The first line of the statement that waited.
    pub statement: String,
    /// Who held the lock at the last try, where the database can tell.
    pub holders: String,
    /// What the database is left in.
    pub state: String,
    /// What the operator can do.
    pub advice: String,
}

/// One difference per line.
pub(crate) fn listed(drift: &[migrations_core::catalog::Drift]) -> String {
    drift.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n")
}

/// What the server said: its message, and on PostgreSQL its DETAIL and HINT, which often
/// hold what the message leaves out (the row that broke a constraint, what to do).
fn server_says(error: &sqlx::Error) -> String {
    #[cfg_attr(not(feature = "postgres"), allow(unused_mut))]
    let mut text = error.to_string();
    #[cfg(feature = "postgres")]
    if let Some(pg) = error.as_database_error().and_then(|e| e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()) {
        if let Some(detail) = pg.detail() {
            text.push_str("\n  DETAIL: ");
            text.push_str(detail);
        }
        if let Some(hint) = pg.hint() {
            text.push_str("\n  HINT: ");
            text.push_str(hint);
        }
    }
    text
}

impl MigrateError {
    pub(crate) fn db(doing: impl Into<String>) -> impl FnOnce(sqlx::Error) -> MigrateError {
        let mut doing = doing.into();
        move |source| {
            // SQLite's lock is the file's write lock; it cannot say who holds it.
            if source.as_database_error().is_some_and(|e| e.message().contains("database is locked")) {
                doing.push_str(
                    " (another process holds this SQLite file's write lock and kept it past the lock timeout; SQLite cannot tell which process)",
                );
            }
            MigrateError::Database { doing, source: Box::new(source) }
        }
    }
}
