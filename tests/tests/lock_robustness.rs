//! The migration lock under trouble, on each backend: a run that cannot get the lock
//! within its timeout fails, naming the holder where the database can tell (PostgreSQL:
//! its backend pid; MySQL: its connection id); a process killed with `kill -9` while
//! holding the lock does not block the next run, which applies everything.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chakra_tests::db::TestDb;
use chakra_tests::runtime_fixture::BLOG;
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, MigrateError, Migrator};

/// The holder process, killed however the test ends.
struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn dead_holders_do_not_block(dialect: Dialect) {
    let Some(db) = TestDb::create(dialect, "lock").await else { return };
    let mut holder = Holder(
        Command::new(env!("CARGO_BIN_EXE_lock_holder"))
            .arg(&db.url)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start lock_holder"),
    );
    let mut line = String::new();
    BufReader::new(holder.0.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
    let session = line.trim().strip_prefix("locked ").unwrap_or_else(|| panic!("{dialect}: holder said {line:?}"));

    // Alive: the run waits its timeout, then names the holder.
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    // SQLite has no run lock: its write lock is waited for as any other lock.
    let impatient = Migrator::new(&BLOG)
        .run_lock_timeout(Duration::from_secs(1))
        .lock_timeout(Duration::from_secs(1))
        .lock_retry(migrations_runtime::LockRetry { tries: 1, ..Default::default() });
    let err = impatient.apply(&mut conn).await.expect_err("the lock is held");
    let text = err.to_string();
    match dialect {
        Dialect::Postgres => {
            assert!(matches!(err, MigrateError::LockTimeout { .. }), "{text}");
            assert!(text.contains(&format!("backend pid {session}")), "{dialect}: holder not named: {text}");
        }
        Dialect::MySql => {
            assert!(matches!(err, MigrateError::LockTimeout { .. }), "{text}");
            assert!(text.contains(session), "{dialect}: holder not named: {text}");
        }
        Dialect::Sqlite => {
            assert!(matches!(err, MigrateError::LockConflict(_)), "{text}");
            assert!(text.contains("write lock"), "{dialect}: {text}");
        }
    }
    println!("{dialect}: with the lock held: {text}");

    // Dead: the next run gets the lock and applies everything.
    holder.0.kill().expect("kill -9");
    holder.0.wait().expect("reap");
    let started = Instant::now();
    let patient = Migrator::new(&BLOG).run_lock_timeout(Duration::from_secs(60));
    let steps = patient.apply(&mut conn).await.unwrap_or_else(|e| panic!("{dialect}: after the holder died: {e}"));
    assert_eq!(steps.len(), BLOG.migrations.len(), "{dialect}");
    println!("{dialect}: lock free {} ms after the holder was killed", started.elapsed().as_millis());
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(dead_holders_do_not_block:
    sqlite => dead_holders_do_not_block_on_sqlite,
    postgres => dead_holders_do_not_block_on_postgres,
    mariadb => dead_holders_do_not_block_on_mariadb,
);
