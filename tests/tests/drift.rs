//! Drift and adoption against real databases: `verify` compares the live schema with
//! what the applied migrations build and names every hand-made difference; the boot
//! check warns or refuses; `baseline` adopts a database that holds the schema already,
//! refuses one that differs (listing how), and applies on an empty one.

use std::cell::RefCell;

use chakra_tests::db::{Conn, TestDb};
use chakra_tests::random_schema::schema;
use chakra_tests::runtime_fixture::BLOG;
use migrations_core::catalog::{same_expr, Problem, Scope};
use migrations_core::diff::diff;
use migrations_core::{Dialect, Schema};
use migrations_runtime::schema::Migration;
use migrations_runtime::{
    Baseline, BootCheck, EmbeddedMigration, MigrateError, Migrations, Migrator, State, VerifyOptions,
};
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Runs `f` with the test database's connection as a [`Connection`].
macro_rules! with_conn {
    ($db:expr, $c:ident => $body:expr) => {
        match &mut $db.conn {
            Conn::Pg($c) => $body,
            Conn::My($c) => $body,
            Conn::Lite($c) => $body,
        }
    };
}

async fn verify(db: &mut TestDb, migrator: &Migrator, strict: bool) -> Vec<String> {
    let drift = with_conn!(db, c => migrator.verify(c, &VerifyOptions { strict }).await).expect("verify");
    let mut lines: Vec<String> = drift.iter().map(ToString::to_string).collect();
    lines.sort();
    lines
}

/// The hand-made drift of each backend, and the line `verify` must print for each.
fn hand_made(dialect: Dialect) -> Vec<(&'static str, &'static str)> {
    let mut cases = vec![
        (
            match dialect {
                Dialect::MySql => "DROP INDEX `ix_users_email` ON `users`",
                _ => r#"DROP INDEX "ix_users_email""#,
            },
            "users: index ix_users_email is missing",
        ),
        (
            match dialect {
                Dialect::MySql => "ALTER TABLE `users` ADD COLUMN `nickname` VARCHAR(20) NULL",
                _ => r#"ALTER TABLE "users" ADD COLUMN "nickname" VARCHAR(20)"#,
            },
            "users: column nickname is not declared by any migration",
        ),
    ];
    match dialect {
        Dialect::Postgres => cases.extend([
            (
                r#"ALTER TABLE "users" ALTER COLUMN "karma" SET DEFAULT 5"#,
                "users: column karma: default is 5 in the database, 0 in the migrations",
            ),
            (
                r#"ALTER TABLE "posts" RENAME CONSTRAINT "fk_posts_author_id_users" TO "posts_author_id_fkey""#,
                "posts: foreign key fk_posts_author_id_users is named posts_author_id_fkey in the database, fk_posts_author_id_users in the migrations",
            ),
        ]),
        Dialect::MySql => cases.extend([
            (
                "ALTER TABLE `users` ALTER COLUMN `karma` SET DEFAULT 5",
                "users: column karma: default is 5 in the database, 0 in the migrations",
            ),
            (
                "ALTER TABLE `users` RENAME INDEX `uq_users_username` TO `username`",
                "users: unique uq_users_username is named username in the database, uq_users_username in the migrations",
            ),
        ]),
        Dialect::Sqlite => cases.push((
            r#"DROP INDEX "uq_users_username""#,
            "users: unique uq_users_username is missing",
        )),
    }
    cases
}

async fn hand_made_drift_is_named(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "drift").await else { return };
    let migrator = Migrator::new(&BLOG);
    with_conn!(db, c => migrator.apply(c).await).expect("apply");
    assert_eq!(verify(&mut db, &migrator, false).await, Vec::<String>::new(), "{dialect}: right after apply");
    assert_eq!(verify(&mut db, &migrator, true).await, Vec::<String>::new(), "{dialect}: strict, right after apply");

    let mut expected = Vec::new();
    for (sql, line) in hand_made(dialect) {
        db.execute(sql).await.unwrap_or_else(|e| panic!("{dialect}: {sql}: {e}"));
        expected.push(line.to_string());
        expected.sort();
        assert_eq!(verify(&mut db, &migrator, false).await, expected, "{dialect}: after {sql}");
    }

    // What nobody declared is drift only when asked for.
    let view = match dialect {
        Dialect::MySql => "CREATE VIEW `active_users` AS SELECT `id` FROM `users`",
        _ => r#"CREATE VIEW "active_users" AS SELECT "id" FROM "users""#,
    };
    db.execute(view).await.expect("create view");
    db.execute(&format!("CREATE TABLE {} (x INTEGER)", dialect.quote("scratch"))).await.expect("scratch table");
    assert_eq!(verify(&mut db, &migrator, false).await, expected, "{dialect}: undeclared objects, not strict");
    let strict = verify(&mut db, &migrator, true).await;
    for line in ["view active_users is not declared by any migration", "table scratch is not declared by any migration"]
    {
        assert!(strict.contains(&line.to_string()), "{dialect}: strict misses `{line}`:\n{strict:#?}");
    }

    // The boot check: a warning lets the boot go on; a refusal stops it, naming the drift.
    with_conn!(db, c => migrator.clone().verify_on_boot(BootCheck::Warn).apply(c).await).expect("warn boots");
    let refused = with_conn!(db, c => migrator.clone().verify_on_boot(BootCheck::Refuse).apply(c).await);
    match refused {
        Err(e @ MigrateError::Drift { .. }) => {
            let text = e.to_string();
            for line in &expected {
                assert!(text.contains(line.as_str()), "{dialect}: the refusal misses `{line}`:\n{text}");
            }
        }
        other => panic!("{dialect}: a boot on drift with BootCheck::Refuse: {other:?}"),
    }
    db.destroy().await;
}

#[tokio::test]
async fn hand_made_drift_is_named_on_postgres() {
    hand_made_drift_is_named(Dialect::Postgres).await;
}

#[tokio::test]
async fn hand_made_drift_is_named_on_mariadb() {
    hand_made_drift_is_named(Dialect::MySql).await;
}

#[tokio::test]
async fn hand_made_drift_is_named_on_sqlite() {
    hand_made_drift_is_named(Dialect::Sqlite).await;
}

/// Builds on `db`, by hand and without a history, what the migrations up to `id` build.
async fn build_by_hand(db: &mut TestDb, migrator: &Migrator, ids: &[&str]) {
    for id in ids {
        for statement in migrator.sql(id, db.dialect, false).expect("sql") {
            if !statement.lines().all(|l| l.starts_with("--")) {
                db.execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
            }
        }
    }
}

async fn baseline_adopts_only_what_matches(dialect: Dialect) {
    let migrator = Migrator::new(&BLOG);
    let ids = ["0001_create_users", "0002_add_posts"];

    // A database that holds the schema: recorded, nothing run, and the rest applies.
    let Some(mut db) = TestDb::create(dialect, "baseline").await else { return };
    build_by_hand(&mut db, &migrator, &ids).await;
    // A plain apply fails on the first table that is there, and says how to adopt it.
    let plain_apply = with_conn!(db, c => migrator.apply(c).await).expect_err("a plain apply over the schema");
    let text = plain_apply.to_string();
    assert!(text.contains("already holds 2 of the tables") && text.contains("`migrate baseline"), "{dialect}: {text}");
    let hint = with_conn!(db, c => migrator.adoption_hint(c).await).expect("hint");
    assert!(hint.is_some_and(|h| h.contains("users")), "{dialect}: status gives no hint");
    db.reset().await;
    build_by_hand(&mut db, &migrator, &ids).await;
    match with_conn!(db, c => migrator.baseline(c, "0002_add_posts").await).expect("baseline") {
        Baseline::Recorded(steps) => assert_eq!(steps.len(), 2, "{dialect}"),
        other => panic!("{dialect}: expected a recorded baseline, got {other:?}"),
    }
    let status = with_conn!(db, c => migrator.status(c).await).expect("status");
    let states: Vec<bool> = status.iter().map(|l| matches!(l.state, State::Applied(_))).collect();
    assert_eq!(states, [true, true, false], "{dialect}");
    let applied = with_conn!(db, c => migrator.apply(c).await).expect("apply after baseline");
    assert_eq!(applied.len(), 1, "{dialect}");
    assert_eq!(verify(&mut db, &migrator, false).await, Vec::<String>::new(), "{dialect}: after the baseline");
    let again = with_conn!(db, c => migrator.baseline(c, "0002_add_posts").await);
    assert!(matches!(again, Err(MigrateError::Usage(_))), "{dialect}: a second baseline: {again:?}");

    // One that differs: refused, every difference listed, nothing recorded.
    db.reset().await;
    build_by_hand(&mut db, &migrator, &ids).await;
    let drop = match dialect {
        Dialect::MySql => "DROP INDEX `ix_users_email` ON `users`",
        _ => r#"DROP INDEX "ix_users_email""#,
    };
    db.execute(drop).await.expect("drop index");
    match with_conn!(db, c => migrator.baseline(c, "0002_add_posts").await) {
        Err(e @ MigrateError::Drift { .. }) => {
            let text = e.to_string();
            assert!(text.contains("users: index ix_users_email is missing"), "{dialect}: {text}");
            assert!(text.contains("nothing was recorded"), "{dialect}: {text}");
        }
        other => panic!("{dialect}: a baseline over a different schema: {other:?}"),
    }
    let history = with_conn!(db, c => migrator.history(c).await).expect("history");
    assert!(history.is_empty(), "{dialect}: a refused baseline recorded {history:?}");

    // An empty database: the baseline applies.
    db.reset().await;
    match with_conn!(db, c => migrator.baseline(c, "0002_add_posts").await).expect("baseline on empty") {
        Baseline::Applied(steps) => assert_eq!(steps.len(), 2, "{dialect}"),
        other => panic!("{dialect}: expected an applied baseline, got {other:?}"),
    }
    assert_eq!(verify(&mut db, &migrator, false).await, Vec::<String>::new(), "{dialect}: after the applied baseline");
    db.destroy().await;
}

#[tokio::test]
async fn baseline_adopts_only_what_matches_on_postgres() {
    baseline_adopts_only_what_matches(Dialect::Postgres).await;
}

#[tokio::test]
async fn baseline_adopts_only_what_matches_on_mariadb() {
    baseline_adopts_only_what_matches(Dialect::MySql).await;
}

#[tokio::test]
async fn baseline_adopts_only_what_matches_on_sqlite() {
    baseline_adopts_only_what_matches(Dialect::Sqlite).await;
}

thread_local! {
    /// The schema the one random migration builds (a registry's `up` is a plain `fn`),
    /// one per test thread: the backends run side by side.
    static RANDOM: RefCell<Schema> = RefCell::new(Schema::new());
}

fn random_up(m: &mut Migration) {
    let schema = RANDOM.with(|s| s.borrow().clone());
    for op in diff(&Schema::new(), &schema, &Default::default()).expect("diff").operations {
        m.push(op);
    }
}

fn random_down(m: &mut Migration) {
    let schema = RANDOM.with(|s| s.borrow().clone());
    for op in diff(&schema, &Schema::new(), &Default::default()).expect("diff").operations {
        m.push(op);
    }
}

static RANDOM_APP: Migrations = Migrations {
    app: "random",
    migrations: &[EmbeddedMigration {
        id: "0001_random",
        dependencies: &[],
        replaces: &[],
        checksum: "",
        draft: false,
        up: random_up,
        down: random_down,
    }],
    snapshot: "",
};

/// Random schema → apply → inspect: what the catalog reports is the schema, `verify`
/// (strict) reports nothing, and adopting the database into a fresh crate writes a
/// snapshot that is the schema.
fn random_schemas_verify_clean(dialect: Dialect) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let Some(db) = rt.block_on(TestDb::create(dialect, "verify")) else { return };
    let db = tokio::sync::Mutex::new(db);
    let cases = std::env::var("CHAKRA_DB_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let mut runner = TestRunner::new(Config { cases, max_shrink_iters: 100, ..Config::default() });
    let result = runner.run(&schema(), |s| {
        RANDOM.with(|r| *r.borrow_mut() = s.clone());
        rt.block_on(async {
            let mut db = db.lock().await;
            db.reset().await;
            let migrator = Migrator::new(&RANDOM_APP);
            with_conn!(db, c => migrator.apply(c).await).expect("apply");
            let drift = verify(&mut db, &migrator, true).await;
            proptest::prop_assert!(drift.is_empty(), "{dialect}: {drift:#?}");
            let live = chakra_tests::introspect::live_schema(&mut db).await;
            let seen = |s: &Schema| migrations_core::catalog::as_seen(s, dialect).canonical();
            let (mut live, declared) = (seen(&live.schema), seen(&s));
            // Check expressions come back as the server writes them: the same expression.
            for (table, t) in &mut live.tables {
                for (l, d) in t.checks.iter_mut().zip(&declared.tables[table].checks) {
                    proptest::prop_assert!(same_expr(&l.expr, &d.expr), "{dialect}: {} vs {}", l.expr, d.expr);
                    l.expr.clone_from(&d.expr);
                }
            }
            proptest::prop_assert_eq!(live, declared);
            // Adopting the database writes models whose snapshot is the schema; what the
            // models cannot hold (a unique index that is not a constraint on PostgreSQL, a
            // second unique over the same columns) goes into the baseline as SQL.
            if s.tables.is_empty() {
                return Ok(());
            }
            let (snapshot, adopted) = chakra_tests::introspect::adopt_in_fresh_crate(&mut db)
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let drift = migrations_core::catalog::compare(&s, &snapshot, dialect, Scope { strict: true });
            let unexplained: Vec<String> = drift
                .iter()
                .filter(|d| {
                    let raw = format!(" {} on {}", d.name, d.table);
                    !(d.problem == Problem::Missing && adopted.as_sql.iter().any(|w| w.ends_with(&raw)))
                })
                .map(ToString::to_string)
                .collect();
            proptest::prop_assert!(unexplained.is_empty(), "{dialect}: the adopted snapshot differs: {unexplained:#?}");
            Ok(())
        })
    });
    rt.block_on(db.into_inner().destroy());
    if let Err(e) = result {
        panic!("{dialect}: {e}");
    }
}

#[test]
fn random_schemas_verify_clean_on_postgres() {
    random_schemas_verify_clean(Dialect::Postgres);
}

#[test]
fn random_schemas_verify_clean_on_mariadb() {
    random_schemas_verify_clean(Dialect::MySql);
}

#[test]
fn random_schemas_verify_clean_on_sqlite() {
    random_schemas_verify_clean(Dialect::Sqlite);
}

fn app(url: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fixture_app"))
        .args(["blog", url, "migrate"])
        .args(args)
        .output()
        .expect("run fixture_app");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The commands an operator types: `status` points at `baseline` on a schema built
/// without the migrations, `baseline` adopts it, and `verify` exits 1 on drift, listing it.
#[tokio::test]
async fn the_cli_adopts_and_verifies() {
    let Some(mut db) = TestDb::create(Dialect::Sqlite, "drift_cli").await else { return };
    let url = db.url.clone();
    build_by_hand(&mut db, &Migrator::new(&BLOG), &["0001_create_users", "0002_add_posts"]).await;

    let (ok, out) = app(&url, &["status"]);
    assert!(ok && out.contains("already holds 2 of the tables") && out.contains("migrate baseline"), "{out}");
    let (ok, out) = app(&url, &["baseline", "0002_add_posts"]);
    assert!(ok && out.contains("recorded 2 migrations as applied, ran none"), "{out}");
    let (ok, out) = app(&url, &["apply"]);
    assert!(ok && out.contains("applied 1 migration"), "{out}");
    let (ok, out) = app(&url, &["verify"]);
    assert!(ok && out.contains("ok: the database holds what the applied migrations build"), "{out}");

    db.execute(r#"DROP INDEX "ix_users_email""#).await.expect("drop index");
    db.execute(r#"CREATE TABLE "scratch" (x INTEGER)"#).await.expect("scratch table");
    let (ok, out) = app(&url, &["verify"]);
    assert!(!ok, "verify passed over drift:\n{out}");
    assert!(out.contains("- users: index ix_users_email is missing") && out.contains("1 difference"), "{out}");
    assert!(!out.contains("scratch"), "an undeclared table is drift only with --strict:\n{out}");
    let (ok, out) = app(&url, &["verify", "--strict"]);
    assert!(!ok && out.contains("- table scratch is not declared by any migration"), "{out}");
    db.destroy().await;
}
