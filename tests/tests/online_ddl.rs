//! Online schema changes against real PostgreSQL and MariaDB, on tables that hold rows
//! while a writer inserts and updates and a reader reads:
//!
//! - every operation with an online form (`0202_online`) applies and rolls back, the
//!   writer never fails, and every row is kept;
//! - PostgreSQL: the app killed (`kill -9`) between two phases of a migration: the next
//!   plain boot finishes it from where it stopped;
//! - PostgreSQL: a concurrent index build that failed leaves no INVALID index, and one
//!   left by an earlier run is dropped before the build is tried again;
//! - a backfill walks keys a quadrillion apart by rows, not by key values;
//! - MariaDB: a foreign key added in place (checks off) whose rows include one that
//!   references nothing is dropped again, naming the row, and added once it is fixed;
//! - the foreign-key cases InnoDB refuses in place (a referenced `varchar` widened, an
//!   INT primary key and the columns that reference it made BIGINT, a unique its foreign
//!   key used removed) apply and roll back, on MariaDB and PostgreSQL.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chakra_tests::db::TestDb;
use chakra_tests::runtime_fixture::{KEYS, ONLINE};
use migrations_core::Dialect;
use migrations_runtime::sqlx::{self, Connection as _};
use migrations_runtime::{AnyConnection, ApplyOptions, MigrateError, Migrator, RollbackOptions};

const ROWS: i64 = 20_000;

/// A connection of its own, for the writer, the reader or a lock holder.
enum Session {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
}

impl Session {
    async fn open(dialect: Dialect, url: &str) -> Session {
        match dialect {
            Dialect::Postgres => Session::Pg(sqlx::PgConnection::connect(url).await.expect("connect")),
            _ => Session::My(sqlx::MySqlConnection::connect(url).await.expect("connect")),
        }
    }

    async fn run(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Session::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Session::My(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
    }
}

/// What the writer or reader saw: how many statements, the longest, and every error.
#[derive(Debug, Default)]
struct Load {
    count: usize,
    longest: Duration,
    errors: Vec<String>,
}

/// Inserts accounts and orders and updates scores until `stop` (or two minutes pass).
async fn writer(dialect: Dialect, url: &str, stop: &AtomicBool) -> Load {
    let mut session = Session::open(dialect, url).await;
    let mut load = Load::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    // Handles stay unique across the runs of one test.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        n += 1;
        let account = n % ROWS + 1;
        let statements = [
            format!(
                "INSERT INTO accounts (email, handle, score) VALUES ('writer{n}@example.com', 'writer-{run}-{n}', 1)"
            ),
            format!("INSERT INTO orders (account_id, amount) VALUES ({account}, {n})"),
            format!("UPDATE accounts SET score = score + 1 WHERE id = {account}"),
        ];
        for sql in &statements {
            let started = Instant::now();
            if let Err(e) = session.run(sql).await {
                load.errors.push(format!("{sql}: {e}"));
            }
            load.longest = load.longest.max(started.elapsed());
            load.count += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    load
}

/// Reads accounts until `stop` (or two minutes pass).
async fn reader(dialect: Dialect, url: &str, stop: &AtomicBool) -> Load {
    let mut session = Session::open(dialect, url).await;
    let mut load = Load::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let started = Instant::now();
        if let Err(e) = session.run("SELECT count(*) FROM accounts WHERE score > 0").await {
            load.errors.push(e.to_string());
        }
        load.longest = load.longest.max(started.elapsed());
        load.count += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    load
}

/// Runs `work` while a writer and a reader load the database; both must see no error.
async fn under_load<F, T>(db: &TestDb, what: &str, work: F) -> T
where
    F: std::future::Future<Output = T>,
{
    let stop = AtomicBool::new(false);
    // One task, three futures: the load and the work interleave at every round trip.
    let (w, r, out) = tokio::join!(writer(db.dialect, &db.url, &stop), reader(db.dialect, &db.url, &stop), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let out = work.await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        out
    });
    eprintln!(
        "{} {what}: writer {} statements, longest {:?}; reader {} reads, longest {:?}",
        db.dialect, w.count, w.longest, r.count, r.longest
    );
    assert!(w.errors.is_empty(), "the writer failed during {what}: {:#?}", w.errors);
    assert!(r.errors.is_empty(), "the reader failed during {what}: {:#?}", r.errors);
    assert!(w.count > 0 && r.count > 0, "the load never ran");
    out
}

/// `ROWS` accounts (every tenth without an email) and as many orders.
async fn fill(db: &mut TestDb) {
    if db.dialect == Dialect::MySql {
        db.execute(&format!("SET SESSION max_recursive_iterations = {ROWS}")).await.expect("allow the series");
    }
    let series = format!("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {ROWS})");
    db.execute(&format!(
        "INSERT INTO accounts (email, handle, score) {series} SELECT CASE WHEN n % 10 = 0 THEN NULL ELSE CONCAT('user', n, '@example.com') END, CONCAT('user-', n), n FROM s"
    ))
    .await
    .expect("fill accounts");
    db.execute(&format!("INSERT INTO orders (account_id, amount) {series} SELECT n, n * 3 FROM s"))
        .await
        .expect("fill orders");
}

/// How `dialect` names the current schema, and the type to cast a value to for text.
fn words(dialect: Dialect) -> (&'static str, &'static str) {
    match dialect {
        Dialect::Postgres => ("current_schema()", "TEXT"),
        _ => ("DATABASE()", "CHAR"),
    }
}

async fn one(db: &mut TestDb, sql: &str) -> String {
    db.query_strings(sql).await.concat()
}

/// The facts 0202 changes, read from the catalog: whether `email` is nullable, which of
/// the indexes and constraints exist, and whether each constraint is validated.
async fn shape(db: &mut TestDb) -> Vec<String> {
    let mut facts = Vec::new();
    let (schema, text) = words(db.dialect);
    let nullable = one(
        db,
        &format!("SELECT CAST(is_nullable AS {text}) FROM information_schema.columns WHERE table_schema = {schema} AND table_name = 'accounts' AND column_name = 'email'"),
    )
    .await;
    facts.push(format!("email nullable: {nullable}"));
    let token = one(
        db,
        &format!("SELECT CAST(count(*) AS {text}) FROM information_schema.columns WHERE table_schema = {schema} AND table_name = 'accounts' AND column_name = 'token'"),
    )
    .await;
    facts.push(format!("token columns: {token}"));
    let indexes = match db.dialect {
        Dialect::Postgres => {
            db.query_strings("SELECT c.relname || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('accounts', 'orders') AND NOT i.indisprimary ORDER BY 1").await
        }
        _ => {
            db.query_strings("SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name IN ('accounts', 'orders') AND index_name <> 'PRIMARY' ORDER BY 1").await
        }
    };
    facts.push(format!("indexes: {}", indexes.join(", ")));
    let constraints = match db.dialect {
        Dialect::Postgres => {
            db.query_strings("SELECT conname || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END FROM pg_constraint WHERE conrelid IN ('accounts'::regclass, 'orders'::regclass) AND contype <> 'p' ORDER BY 1").await
        }
        _ => {
            db.query_strings("SELECT CAST(constraint_name AS CHAR) FROM information_schema.table_constraints WHERE constraint_schema = DATABASE() AND table_name IN ('accounts', 'orders') AND constraint_type <> 'PRIMARY KEY' ORDER BY 1").await
        }
    };
    facts.push(format!("constraints: {}", constraints.join(", ")));
    facts
}

async fn history(db: &mut TestDb) -> Vec<String> {
    let (_, text) = words(db.dialect);
    db.query_strings(&format!(
        "SELECT CAST(CONCAT(id, ' steps_done=', COALESCE(CAST(steps_done AS {text}), 'none')) AS {text}) FROM _chakra_migrations ORDER BY id"
    ))
    .await
}

async fn online_forms_keep_data_and_writers(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "online").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&ONLINE);
    let first = ApplyOptions { target: Some("0201_create_accounts".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("0201");
    fill(&mut db).await;
    let before = shape(&mut db).await;

    let steps = under_load(&db, "0202_online", migrator.apply(&mut conn)).await.expect("0202 applies online");
    assert_eq!(steps.len(), 1);
    let after = shape(&mut db).await;
    assert_eq!(after[0], "email nullable: NO", "{after:?}");
    assert_eq!(after[1], "token columns: 1", "{after:?}");
    assert!(after[2].contains("ix_accounts_email") && !after[2].contains("ix_orders_amount"), "{after:?}");
    assert!(!after[2].contains("INVALID"), "{after:?}");
    assert_eq!(
        after[3], "constraints: ck_accounts_score, fk_orders_account_id_accounts, uq_accounts_handle",
        "every constraint validated, no stand-in check left: {after:?}"
    );
    assert_eq!(history(&mut db).await, ["0201_create_accounts steps_done=none", "0202_online steps_done=none"]);

    // Every row kept: the filled emails are the ones that were NULL, every token is set
    // and different.
    let (_, text) = words(dialect);
    let filled =
        one(&mut db, &format!("SELECT CAST(count(*) AS {text}) FROM accounts WHERE email = 'unknown@example.com'"))
            .await;
    assert_eq!(filled, (ROWS / 10).to_string());
    let first_rows =
        one(&mut db, &format!("SELECT CAST(count(*) AS {text}) FROM accounts WHERE handle LIKE 'user-%'")).await;
    assert_eq!(first_rows, ROWS.to_string());
    let tokens =
        one(&mut db, &format!("SELECT CAST(count(DISTINCT token) AS {text}) FROM accounts WHERE token IS NOT NULL"))
            .await;
    let accounts = one(&mut db, &format!("SELECT CAST(count(*) AS {text}) FROM accounts")).await;
    assert_eq!(tokens, accounts, "every row has its own token");

    // And back, under the same load.
    let rollback = RollbackOptions::default();
    let undone = under_load(&db, "rollback of 0202_online", migrator.rollback_with(&mut conn, &rollback))
        .await
        .expect("0202 rolls back");
    assert_eq!(undone.len(), 1);
    assert_eq!(shape(&mut db).await, before);
    assert_eq!(history(&mut db).await, ["0201_create_accounts steps_done=none"]);
    drop(conn);
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_forms_keep_data_and_writers_on_postgres() {
    online_forms_keep_data_and_writers(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_forms_keep_data_and_writers_on_mariadb() {
    online_forms_keep_data_and_writers(Dialect::MySql).await;
}

/// A backfill walks the primary key a range of rows at a time, ranges read from the
/// key's index: keys a quadrillion apart cost no empty ranges (a walk in steps of key
/// values would not end), and every row is filled.
async fn sparse_keys_are_walked_by_rows(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "sparse").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&ONLINE);
    let first = ApplyOptions { target: Some("0201_create_accounts".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("0201");
    db.execute(
        "INSERT INTO accounts (id, email, handle, score) VALUES (1, NULL, 'a', 1), (1000000000000000, NULL, 'b', 2), (2000000000000000, 'c@example.com', 'c', 3)",
    )
    .await
    .expect("rows");
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(60), migrator.apply(&mut conn))
        .await
        .expect("the walk ends")
        .unwrap_or_else(|e| panic!("{dialect}: 0202: {e}"));
    let (_, text) = words(dialect);
    let emails =
        db.query_strings(&format!("SELECT CAST(CONCAT(id, ' ', email) AS {text}) FROM accounts ORDER BY id")).await;
    assert_eq!(
        emails,
        ["1 unknown@example.com", "1000000000000000 unknown@example.com", "2000000000000000 c@example.com"],
        "{dialect}"
    );
    eprintln!("{dialect}: 0202 over keys a quadrillion apart in {:?}", started.elapsed());
    drop(conn);
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_keys_are_walked_by_rows_on_postgres() {
    sparse_keys_are_walked_by_rows(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_keys_are_walked_by_rows_on_mariadb() {
    sparse_keys_are_walked_by_rows(Dialect::MySql).await;
}

/// MySQL adds a foreign key in place only with `foreign_key_checks` off, which does not
/// check the rows there: the runtime checks them. An order whose account does not exist
/// stops 0202 at the key, naming the row, with no key (and no index made for it) left;
/// the migration's session has its checks back on; once the row is fixed, the next run
/// goes on from the key and adds it, and the key then refuses such a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_key_added_in_place_checks_the_rows_on_mariadb() {
    let Some(mut db) = TestDb::create(Dialect::MySql, "fkrows").await else { return };
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&ONLINE);
    let first = ApplyOptions { target: Some("0201_create_accounts".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("0201");
    fill(&mut db).await;
    db.execute("INSERT INTO orders (account_id, amount) VALUES (987654, 1)").await.expect("an order of no account");

    let err = migrator.apply(&mut conn).await.expect_err("an orphan row stops the key");
    let text = err.to_string();
    eprintln!("{text}");
    assert!(
        text.contains("a row of orders has (account_id) = (987654), and no row of accounts has (id) = (987654)"),
        "{text}"
    );
    assert!(
        text.contains("ALGORITHM=INPLACE, LOCK=NONE") && text.contains("the next run goes on from statement"),
        "{text}"
    );
    let keys = db
        .query_strings("SELECT CAST(constraint_name AS CHAR) FROM information_schema.table_constraints WHERE constraint_schema = DATABASE() AND table_name = 'orders' AND constraint_type = 'FOREIGN KEY'")
        .await;
    assert!(keys.is_empty(), "the key was dropped again: {keys:?}");
    let indexes = db
        .query_strings("SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'orders' AND index_name LIKE 'fk_%'")
        .await;
    assert!(indexes.is_empty(), "no index made for the key is left: {indexes:?}");
    let checks: Vec<String> = sqlx::query_scalar("SELECT CAST(@@SESSION.foreign_key_checks AS CHAR)")
        .fetch_all(&mut conn)
        .await
        .expect("read");
    assert!(checks == ["1"] || checks == ["ON"], "the migration's session has its checks back on: {checks:?}");

    db.execute("DELETE FROM orders WHERE account_id = 987654").await.expect("fix the row");
    migrator.apply(&mut conn).await.expect("the next run goes on from the key");
    assert_eq!(history(&mut db).await, ["0201_create_accounts steps_done=none", "0202_online steps_done=none"]);
    let refused = db.execute("INSERT INTO orders (account_id, amount) VALUES (987654, 1)").await;
    assert!(refused.is_err_and(|e| e.to_string().contains("foreign key constraint fails")), "the key holds");
    drop(conn);
    db.destroy().await;
}

/// The first transaction of 0202's rollback drops a column of `accounts`, then the
/// foreign key of `orders` to it (which locks `accounts` too). Taking those locks one
/// statement at a time deadlocked a writer under load: the migration held `accounts` and
/// waited for `orders`, the writer held `orders` and waited for `accounts`. Now, while
/// the migration waits for `orders`, it holds nothing on `accounts`, and a writer that
/// holds `orders` and then reads `accounts` goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_waiting_for_one_table_holds_no_other_on_postgres() {
    let Some(mut db) = TestDb::create(Dialect::Postgres, "lockorder").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&ONLINE).lock_timeout(Duration::from_secs(30));
    let first = ApplyOptions { target: Some("0201_create_accounts".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("0201");
    migrator.apply(&mut conn).await.expect("0202");
    let mut writer = Session::open(Dialect::Postgres, &db.url).await;
    writer.run("BEGIN").await.expect("begin");
    writer.run("UPDATE orders SET amount = amount + 1").await.expect("the writer holds orders");

    // One task: the rollback, and the writer and a watcher at its every round trip (a
    // migration's future need not be `Send`).
    let watch = async {
        let mut watcher = Session::open(Dialect::Postgres, &db.url).await;
        let Session::Pg(watcher_conn) = &mut watcher else { unreachable!() };
        let deadline = Instant::now() + Duration::from_secs(30);
        let waiting: i32 = loop {
            let waiting: Vec<i32> =
                sqlx::query_scalar("SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'orders'::regclass")
                    .fetch_all(&mut *watcher_conn)
                    .await
                    .expect("read pg_locks");
            if let [pid] = waiting.as_slice() {
                break *pid;
            }
            assert!(Instant::now() < deadline, "the rollback never waited for `orders`");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT relation::regclass::text FROM pg_locks WHERE pid = $1 AND granted AND locktype = 'relation' AND relation::regclass::text IN ('accounts', 'orders')",
        )
        .bind(waiting)
        .fetch_all(&mut *watcher_conn)
        .await
        .expect("read pg_locks");
        assert!(held.is_empty(), "while it waits for `orders`, the migration holds {held:?}");
        writer.run("SELECT count(*) FROM accounts").await.expect("the writer reads accounts: no deadlock");
        writer.run("COMMIT").await.expect("the writer commits");
    };
    let options = RollbackOptions::default();
    let (undone, ()) = tokio::join!(migrator.rollback_with(&mut conn, &options), watch);
    assert_eq!(undone.expect("0202 rolls back").len(), 1);
    assert_eq!(history(&mut db).await, ["0201_create_accounts steps_done=none"]);
    drop(conn);
    db.destroy().await;
}

/// The app killed while the third phase of 0202 waits for a lock another session holds
/// on `orders`: the first phases are committed and recorded; the next plain boot goes on
/// from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_phases_the_next_boot_finishes_on_postgres() {
    let Some(mut db) = TestDb::create(Dialect::Postgres, "phasekill").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let first = ApplyOptions { target: Some("0201_create_accounts".into()), ..Default::default() };
    Migrator::new(&ONLINE).apply_with(&mut conn, &first).await.expect("0201");
    fill(&mut db).await;
    let mut holder = Session::open(Dialect::Postgres, &db.url).await;
    holder.run("BEGIN").await.expect("begin");
    holder.run("LOCK TABLE orders IN SHARE MODE").await.expect("hold orders");

    let mut app = Command::new(env!("CARGO_BIN_EXE_fixture_app"))
        .args(["online", &db.url, "migrate", "apply", "--lock-timeout", "60s"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start fixture_app");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting = db
            .query_strings("SELECT pid::text FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DROP INDEX CONCURRENTLY%'")
            .await;
        if !waiting.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the app never reached the phase that waits for `orders`");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.kill().expect("kill -9");
    app.wait().expect("reap");
    // Its server process would go on waiting for the lock: end it, as a crash would.
    db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DROP INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()")
        .await
        .expect("end the app's server process");
    assert_eq!(
        history(&mut db).await,
        ["0201_create_accounts steps_done=none", "0202_online steps_done=3"],
        "the two concurrent builds and the attached unique are committed and recorded"
    );
    holder.run("COMMIT").await.expect("release orders");

    let steps = Migrator::new(&ONLINE).apply(&mut conn).await.expect("the next plain boot finishes 0202");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(history(&mut db).await, ["0201_create_accounts steps_done=none", "0202_online steps_done=none"]);
    let after = shape(&mut db).await;
    assert_eq!(after[0], "email nullable: NO");
    assert_eq!(after[3], "constraints: ck_accounts_score, fk_orders_account_id_accounts, uq_accounts_handle");
    drop(conn);
    db.destroy().await;
}

/// A unique index built concurrently over duplicates fails: the INVALID index it leaves is
/// dropped at once, and the error says what is kept. One left by an earlier, killed run is
/// dropped before the build is tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_indexes_are_dropped_on_postgres() {
    let Some(mut db) = TestDb::create(Dialect::Postgres, "invalidix").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&ONLINE);
    let first = ApplyOptions { target: Some("0201_create_accounts".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("0201");
    fill(&mut db).await;
    db.execute("INSERT INTO accounts (email, handle) VALUES ('a@example.com', 'user-7')").await.expect("duplicate");

    let err = migrator.apply(&mut conn).await.expect_err("a unique over duplicates fails");
    let message = err.to_string();
    assert!(matches!(err, MigrateError::Statement { index: 2, .. }), "{message}");
    assert!(message.contains("CREATE UNIQUE INDEX CONCURRENTLY"), "{message}");
    assert!(message.contains("statements 1..1 of it are committed"), "{message}");
    assert!(message.contains("goes on from statement 2"), "{message}");
    let indexes = shape(&mut db).await[2].clone();
    assert_eq!(indexes, "indexes: ix_accounts_email, ix_orders_amount", "no INVALID index is left");
    assert_eq!(history(&mut db).await[1], "0202_online steps_done=1");

    // An INVALID index as a killed build leaves it.
    let made = db.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_accounts_handle ON accounts (handle)").await;
    assert!(made.is_err(), "the hand-made build fails over the duplicate");
    assert_eq!(shape(&mut db).await[2], "indexes: ix_accounts_email, ix_orders_amount, uq_accounts_handle INVALID");

    db.execute("DELETE FROM accounts WHERE email = 'a@example.com'").await.expect("remove the duplicate");
    let steps = migrator.apply(&mut conn).await.expect("the next run drops the INVALID index and builds it");
    assert_eq!(steps.len(), 1);
    let after = shape(&mut db).await;
    assert_eq!(after[2], "indexes: ix_accounts_email, uq_accounts_handle");
    assert_eq!(after[3], "constraints: ck_accounts_score, fk_orders_account_id_accounts, uq_accounts_handle");
    drop(conn);
    db.destroy().await;
}

/// The columns of 0302 as the catalog declares them, and the foreign keys and uniques.
async fn key_shape(db: &mut TestDb) -> Vec<String> {
    let (schema, text) = words(db.dialect);
    let mut facts = db
        .query_strings(&format!(
            "SELECT CAST(CONCAT(table_name, '.', column_name, ' ', data_type, CASE WHEN character_maximum_length IS NULL THEN '' ELSE CONCAT('(', CAST(character_maximum_length AS {text}), ')') END) AS {text}) FROM information_schema.columns WHERE table_schema = {schema} AND column_name IN ('code', 'parent_code', 'id', 'person_id') AND table_name IN ('parents', 'children', 'people', 'badges', 'profiles') ORDER BY 1"
        ))
        .await;
    facts.extend(
        db.query_strings(&format!(
            "SELECT CAST(CONCAT(table_name, ' ', constraint_type, ' ', constraint_name) AS {text}) FROM information_schema.table_constraints WHERE table_schema = {schema} AND constraint_type IN ('FOREIGN KEY', 'UNIQUE') ORDER BY 1"
        ))
        .await,
    );
    facts
}

async fn foreign_key_columns_change_and_roll_back(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "fkcols").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&KEYS);
    let first = ApplyOptions { target: Some("0301_create_parents".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("0301");
    for sql in [
        "INSERT INTO parents (code, name) VALUES ('p1', 'one'), ('p2', 'two')",
        "INSERT INTO children (parent_code) VALUES ('p1'), ('p2'), ('p2')",
        "INSERT INTO people (name) VALUES ('ada'), ('brian')",
        "INSERT INTO badges (person_id) VALUES (1), (2), (2)",
        "INSERT INTO profiles (person_id) VALUES (1), (2)",
    ] {
        db.execute(sql).await.expect(sql);
    }
    let before = key_shape(&mut db).await;

    migrator.apply(&mut conn).await.unwrap_or_else(|e| panic!("0302 applies on {dialect}: {e}"));
    let after = key_shape(&mut db).await;
    for expected in [
        "parents.code character varying(40)",
        "people.id bigint",
        "badges.person_id bigint",
        "profiles.person_id bigint",
    ] {
        let expected =
            if dialect == Dialect::MySql { expected.replace("character varying", "varchar") } else { expected.into() };
        assert!(after.contains(&expected), "{expected} in {after:#?}");
    }
    for fk in ["fk_children_parent_code_parents", "fk_badges_person_id_people", "fk_profiles_person_id_people"] {
        assert!(after.iter().any(|f| f.ends_with(&format!("FOREIGN KEY {fk}"))), "{fk} kept: {after:#?}");
    }
    assert!(!after.iter().any(|f| f.contains("uq_profiles_person_id")), "{after:#?}");
    let (_, text) = words(dialect);
    let rows = one(
        &mut db,
        &format!("SELECT CAST((SELECT count(*) FROM children) + (SELECT count(*) FROM badges) + (SELECT count(*) FROM profiles) AS {text})"),
    )
    .await;
    assert_eq!(rows, "8", "every row kept");
    // The keys still hold.
    assert!(db.execute("INSERT INTO badges (person_id) VALUES (99)").await.is_err(), "the foreign key is back");

    let rollback = RollbackOptions::default();
    migrator.rollback_with(&mut conn, &rollback).await.unwrap_or_else(|e| panic!("0302 rolls back on {dialect}: {e}"));
    assert_eq!(key_shape(&mut db).await, before);
    drop(conn);
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_key_columns_change_and_roll_back_on_mariadb() {
    foreign_key_columns_change_and_roll_back(Dialect::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_key_columns_change_and_roll_back_on_postgres() {
    foreign_key_columns_change_and_roll_back(Dialect::Postgres).await;
}
