//! `kill -9` of the applying process at seeded random moments, during an apply of three
//! migrations (every kind of ALTER, a new table with a foreign key, a data statement)
//! over a table of rows. Afterwards SQLite is exactly at a migration boundary — history,
//! live schema and every row agree with some number of applied migrations — and a rerun
//! completes. PostgreSQL is at a migration boundary or between two phases of an online
//! migration, and MariaDB at a migration boundary or between two statements; either way
//! the history row says how far it got, and the next plain apply finishes it. Every row
//! keeps its values in every trial.
//!
//! `CHAKRA_CRASH_TRIALS` (default 8 per backend in CI; RELIABILITY.md reports 50),
//! `CHAKRA_CRASH_ROWS` (default 20,000) and `CHAKRA_CRASH_SEED` (default 1) change the
//! run.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live_ignoring;
use chakra_tests::items::{dump, expected, fill, first_difference, schema_after};
use chakra_tests::runtime_fixture::ITEMS;
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, ApplyOptions, Connection as _, Migrator, RollbackTarget};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// xorshift64*: the same seed gives the same kill moments.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

fn apply_process(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fixture_app"));
    cmd.args(["items", url, "migrate", "apply"]).stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

/// The history, the live schema and the rows agree with `k` applied migrations.
async fn assert_boundary(db: &mut TestDb, k: usize, n: usize, trial: u64) {
    let dialect = db.dialect;
    check_live_ignoring(db, &schema_after(&ITEMS, k), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect} trial {trial}: history says {k} applied, the schema differs:\n{e}"));
    assert_rows(db, k, n, trial).await;
}

async fn assert_rows(db: &mut TestDb, k: usize, n: usize, trial: u64) {
    let dialect = db.dialect;
    let (got, want) = if k <= 1 {
        (dump(db, &["id", "name", "qty", "code", "note"]).await, expected(n, false))
    } else {
        (dump(db, &["id", "title", "qty", "code", "note", "views"]).await, expected(n, true))
    };
    assert!(got == want, "{dialect} trial {trial} ({k} applied): rows differ: {:?}", first_difference(&got, &want));
}

/// Waits until the killed process's server session is gone: until then the server may
/// still be working on what the process last sent (a COMMIT, say), and the history and
/// the schema would be read at two different moments. Only this test's two connections
/// may remain.
async fn wait_for_killed_session(db: &mut TestDb, trial: u64) {
    let sql = match db.dialect {
        Dialect::Postgres => "SELECT CAST(COUNT(*) AS TEXT) FROM pg_stat_activity WHERE datname = current_database()",
        Dialect::MySql => "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()",
        Dialect::Sqlite => return,
    };
    let started = Instant::now();
    loop {
        let sessions: usize = db.query_strings(sql).await.first().and_then(|n| n.parse().ok()).unwrap_or(0);
        if sessions <= 2 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} trial {trial}: the killed session never ended",
            db.dialect
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

async fn trials(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "crash").await else { return };
    let (count, n, seed) = (
        env_or("CHAKRA_CRASH_TRIALS", 8),
        env_or("CHAKRA_CRASH_ROWS", 20_000) as usize,
        env_or("CHAKRA_CRASH_SEED", 1),
    );
    let migrator = Migrator::new(&ITEMS);
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let first = ApplyOptions { target: Some("0101_create_items".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("create items");
    fill(&mut db, n).await;

    // How long an uninterrupted apply takes, to spread the kills over it.
    let started = Instant::now();
    assert!(apply_process(&db.url).status().expect("run fixture_app").success(), "{dialect}: calibration apply");
    let full = started.elapsed();
    migrator.rollback(&mut conn, &RollbackTarget::To("0101_create_items".into()), false).await.expect("reset");

    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (mut at_boundary, mut interrupted, mut finished) = (0, 0, 0);
    for trial in 0..count {
        let delay = Duration::from_micros(rng.below(full.as_micros() as u64 * 12 / 10));
        let mut child = apply_process(&db.url).spawn().expect("start fixture_app");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().expect("reap");
        if status.success() {
            finished += 1;
        }

        wait_for_killed_session(&mut db, trial).await;
        let applied = conn.applied().await.expect("history");
        match applied.iter().find(|r| r.steps_done.is_some()) {
            Some(row) => {
                // SQLite runs each migration in one transaction; PostgreSQL in phases when
                // it changes tables online; MariaDB a statement at a time.
                assert_ne!(dialect, Dialect::Sqlite, "{dialect} trial {trial}: a half-applied migration: {row:?}");
                interrupted += 1;
                // A plain run finishes it: no person needed after a crash.
                let steps = migrator.apply(&mut conn).await.unwrap_or_else(|e| {
                    panic!("{dialect} trial {trial}: finishing the interrupted migration failed: {e}")
                });
                assert!(
                    steps.iter().any(|s| s.id == row.id),
                    "{dialect} trial {trial}: {row:?} not finished: {steps:?}"
                );
            }
            None => {
                at_boundary += 1;
                assert!(
                    applied.iter().zip(ITEMS.migrations).all(|(r, m)| r.id == m.id),
                    "{dialect} trial {trial}: history is not a prefix: {applied:?}"
                );
                assert_boundary(&mut db, applied.len(), n, trial).await;
            }
        }

        // The rerun completes, with every row.
        migrator.apply(&mut conn).await.unwrap_or_else(|e| panic!("{dialect} trial {trial}: rerun: {e}"));
        assert_boundary(&mut db, ITEMS.migrations.len(), n, trial).await;
        migrator
            .rollback(&mut conn, &RollbackTarget::To("0101_create_items".into()), false)
            .await
            .unwrap_or_else(|e| panic!("{dialect} trial {trial}: rollback: {e}"));
        assert_boundary(&mut db, 1, n, trial).await;
    }
    println!(
        "{dialect}: {count} kill -9 trials over {n} rows (full apply {} ms): {at_boundary} at a boundary, {interrupted} interrupted and resumed, {finished} finished before the kill",
        full.as_millis()
    );
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(trials:
    sqlite => kill_9_during_apply_on_sqlite,
    postgres => kill_9_during_apply_on_postgres,
    mariadb => kill_9_during_apply_on_mariadb,
);
