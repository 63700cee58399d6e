//! The lock-table strategy, for databases without advisory locks (CockroachDB, a
//! pooler in transaction mode): one row in `_chakra_lock`, inserted to take the lock and
//! deleted to release it. A holder that died leaves its row; after the lease it is taken
//! over, so a crash never blocks the next boot forever.

use std::time::{Duration, Instant};

use crate::backend::Connection;
use crate::error::MigrateError;

/// The lock table's name.
pub const TABLE: &str = "_chakra_lock";

fn epoch_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// A name for this process as a lock holder: host, pid and a start time.
pub fn owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let clean: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.').take(60).collect();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{clean}:{}:{nanos}", std::process::id())
}

/// Takes the lock row, waiting at most `timeout`; a row older than `lease` is taken over.
pub async fn acquire<C: Connection>(
    conn: &mut C,
    owner: &str,
    timeout: Duration,
    lease: Duration,
) -> Result<(), MigrateError> {
    let d = conn.dialect();
    let q = |s: &str| d.quote(s);
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {} ({} INTEGER NOT NULL PRIMARY KEY, {} VARCHAR(200) NOT NULL, {} BIGINT NOT NULL)",
        q(TABLE),
        q("id"),
        q("owner"),
        q("acquired_at")
    );
    // Processes booting together race to create the table, and PostgreSQL's
    // `IF NOT EXISTS` is not safe against that race: the loser simply tries again.
    let mut attempt = 0;
    while let Err(e) = conn.execute(&create).await {
        attempt += 1;
        if attempt >= 5 {
            return Err(MigrateError::db("creating the lock table")(e));
        }
        tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
    }
    let started = Instant::now();
    loop {
        let now = epoch_secs();
        let stale = now - i64::try_from(lease.as_secs()).unwrap_or(i64::MAX);
        // A holder past its lease is presumed dead.
        conn.execute(&format!("DELETE FROM {} WHERE {} = 1 AND {} < {stale}", q(TABLE), q("id"), q("acquired_at")))
            .await
            .map_err(MigrateError::db("clearing a stale lock"))?;
        let insert = format!(
            "INSERT INTO {} ({}, {}, {}) VALUES (1, '{}', {now})",
            q(TABLE),
            q("id"),
            q("owner"),
            q("acquired_at"),
            owner.replace('\'', "")
        );
        if conn.execute(&insert).await.is_ok() {
            return Ok(());
        }
        if started.elapsed() >= timeout {
            let holder = conn
                .query_text(&format!("SELECT {} FROM {} WHERE {} = 1", q("owner"), q(TABLE), q("id")))
                .await
                .ok()
                .and_then(|v| v.into_iter().next())
                .map_or_else(
                    || "the holder just finished; try again".to_string(),
                    |o| format!("the lock row in `{TABLE}` is held by `{o}` (host:pid:start); if that process is gone, delete the row or wait for its lease of {} s to end", lease.as_secs()),
                );
            return Err(MigrateError::LockTimeout { seconds: timeout.as_secs(), holder });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Releases the lock row if this process holds it.
pub async fn release<C: Connection>(conn: &mut C, owner: &str) -> Result<(), MigrateError> {
    let d = conn.dialect();
    let q = |s: &str| d.quote(s);
    conn.execute(&format!(
        "DELETE FROM {} WHERE {} = 1 AND {} = '{}'",
        q(TABLE),
        q("id"),
        q("owner"),
        owner.replace('\'', "")
    ))
    .await
    .map_err(MigrateError::db("releasing the lock row"))
}
