//! Living with other sessions' locks. A migration runs against a database other sessions
//! are using: its `ALTER TABLE` may have to wait for a lock one of them holds, and while
//! it waits, every reader and writer of that table queues behind it. So every statement
//! the runtime runs waits for a lock for a bounded time (the lock timeout); a statement
//! that gives up leaves nothing behind, and the migration is tried again after a backoff,
//! a few times, before the run fails naming who holds the lock.
//!
//! - PostgreSQL: `SET lock_timeout` for the run's session (restored at its end), and
//!   `SET LOCAL lock_timeout` in every transaction the runtime opens, which also holds
//!   behind a pooler in transaction mode (the lock-table strategy), where a session
//!   setting could land on another client's connection and is therefore not made.
//! - MySQL/MariaDB: `lock_wait_timeout` (metadata locks, which DDL waits on) and
//!   `innodb_lock_wait_timeout` (row locks) for the session, restored at its end.
//! - SQLite: the busy timeout.

use std::time::{Duration, Instant};

use migrations_core::dialect::quote_str;
use migrations_core::Dialect;

use crate::backend::Connection;
use crate::error::MigrateError;

use super::options::{parse_duration, LockRetry, LockStrategy, Progress};
use super::Migrator;

/// The environment variable that sets the lock timeout when the program does not.
pub const LOCK_TIMEOUT_VAR: &str = "CHAKRA_LOCK_TIMEOUT";
/// The environment variable that sets the number of tries when the program does not.
pub const LOCK_TRIES_VAR: &str = "CHAKRA_LOCK_TRIES";
/// The environment variable that sets the connect timeout when the program does not.
pub const CONNECT_TIMEOUT_VAR: &str = "CHAKRA_CONNECT_TIMEOUT";

/// The lock timeout when neither the program nor the environment sets one.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(3);
/// The connect timeout when neither the program nor the environment sets one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a run does about other sessions' locks, resolved from the [`Migrator`]'s options,
/// then the environment, then the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockWaits {
    /// How long one statement waits for a lock before it gives up.
    pub lock_timeout: Duration,
    /// How a migration that gave up is tried again.
    pub retry: LockRetry,
    /// Whether the session's own setting is changed for the run (not behind a pooler in
    /// transaction mode, see [`LockStrategy::Table`]).
    pub session: bool,
}

/// Reads a setting from the environment: `None` when unset, an error naming the variable
/// when set to something unreadable.
fn from_env<T>(var: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, MigrateError> {
    match std::env::var(var) {
        Ok(text) if !text.trim().is_empty() => {
            parse(&text).map(Some).map_err(|e| MigrateError::Usage(format!("{var}: {e}")))
        }
        _ => Ok(None),
    }
}

/// The connect timeout: `explicit`, else [`CONNECT_TIMEOUT_VAR`], else the default.
pub(crate) fn connect_timeout(explicit: Option<Duration>) -> Result<Duration, MigrateError> {
    match explicit {
        Some(t) => Ok(t),
        None => Ok(from_env(CONNECT_TIMEOUT_VAR, parse_duration)?.unwrap_or(DEFAULT_CONNECT_TIMEOUT)),
    }
}

impl Migrator {
    /// What this run does about other sessions' locks (see [`Migrator::lock_timeout`]):
    /// an unreadable `CHAKRA_LOCK_TIMEOUT` or `CHAKRA_LOCK_TRIES` is an error.
    pub fn lock_waits(&self) -> Result<LockWaits, MigrateError> {
        let lock_timeout = match self.lock_timeout {
            Some(t) => t,
            None => from_env(LOCK_TIMEOUT_VAR, parse_duration)?.unwrap_or(DEFAULT_LOCK_TIMEOUT),
        };
        let retry = match self.retry {
            Some(r) => r,
            None => {
                let tries = from_env(LOCK_TRIES_VAR, |t| {
                    t.trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("`{t}` is not a number of tries: write a whole number, 1 or more"))
                })?;
                LockRetry { tries: tries.unwrap_or(LockRetry::default().tries), ..LockRetry::default() }
            }
        };
        Ok(LockWaits { lock_timeout, retry, session: self.lock == LockStrategy::Advisory })
    }

    /// The session settings a run on `dialect` uses, as SQL with a comment saying what
    /// follows from them (what `migrate apply --dry-run` prints first).
    ///
    /// ```
    /// # static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
    /// use std::time::Duration;
    /// use migrations_runtime::{Dialect, Migrator};
    ///
    /// let lines = Migrator::new(&MIGRATIONS).lock_timeout(Duration::from_secs(2)).session_settings(Dialect::Postgres)?;
    /// assert_eq!(lines[0], "SET lock_timeout = '2000ms'");
    /// # Ok::<(), migrations_runtime::MigrateError>(())
    /// ```
    pub fn session_settings(&self, dialect: Dialect) -> Result<Vec<String>, MigrateError> {
        let waits = self.lock_waits()?;
        let mut lines = Vec::new();
        if waits.session || dialect != Dialect::Postgres {
            lines.push(session_sql(dialect, waits.lock_timeout));
        }
        if dialect == Dialect::Postgres {
            lines.push(format!(
                "-- and each migration's transaction starts with: SET LOCAL lock_timeout = '{}ms'",
                waits.lock_timeout.as_millis()
            ));
        }
        let r = waits.retry;
        lines.push(format!(
            "-- a statement waits at most {} for a lock another session holds; a migration that gives up keeps nothing and is tried again, {} tries in all, waiting {} to {} between them, within {}",
            seconds(waits.lock_timeout),
            r.tries,
            seconds(r.first_backoff),
            seconds(r.max_backoff),
            seconds(r.deadline)
        ));
        Ok(lines)
    }
}

/// A duration for people: `3 s`, `250 ms`.
pub(crate) fn seconds(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The statement that bounds lock waits for the rest of the session.
fn session_sql(dialect: Dialect, timeout: Duration) -> String {
    match dialect {
        Dialect::Postgres => format!("SET lock_timeout = '{}ms'", timeout.as_millis().max(1)),
        // Whole seconds: neither server takes less than 1.
        Dialect::MySql => {
            let s = timeout.as_millis().div_ceil(1000).max(1);
            format!("SET SESSION lock_wait_timeout = {s}, SESSION innodb_lock_wait_timeout = {s}")
        }
        Dialect::Sqlite => format!("PRAGMA busy_timeout = {}", timeout.as_millis().max(1)),
    }
}

/// How a migration's transaction starts: PostgreSQL bounds its lock waits inside it too
/// (in the same round trip); SQLite takes the write lock at once.
pub(super) fn begin_sql(dialect: Dialect, waits: &LockWaits) -> String {
    match dialect {
        Dialect::Postgres => format!("BEGIN; SET LOCAL lock_timeout = '{}ms'", waits.lock_timeout.as_millis().max(1)),
        Dialect::Sqlite => "BEGIN IMMEDIATE".to_string(),
        Dialect::MySql => "BEGIN".to_string(),
    }
}

/// Bounds the session's lock waits for the run; returns the statement that puts the
/// session back as it was, if any.
pub(super) async fn bound<C: Connection>(conn: &mut C, waits: &LockWaits) -> Result<Option<String>, MigrateError> {
    let dialect = conn.dialect();
    let doing = || MigrateError::db("setting the lock timeout");
    let restore = match dialect {
        Dialect::Postgres if !waits.session => return Ok(None),
        Dialect::Postgres => {
            // Read and set in one round trip: the subquery's row (the old value) is made
            // before the outer row sets the new one.
            let sql = format!(
                "SELECT old.v FROM (SELECT current_setting('lock_timeout') AS v OFFSET 0) old WHERE set_config('lock_timeout', '{}ms', false) IS NOT NULL",
                waits.lock_timeout.as_millis().max(1)
            );
            let was = conn.query_text(&sql).await.map_err(doing())?;
            return Ok(was.first().map(|v| format!("SET lock_timeout = '{}'", v.replace('\'', "''"))));
        }
        Dialect::MySql => {
            let was = conn
                .query_text("SELECT CONCAT(@@SESSION.lock_wait_timeout, ',', @@SESSION.innodb_lock_wait_timeout)")
                .await
                .map_err(doing())?;
            was.first().and_then(|v| v.split_once(',')).and_then(|(a, b)| {
                let (a, b) = (a.parse::<f64>().ok()?, b.parse::<u64>().ok()?);
                Some(format!("SET SESSION lock_wait_timeout = {a}, SESSION innodb_lock_wait_timeout = {b}"))
            })
        }
        // The busy timeout is the runtime's own on SQLite (the run's lock sets it too).
        Dialect::Sqlite => None,
    };
    conn.execute(&session_sql(dialect, waits.lock_timeout)).await.map_err(doing())?;
    Ok(restore)
}

/// Puts the session's lock-wait setting back as it was before the run.
pub(super) async fn unbound<C: Connection>(conn: &mut C, restore: Option<String>) -> Result<(), MigrateError> {
    match restore {
        Some(sql) => conn.execute(&sql).await.map_err(MigrateError::db("restoring the lock timeout")),
        None => Ok(()),
    }
}

/// A failed try of a run that gave up waiting for a lock: the migration, the statement,
/// what the database is left in.
struct Conflict {
    id: String,
    statement: String,
    state: String,
}

impl Conflict {
    /// The conflict `error` reports, if it is one (and not some other failure).
    fn of<C: Connection>(error: &MigrateError, conn: &C) -> Option<Conflict> {
        match error {
            MigrateError::Statement { id, statement, source, state, .. } if conn.is_lock_conflict(source) => {
                Some(Conflict { id: id.clone(), statement: statement.clone(), state: state.clone() })
            }
            MigrateError::Database { doing, source } if conn.is_lock_conflict(source) => Some(Conflict {
                id: "the run".to_string(),
                statement: format!("({doing})"),
                state: "nothing of the migration was kept".to_string(),
            }),
            _ => None,
        }
    }
}

/// The tries of one run against other sessions' locks.
pub(super) struct Tries {
    waits: LockWaits,
    made: u32,
    started: Instant,
}

impl Tries {
    pub(super) fn new(waits: LockWaits) -> Tries {
        Tries { waits, made: 0, started: Instant::now() }
    }

    /// After a failed try: `Ok` once the wait before the next try is over, or the error
    /// to stop with (the same one when it is not about a lock; a report naming who holds
    /// the lock when no try is left).
    pub(super) async fn wait_after<C: Connection>(
        &mut self,
        migrator: &Migrator,
        conn: &mut C,
        error: MigrateError,
    ) -> Result<(), MigrateError> {
        let Some(conflict) = Conflict::of(&error, conn) else { return Err(error) };
        self.made += 1;
        let holders = holders(conn, &conflict.statement).await;
        let retry = self.waits.retry;
        let backoff = backoff(&retry, self.made);
        let first_line = conflict.statement.lines().next().unwrap_or_default().to_string();
        if self.made >= retry.tries || self.started.elapsed() + backoff > retry.deadline {
            return Err(MigrateError::LockConflict(Box::new(crate::error::LockConflict {
                id: conflict.id,
                tries: self.made,
                seconds: self.started.elapsed().as_secs(),
                lock_timeout: seconds(self.waits.lock_timeout),
                statement: first_line,
                holders,
                state: conflict.state,
                advice: advice(conn.dialect()),
            })));
        }
        let report = format!(
            "chakra: migration {} waited {} for a lock another session holds (try {} of {}); nothing of it was kept; trying again in {}\n  the statement: {first_line}\n  {holders}",
            conflict.id,
            seconds(self.waits.lock_timeout),
            self.made,
            retry.tries,
            seconds(backoff),
        );
        migrator.report(Progress::LockWait {
            id: conflict.id,
            attempt: self.made,
            tries: retry.tries,
            retry_in: backoff,
            report,
        });
        tokio::time::sleep(backoff).await;
        Ok(())
    }
}

/// The wait after the `made`-th failed try: doubling from the first, capped, and jittered
/// between half and all of it.
fn backoff(retry: &LockRetry, made: u32) -> Duration {
    let doubled = retry.first_backoff.saturating_mul(1u32 << (made.saturating_sub(1)).min(16));
    let capped = doubled.min(retry.max_backoff);
    capped.mul_f64(0.5 + 0.5 * jitter())
}

/// A number in [0, 1) that differs between processes and moments (no randomness
/// crate needed for spreading retries apart).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What an operator can do about a lock conflict on `dialect`.
fn advice(dialect: Dialect) -> String {
    let end = match dialect {
        Dialect::Postgres => "end or wait for the sessions above (`SELECT pg_terminate_backend(<pid>)` ends one)",
        Dialect::MySql => "end or wait for the connections above (`KILL <id>` ends one)",
        Dialect::Sqlite => "stop or wait for the process that holds the database's write lock",
    };
    format!(
        "{end}, then start again; for a table that is always busy, a longer lock timeout ({LOCK_TIMEOUT_VAR}, `--lock-timeout`) or more tries ({LOCK_TRIES_VAR}) let it wait longer, at the cost of the table's readers and writers waiting that long behind it"
    )
}

/// The identifiers quoted in `sql` (`"..."` or `` `...` ``): the tables, indexes and
/// columns a statement names, to look for who holds a lock on them.
fn quoted_names(sql: &str, quote: char) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Skip string literals.
            while let Some(c) = chars.next() {
                if c == '\'' && chars.next_if_eq(&'\'').is_none() {
                    break;
                }
            }
        } else if c == quote {
            let mut name = String::new();
            while let Some(c) = chars.next() {
                if c == quote && chars.next_if_eq(&quote).is_none() {
                    break;
                }
                name.push(c);
            }
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Who may hold the lock `statement` waited for, as lines for people: on PostgreSQL the
/// sessions holding a lock on a table it names (any table, when it names none), on
/// MySQL the connections with an open transaction or a running statement, oldest first.
async fn holders<C: Connection>(conn: &mut C, statement: &str) -> String {
    let sql = match conn.dialect() {
        Dialect::Postgres => {
            let names: Vec<String> = quoted_names(statement, '"')
                .iter()
                .map(|n| format!("to_regclass({})", quote_str(Dialect::Postgres, &Dialect::Postgres.quote(n))))
                .collect();
            let which = if names.is_empty() {
                "l.relation >= 16384".to_string()
            } else {
                format!("l.relation IN ({})", names.join(", "))
            };
            format!(
                "SELECT format('PostgreSQL pid %s (application %L, %s, transaction open %s s) holds %s on %s; its query: %s', \
                 a.pid, coalesce(a.application_name, ''), coalesce(a.state, 'unknown state'), \
                 coalesce(floor(extract(epoch FROM now() - a.xact_start))::bigint::text, '?'), \
                 string_agg(DISTINCT l.mode, ', '), string_agg(DISTINCT l.relation::regclass::text, ', '), \
                 left(split_part(coalesce(a.query, ''), E'\\n', 1), 160)) \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND {which} \
                 GROUP BY a.pid, a.application_name, a.state, a.xact_start, a.query \
                 ORDER BY a.xact_start NULLS LAST LIMIT 5"
            )
        }
        Dialect::MySql => "SELECT CAST(CONCAT('MySQL connection ', p.ID, ' (user ', IFNULL(p.USER, '?'), ' from ', IFNULL(p.HOST, '?'), ', ', p.COMMAND, ' for ', p.TIME, ' s', \
             IFNULL(CONCAT(', transaction open ', TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), ' s'), ''), ')', \
             IFNULL(CONCAT('; its statement: ', LEFT(REPLACE(p.INFO, '\\n', ' '), 160)), '; no statement running')) AS CHAR) \
             FROM information_schema.PROCESSLIST p LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID \
             WHERE p.ID <> CONNECTION_ID() AND p.COMMAND NOT IN ('Daemon', 'Binlog Dump') \
             AND (t.trx_id IS NOT NULL OR (p.INFO IS NOT NULL AND p.COMMAND <> 'Sleep')) \
             ORDER BY t.trx_started IS NULL, t.trx_started, p.TIME DESC LIMIT 5"
            .to_string(),
        Dialect::Sqlite => return "held by: another process holds the database's write lock (SQLite cannot tell which)".into(),
    };
    match conn.query_text(&sql).await {
        Ok(lines) if lines.is_empty() => {
            "held by: no session holds it any more (it may have just finished), or this role cannot see the others' sessions".into()
        }
        Ok(lines) => format!("held by: {}", lines.join("\n    ")),
        Err(e) => format!("held by: unknown (looking it up failed: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_skip_literals_and_unescape_quotes() {
        let sql =
            r#"ALTER TABLE "posts" ADD COLUMN "say ""hi""" text DEFAULT '"not" a name' REFERENCES "users" ("id")"#;
        assert_eq!(quoted_names(sql, '"'), ["posts", "say \"hi\"", "users", "id"]);
        assert_eq!(quoted_names("ALTER TABLE `a``b` ADD x int", '`'), ["a`b"]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_within_half_to_all_of_it() {
        let retry = LockRetry {
            tries: 10,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
        };
        for (made, full) in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)] {
            let wait = backoff(&retry, made).as_secs_f64();
            assert!(wait >= full * 0.5 && wait <= full, "try {made}: {wait}");
        }
    }

    #[test]
    fn session_sql_per_dialect() {
        let t = Duration::from_millis(2500);
        assert_eq!(session_sql(Dialect::Postgres, t), "SET lock_timeout = '2500ms'");
        assert_eq!(
            session_sql(Dialect::MySql, t),
            "SET SESSION lock_wait_timeout = 3, SESSION innodb_lock_wait_timeout = 3"
        );
        assert_eq!(session_sql(Dialect::Sqlite, t), "PRAGMA busy_timeout = 2500");
    }
}
