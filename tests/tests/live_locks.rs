//! Migrations against a live database whose other sessions hold locks, on PostgreSQL and
//! MariaDB: a session holds an ordinary lock on `users` (an open transaction that read
//! it), another reads `users` in a loop, and the migration `0007_widen_username` must
//! alter it.
//!
//! - The migration waits at most the lock timeout per try, so no reader waits longer than
//!   that (plus a margin) behind it; after its last try it gives up naming the holder,
//!   keeps nothing, and leaves MariaDB without an "interrupted" migration.
//! - When the holder commits during the retries, the migration applies exactly once.
//! - MariaDB: `kill -9` of the app while its statement waits for a metadata lock; the next
//!   plain boot applies the migration with no manual step.
//! - A server that accepts the connection and never answers fails the boot within the
//!   connect timeout, naming the URL without its password.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chakra_tests::db::TestDb;
use chakra_tests::runtime_fixture::WIDEN;
use migrations_core::Dialect;
use migrations_runtime::sqlx::{self, Connection as _};
use migrations_runtime::{AnyConnection, ApplyOptions, LockRetry, MigrateError, Migrator, Progress};

/// The query of the session's own lock-wait setting on `dialect`.
fn setting(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT current_setting('lock_timeout')",
        Dialect::MySql => "SELECT CAST(@@SESSION.lock_wait_timeout AS CHAR)",
        Dialect::Sqlite => "SELECT 1",
    }
}

const LOCK_TIMEOUT: Duration = Duration::from_secs(1);
/// What a reader may wait beyond the lock timeout: the round trips and the scheduling of a
/// busy two-core machine.
const MARGIN: Duration = Duration::from_millis(800);

/// A session of its own on the test database, holding or reading.
enum Session {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
}

impl Session {
    async fn open(db: &TestDb) -> Session {
        match db.dialect {
            Dialect::Postgres => Session::Pg(sqlx::PgConnection::connect(&db.url).await.expect("connect")),
            _ => Session::My(sqlx::MySqlConnection::connect(&db.url).await.expect("connect")),
        }
    }

    async fn run(&mut self, sql: &str) {
        match self {
            Session::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Session::My(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Its PostgreSQL backend pid or MySQL connection id.
    async fn id(&mut self) -> String {
        match self {
            Session::Pg(c) => {
                sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(c).await.expect("pid").to_string()
            }
            Session::My(c) => {
                sqlx::query_scalar::<_, String>("SELECT CAST(CONNECTION_ID() AS CHAR)").fetch_one(c).await.expect("id")
            }
        }
    }

    /// Opens a transaction that reads `users` and leaves it open: PostgreSQL keeps an
    /// ACCESS SHARE lock on the table, MariaDB a shared metadata lock.
    async fn hold_users(&mut self) {
        let begin = if matches!(self, Session::Pg(_)) { "BEGIN" } else { "START TRANSACTION" };
        self.run(begin).await;
        self.run("SELECT count(*) FROM users").await;
    }
}

/// Reads `users` in a loop until told to stop (or 2 minutes pass); returns the longest
/// read and how many there were.
async fn reader(dialect: Dialect, url: &str, stop: &AtomicBool) -> (Duration, usize) {
    let mut session = match dialect {
        Dialect::Postgres => Session::Pg(sqlx::PgConnection::connect(url).await.expect("connect")),
        _ => Session::My(sqlx::MySqlConnection::connect(url).await.expect("connect")),
    };
    let (mut longest, mut reads) = (Duration::ZERO, 0);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let started = Instant::now();
        session.run("SELECT count(*) FROM users").await;
        longest = longest.max(started.elapsed());
        reads += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (longest, reads)
}

/// How `users.username` is declared now (its length), and what the history holds of 0007.
async fn state_of(db: &mut TestDb) -> (String, Vec<String>) {
    let (as_text, schema) = match db.dialect {
        Dialect::MySql => ("CHAR", "DATABASE()"),
        _ => ("TEXT", "current_schema()"),
    };
    let length = db
        .query_strings(&format!(
            "SELECT CAST(character_maximum_length AS {as_text}) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'username' AND table_schema = {schema}"
        ))
        .await;
    let history = db
        .query_strings(&format!(
            "SELECT CAST(CONCAT(id, ' steps_done=', COALESCE(CAST(steps_done AS {as_text}), 'none')) AS {as_text}) FROM _chakra_migrations WHERE id = '0007_widen_username'"
        ))
        .await;
    (length.concat(), history)
}

/// Every wait reported, by either backend's test (they share the process).
static REPORTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn count_waits(p: &Progress) {
    if let Progress::LockWait { report, .. } = p {
        REPORTS.lock().expect("lock").push(report.clone());
        eprintln!("{report}");
    }
}

/// How many waits naming a holder of `dialect` were reported so far.
fn waits_reported(dialect: Dialect) -> usize {
    let marker = if dialect == Dialect::Postgres { "PostgreSQL pid" } else { "MySQL connection" };
    REPORTS.lock().expect("lock").iter().filter(|r| r.contains(marker)).count()
}

fn patient_migrator(tries: u32) -> Migrator {
    Migrator::new(&WIDEN).lock_timeout(LOCK_TIMEOUT).on_progress(count_waits).lock_retry(LockRetry {
        tries,
        first_backoff: Duration::from_millis(300),
        max_backoff: Duration::from_millis(600),
        deadline: Duration::from_secs(60),
    })
}

async fn blocked_migration_gives_up_then_applies_once(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "livelock").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let first = ApplyOptions { target: Some("0001_create_users".into()), ..Default::default() };
    Migrator::new(&WIDEN).apply_with(&mut conn, &first).await.expect("0001");
    db.execute_all(&["INSERT INTO users (username) VALUES ('ada'), ('grace')".into()]).await;
    let before = state_of(&mut db).await;
    let setting_before =
        migrations_runtime::Connection::query_text(&mut conn, setting(dialect)).await.expect("setting");
    assert_eq!(before, ("50".to_string(), vec![]), "{dialect}");

    // The holder outlives the whole retry window.
    let mut holder = Session::open(&db).await;
    let holder_id = holder.id().await;
    holder.hold_users().await;
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (result, (longest, count)) = tokio::join!(
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let result = patient_migrator(3).apply(&mut conn).await;
            stop.store(true, Ordering::Relaxed);
            result
        },
        reader(dialect, &db.url, &stop)
    );
    let err = result.expect_err("the lock is held throughout");
    let text = err.to_string();
    println!(
        "{dialect}: gave up after {:?}; the reader's longest read of {count}: {longest:?}\n{text}",
        started.elapsed()
    );
    assert!(matches!(&err, MigrateError::LockConflict(c) if c.tries == 3), "{dialect}: {text}");
    assert!(text.contains(&holder_id), "{dialect}: the holder {holder_id} is not named: {text}");
    if dialect == Dialect::Postgres {
        assert!(text.contains("on users"), "{dialect}: the table is not named: {text}");
    }
    assert!(text.contains("nothing of this migration was"), "{dialect}: {text}");
    assert!(longest <= LOCK_TIMEOUT + MARGIN, "{dialect}: a reader waited {longest:?} behind the migration");
    assert!(count > 10, "{dialect}: the reader read only {count} times");
    // Nothing of it is kept, and no interrupted migration is left behind.
    assert_eq!(state_of(&mut db).await, before, "{dialect}");
    // The session's own lock-wait setting is put back after the run.
    let after = migrations_runtime::Connection::query_text(&mut conn, setting(dialect)).await.expect("setting");
    assert_eq!(after, setting_before, "{dialect}: the session's setting was not restored");

    // The holder ends its transaction during the retries: the migration applies, once.
    let reported_before = waits_reported(dialect);
    let stop = AtomicBool::new(false);
    let (result, (), (longest, _)) = tokio::join!(
        async {
            let result = patient_migrator(8).apply(&mut conn).await;
            stop.store(true, Ordering::Relaxed);
            result
        },
        async {
            tokio::time::sleep(LOCK_TIMEOUT * 2).await;
            holder.run("COMMIT").await;
        },
        reader(dialect, &db.url, &stop)
    );
    let steps = result.unwrap_or_else(|e| panic!("{dialect}: {e}"));
    assert_eq!(steps.len(), 1, "{dialect}: {steps:?}");
    assert!(waits_reported(dialect) > reported_before, "{dialect}: no wait was reported");
    assert!(longest <= LOCK_TIMEOUT + MARGIN, "{dialect}: a reader waited {longest:?} behind the migration");
    assert_eq!(
        state_of(&mut db).await,
        ("80".to_string(), vec!["0007_widen_username steps_done=none".to_string()]),
        "{dialect}"
    );
    drop(conn);
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_migration_gives_up_then_applies_once_on_postgres() {
    blocked_migration_gives_up_then_applies_once(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_migration_gives_up_then_applies_once_on_mariadb() {
    blocked_migration_gives_up_then_applies_once(Dialect::MySql).await;
}

/// The app killed while its statement waits for a metadata lock: the next plain boot
/// applies the migration, with no `--resume` and no person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_waiting_for_a_metadata_lock_the_next_boot_applies_on_mariadb() {
    let Some(mut db) = TestDb::create(Dialect::MySql, "livekill").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let first = ApplyOptions { target: Some("0001_create_users".into()), ..Default::default() };
    Migrator::new(&WIDEN).apply_with(&mut conn, &first).await.expect("0001");
    let mut holder = Session::open(&db).await;
    holder.hold_users().await;

    let mut app = Command::new(env!("CARGO_BIN_EXE_fixture_app"))
        .args(["widen", &db.url, "migrate", "apply", "--lock-timeout", "30s"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start fixture_app");
    // Until its ALTER waits for the metadata lock.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = db
            .query_strings("SELECT CAST(ID AS CHAR) FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock%'")
            .await;
        if !waiting.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the app's statement never waited for the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.kill().expect("kill -9");
    app.wait().expect("reap");
    holder.run("COMMIT").await;

    let steps = Migrator::new(&WIDEN).apply(&mut conn).await.expect("the next plain boot");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(state_of(&mut db).await, ("80".to_string(), vec!["0007_widen_username steps_done=none".to_string()]));
    drop(conn);
    db.destroy().await;
}

/// A listener that accepts connections and never says a word.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        // Bounded: a test makes a few connections.
        for stream in listener.incoming().take(16) {
            held.push(stream);
        }
    });
    port
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_boot_within_the_connect_timeout() {
    let port = silent_server();
    for scheme in ["postgres", "mysql"] {
        let url = format!("{scheme}://app:s3cret-pw@127.0.0.1:{port}/prod");
        let started = Instant::now();
        let err = Migrator::new(&WIDEN)
            .connect_timeout(Duration::from_secs(1))
            .apply_url(&url)
            .await
            .expect_err("nobody answers");
        let took = started.elapsed();
        let text = err.to_string();
        assert!(matches!(err, MigrateError::ConnectTimeout { .. }), "{scheme}: {text}");
        assert!(took < Duration::from_secs(1) + MARGIN, "{scheme}: gave up after {took:?}");
        assert!(text.contains(&format!("{scheme}://app:***@127.0.0.1:{port}/prod")), "{scheme}: {text}");
        assert!(!text.contains("s3cret"), "{scheme}: the password is shown: {text}");
    }
}
