//! What a migration costs the other users of a live table (prints numbers; not a test).
//! On PostgreSQL and MariaDB, a `users` table of `--rows` rows, a reader (a point
//! `SELECT` in a loop) and a writer (an `UPDATE` and an `INSERT` in a loop), and the
//! migration `0007_widen_username` (an `ALTER TABLE` of `users`):
//!
//! - (a) blocked: another session holds an ordinary lock on `users` (an open transaction
//!   that read it) for `--hold` seconds, then commits;
//! - (b) unblocked: nobody holds a lock.
//!
//! Each runs twice: "before" waits for the lock as the runtime did before it bounded lock
//! waits (no lock timeout), "after" with the runtime's defaults (a 3 s lock timeout, 5
//! tries). Printed: the migration's wall time, and the reader's and the writer's maximum
//! and 99th-percentile latency while it ran.
//!
//! `cargo run --release -p chakra-tests --bin bench_live -- [--rows 100000] [--hold 8] [--backends postgres,mariadb]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chakra_tests::db::TestDb;
use chakra_tests::load::{worker, Seen};
use chakra_tests::runtime_fixture::WIDEN;
use migrations_core::Dialect;
use migrations_runtime::sqlx::{self, Connection as _};
use migrations_runtime::{AnyConnection, ApplyOptions, LockRetry, Migrator, RollbackTarget};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Opens a transaction that reads `users`, keeps it open for `hold`, then commits.
async fn hold_lock(dialect: Dialect, url: String, hold: Duration) {
    match dialect {
        Dialect::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::raw_sql("BEGIN; SELECT count(*) FROM users").execute(&mut c).await.expect("read");
            tokio::time::sleep(hold).await;
            sqlx::raw_sql("COMMIT").execute(&mut c).await.expect("commit");
        }
        _ => {
            let mut c = sqlx::MySqlConnection::connect(&url).await.expect("connect");
            sqlx::raw_sql("START TRANSACTION").execute(&mut c).await.expect("begin");
            sqlx::raw_sql("SELECT count(*) FROM users").execute(&mut c).await.expect("read");
            tokio::time::sleep(hold).await;
            sqlx::raw_sql("COMMIT").execute(&mut c).await.expect("commit");
        }
    }
}

/// One measured migration: returns its wall time, the reader's and the writer's latencies.
/// Everything runs in one task (joined futures: each waits on its own connection).
async fn measure(db: &TestDb, migrator: &Migrator, hold: Option<Duration>) -> (Duration, Seen, Seen) {
    let stop = AtomicBool::new(false);
    let reader = worker(db.dialect, db.url.clone(), vec!["SELECT username FROM users WHERE id = {n}"], 1000, &stop);
    let writer = worker(
        db.dialect,
        db.url.clone(),
        vec!["UPDATE users SET username = 'w{u}' WHERE id = {n}", "INSERT INTO users (username) VALUES ('new{u}')"],
        1000,
        &stop,
    );
    let holder = async {
        if let Some(hold) = hold {
            hold_lock(db.dialect, db.url.clone(), hold).await;
        }
    };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migration = async {
        // Let the workers and the holder settle in.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let result = migrator.apply(&mut conn).await;
        let wall = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        if let Err(e) = result {
            println!("  (the migration failed: {})", e.to_string().lines().next().unwrap_or_default());
        }
        wall
    };
    let (wall, reads, writes, ()) = tokio::join!(migration, reader, writer, holder);
    // Back to 0001 for the next measurement.
    let _ = Migrator::new(&WIDEN).rollback(&mut conn, &RollbackTarget::To("0001_create_users".into()), false).await;
    (wall, reads, writes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let rows: usize = arg("--rows").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let hold = Duration::from_secs(arg("--hold").and_then(|v| v.parse().ok()).unwrap_or(8));
    let backends = arg("--backends").unwrap_or_else(|| "postgres,mariadb".into());
    println!("bench_live: {rows} rows; the blocking session holds its lock for {hold:?}");
    println!(
        "{:<9} {:<10} {:<7} {:>10}  {:>20}  {:>20}",
        "backend", "scenario", "run", "migration", "reader max / p99", "writer max / p99"
    );
    for backend in backends.split(',') {
        let dialect = backend.parse::<Dialect>().ok().filter(|d| *d != Dialect::Sqlite);
        let dialect = dialect.unwrap_or_else(|| panic!("unknown backend `{backend}`: postgres or mariadb"));
        let Some(mut db) = TestDb::create(dialect, "benchlive").await else { continue };
        let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
        let first = ApplyOptions { target: Some("0001_create_users".into()), ..Default::default() };
        Migrator::new(&WIDEN).apply_with(&mut conn, &first).await.expect("0001");
        let mut filled = 0;
        while filled < rows {
            let chunk = (rows - filled).min(5_000);
            let values: Vec<String> = (filled..filled + chunk).map(|i| format!("('user{i}')")).collect();
            db.execute_all(&[format!("INSERT INTO users (username) VALUES {}", values.join(", "))]).await;
            filled += chunk;
        }
        // Before: no lock timeout, no retry (waits as long as the holder holds).
        let before = Migrator::new(&WIDEN)
            .lock_timeout(Duration::from_secs(3600))
            .lock_retry(LockRetry { tries: 1, ..LockRetry::default() });
        let after = Migrator::new(&WIDEN).on_progress(|_| {});
        for (scenario, held) in [("blocked", Some(hold)), ("unblocked", None)] {
            for (run, migrator) in [("before", &before), ("after", &after)] {
                let (wall, reads, writes) = measure(&db, migrator, held).await;
                println!(
                    "{:<9} {:<10} {:<7} {:>8.0} ms  {:>20}  {:>20}",
                    backend,
                    scenario,
                    run,
                    wall.as_secs_f64() * 1000.0,
                    reads.summary(),
                    writes.summary()
                );
            }
        }
        drop(conn);
        db.destroy().await;
    }
}
