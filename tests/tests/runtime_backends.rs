//! The migrator on real databases — SQLite always, PostgreSQL and MariaDB on this
//! machine (never skipped under `CI`): apply, rollback and re-apply with the live schema
//! introspected; dry run executes nothing; fake records without running; a changed
//! migration is refused by name; a failure in a migration's third statement leaves no
//! trace on PostgreSQL and SQLite, and a recoverable, reported state on MariaDB; a data
//! step's rows follow rollback and re-apply.

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live_ignoring;
use chakra_tests::runtime_fixture::{BLOG, BLOG_EDITED, BLOG_GUARDED, DRAFT_V1, DRAFT_V2, SLUGS, WIDEN};
use migrations_runtime::{AnyConnection, ApplyOptions, MigrateError, Migrations, Migrator, RollbackTarget, State};

const BOOKKEEPING: &[&str] = &["_chakra_migrations", "chakra_gate", "chakra_switch"];

async fn assert_schema(db: &mut TestDb, set: &Migrations, n: usize, step: &str) {
    check_live_ignoring(db, &set.schema_after(n).expect("replay"), BOOKKEEPING)
        .await
        .unwrap_or_else(|e| panic!("{}: {step}:\n{e}", db.dialect));
}

async fn count(db: &mut TestDb, sql: &str) -> i64 {
    db.query_strings(
        &format!("SELECT CAST(({sql}) AS CHAR(20))").replace(
            "AS CHAR(20)",
            if db.dialect == migrations_core::Dialect::MySql { "AS CHAR(20)" } else { "AS TEXT" },
        ),
    )
    .await
    .first()
    .and_then(|v| v.parse().ok())
    .unwrap_or(-1)
}

async fn round_trips(dialect: migrations_core::Dialect) {
    let Some(mut db) = TestDb::create(dialect, "runtime").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&BLOG);

    // Dry run: every statement, none executed.
    let dry =
        migrator.apply_with(&mut conn, &ApplyOptions { dry_run: true, ..Default::default() }).await.expect("dry run");
    assert_eq!(dry.len(), 3);
    assert!(dry[0].statements.iter().any(|s| s.contains("CREATE TABLE")));
    assert_schema(&mut db, &BLOG, 0, "after dry run").await;

    // Apply all; again is a no-op.
    let steps = migrator.apply(&mut conn).await.expect("apply");
    assert_eq!(
        steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["0001_create_users", "0002_add_posts", "0003_seed_admin"]
    );
    assert_schema(&mut db, &BLOG, 3, "after apply").await;
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM users WHERE username = 'admin'").await, 1);
    assert!(migrator.apply(&mut conn).await.expect("second apply").is_empty());
    let status = migrator.status(&mut conn).await.expect("status");
    assert!(status.iter().all(|l| matches!(l.state, State::Applied(_))), "{status:?}");

    // Roll back the last migration: the data step's row goes; re-apply brings it back.
    migrator.rollback(&mut conn, &RollbackTarget::Count(1), false).await.expect("rollback one");
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM users WHERE username = 'admin'").await, 0);
    migrator.apply(&mut conn).await.expect("re-apply");
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM users WHERE username = 'admin'").await, 1);

    // Roll back the last batch (0003 alone), then to 0001, then everything.
    let batch = migrator.rollback(&mut conn, &RollbackTarget::LastBatch, false).await.expect("rollback batch");
    assert_eq!(batch.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["0003_seed_admin"]);
    migrator.rollback(&mut conn, &RollbackTarget::To("0001_create_users".into()), false).await.expect("rollback to");
    assert_schema(&mut db, &BLOG, 1, "after rollback to 0001").await;
    migrator.rollback(&mut conn, &RollbackTarget::Zero, false).await.expect("rollback zero");
    assert_schema(&mut db, &BLOG, 0, "after rollback zero").await;

    // Fake: recorded, not run.
    migrator.apply_with(&mut conn, &ApplyOptions { fake: true, ..Default::default() }).await.expect("fake");
    assert_schema(&mut db, &BLOG, 0, "after fake").await;
    assert_eq!(migrator.history(&mut conn).await.expect("history").len(), 3);
    migrator.rollback(&mut conn, &RollbackTarget::Zero, true).await.err();
    db.reset().await;

    // A migration edited after it was applied is refused, by name.
    let mut conn = AnyConnection::connect(&db.url).await.expect("reconnect");
    migrator.apply(&mut conn).await.expect("apply");
    let err = Migrator::new(&BLOG_EDITED).apply(&mut conn).await.expect_err("changed");
    assert!(matches!(&err, MigrateError::Changed { id, .. } if id == "blog/0002_add_posts"), "{err}");
    drop(conn);
    db.destroy().await;
}

/// The tables 0004 needs: `chakra_gate` accepts only 1, `chakra_switch` holds 0 until
/// a test sets it to 1, so 0004's third statement fails until then.
async fn close_the_gate(db: &mut TestDb) {
    db.execute_all(&[
        "CREATE TABLE chakra_gate (ok INTEGER NOT NULL CHECK (ok = 1))".into(),
        "CREATE TABLE chakra_switch (v INTEGER NOT NULL)".into(),
        "INSERT INTO chakra_switch (v) VALUES (0)".into(),
    ])
    .await;
}

async fn failure_in_third_statement(dialect: migrations_core::Dialect) {
    let Some(mut db) = TestDb::create(dialect, "fail3").await else { return };
    close_the_gate(&mut db).await;
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&BLOG_GUARDED);
    let err = migrator.apply(&mut conn).await.expect_err("statement 3 fails");
    let MigrateError::Statement { id, index, count, statement, .. } = &err else { panic!("unexpected error: {err}") };
    assert_eq!((id.as_str(), *index, *count), ("blog/0004_guarded", 3, 3), "{err}");
    assert!(statement.contains("chakra_gate"), "{err}");
    assert!(err.to_string().contains("the database said:"), "{err}");
    if dialect == migrations_core::Dialect::Sqlite {
        // Nothing of 0004 is left; 0001-0003 stay applied.
        assert_schema(&mut db, &BLOG_GUARDED, 3, "after failed 0004").await;
        assert_eq!(migrator.history(&mut conn).await.expect("history").len(), 3);
    } else {
        // MySQL kept statements 1 and 2 (each commits itself), and PostgreSQL too (0004
        // builds its index concurrently, so it runs in phases), and each says so; the next
        // run goes on from statement 3, which fails again while its cause is there.
        let kept = if dialect.transactional_ddl() {
            "statements 1..2 of it are committed (it runs in phases)"
        } else {
            "MySQL committed statements 1..2"
        };
        assert!(err.to_string().contains(kept), "{err}");
        let status = migrator.status(&mut conn).await.expect("status");
        assert!(status.iter().any(|l| l.state == State::Interrupted(2)), "{status:?}");
        let again = migrator.apply(&mut conn).await.expect_err("statement 3 fails again");
        assert!(matches!(&again, MigrateError::Statement { index: 3, count: 3, .. }), "{again}");
        // Fix the cause: a plain apply runs statement 3, and the migration is complete.
        db.execute_all(&["UPDATE chakra_switch SET v = 1".into()]).await;
        let steps = migrator.apply(&mut conn).await.expect("finish");
        assert_eq!(steps.len(), 1, "the finished migration is reported: {steps:?}");
        assert_schema(&mut db, &BLOG_GUARDED, 4, "after resume").await;
        assert!(migrator.status(&mut conn).await.expect("status").iter().all(|l| matches!(l.state, State::Applied(_))));
    }
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(round_trips:
    sqlite => apply_rollback_reapply_on_sqlite,
    postgres => apply_rollback_reapply_on_postgres,
    mariadb => apply_rollback_reapply_on_mariadb,
);

chakra_tests::on_each_backend!(failure_in_third_statement:
    sqlite => failure_in_statement_three_on_sqlite,
    postgres => failure_in_statement_three_on_postgres,
    mariadb => failure_in_statement_three_on_mariadb,
);

/// `--atomic`: a failure in the last migration's third statement leaves nothing of the
/// whole run, history included; once fixed, every migration is recorded in one batch.
async fn atomic_is_all_or_nothing(dialect: migrations_core::Dialect) {
    let Some(mut db) = TestDb::create(dialect, "atomic").await else { return };
    close_the_gate(&mut db).await;
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&BLOG_GUARDED);
    let atomic = ApplyOptions { atomic: true, ..Default::default() };
    let err = migrator.apply_with(&mut conn, &atomic).await.expect_err("0004's third statement fails");
    assert!(matches!(&err, MigrateError::Statement { index: 3, .. }), "{err}");
    assert_schema(&mut db, &BLOG_GUARDED, 0, "after a failed atomic run").await;
    assert!(migrator.history(&mut conn).await.expect("history").is_empty(), "history kept rows of a failed run");

    db.execute_all(&["UPDATE chakra_switch SET v = 1".into()]).await;
    let steps = migrator.apply_with(&mut conn, &atomic).await.expect("atomic apply");
    assert_eq!(steps.len(), 4);
    assert_schema(&mut db, &BLOG_GUARDED, 4, "after the atomic run").await;
    let history = migrator.history(&mut conn).await.expect("history");
    assert_eq!(
        history.iter().map(|r| (r.id.as_str(), r.batch)).collect::<Vec<_>>(),
        [("0001_create_users", 1), ("0002_add_posts", 1), ("0003_seed_admin", 1), ("0004_guarded", 1)]
    );
    assert!(migrator.apply_with(&mut conn, &atomic).await.expect("again").is_empty());
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(atomic_is_all_or_nothing:
    sqlite => atomic_is_all_or_nothing_on_sqlite,
    postgres => atomic_is_all_or_nothing_on_postgres,
);

async fn rust_data_step(dialect: migrations_core::Dialect) {
    let Some(mut db) = TestDb::create(dialect, "data").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&SLUGS);
    migrator
        .apply_with(&mut conn, &ApplyOptions { target: Some("0001_create_users".into()), ..Default::default() })
        .await
        .expect("0001");
    db.execute_all(&[
        "INSERT INTO users (username) VALUES ('Alice')".into(),
        "INSERT INTO users (username) VALUES ('Bob')".into(),
    ])
    .await;

    let dry =
        migrator.apply_with(&mut conn, &ApplyOptions { dry_run: true, ..Default::default() }).await.expect("dry run");
    assert!(dry[0].statements.iter().any(|s| s == "-- Rust data step `fill_slugs`"), "{:?}", dry[0].statements);

    migrator.apply(&mut conn).await.expect("apply 0005");
    assert_schema(&mut db, &SLUGS, 2, "after the data step").await;
    let mut slugs = db.query_strings("SELECT slug FROM users").await;
    slugs.sort();
    assert_eq!(slugs, ["alice-1", "bob-2"]);

    // Rolled back: the column goes (its reverse data step ran first); re-applied: filled again.
    migrator.rollback(&mut conn, &RollbackTarget::LastBatch, false).await.expect("rollback");
    assert_schema(&mut db, &SLUGS, 1, "after rollback").await;
    migrator.apply(&mut conn).await.expect("re-apply");
    assert_eq!(db.query_strings("SELECT slug FROM users WHERE username = 'Bob'").await, ["bob-2"]);
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(rust_data_step:
    sqlite => rust_data_step_on_sqlite,
    postgres => rust_data_step_on_postgres,
    mariadb => rust_data_step_on_mariadb,
);

/// A data step that fails leaves nothing of its migration on PostgreSQL: the column
/// added before it is gone too, and the error names the step.
#[tokio::test]
async fn failing_data_step_keeps_nothing_on_postgres() {
    let Some(mut db) = TestDb::create(migrations_core::Dialect::Postgres, "datafail").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&SLUGS);
    migrator
        .apply_with(&mut conn, &ApplyOptions { target: Some("0001_create_users".into()), ..Default::default() })
        .await
        .expect("0001");
    db.execute_all(&["INSERT INTO users (username) VALUES ('')".into()]).await;
    let err = migrator.apply(&mut conn).await.expect_err("the data step refuses");
    assert!(
        err.to_string().contains("Rust data step `fill_slugs`") && err.to_string().contains("a user has an empty name"),
        "{err}"
    );
    assert_schema(&mut db, &SLUGS, 1, "after the failed data step").await;
    drop(conn);
    db.destroy().await;
}

async fn drafts_in_development(dialect: migrations_core::Dialect) {
    let Some(mut db) = TestDb::create(dialect, "draft").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    // A database not marked for development refuses drafts, by name.
    let err = Migrator::new(&DRAFT_V1).apply(&mut conn).await.expect_err("draft refused");
    assert!(matches!(&err, MigrateError::Draft { id } if id == "blog/0006_user_profile"), "{err}");
    // In development the draft applies; when it changes, the old one is rolled back with
    // the SQL stored when it was applied, and the new one applied.
    Migrator::new(&DRAFT_V1).development(true).apply(&mut conn).await.expect("draft v1");
    assert_schema(&mut db, &DRAFT_V1, 2, "draft v1").await;
    Migrator::new(&DRAFT_V2).development(true).apply(&mut conn).await.expect("draft v2");
    assert_schema(&mut db, &DRAFT_V2, 2, "draft v2 replaced v1").await;
    assert_eq!(Migrator::new(&DRAFT_V2).history(&mut conn).await.expect("history").len(), 2);
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(drafts_in_development:
    sqlite => changed_draft_is_replaced_in_development_on_sqlite,
    postgres => changed_draft_is_replaced_in_development_on_postgres,
    mariadb => changed_draft_is_replaced_in_development_on_mariadb,
);

/// A SQLite table rebuild keeps the table's rows, indexes and triggers, and the indexes no
/// model declares (partial, expression: hand-written or adopted); a trigger that cannot
/// be re-created stops the migration with nothing kept.
#[tokio::test]
async fn sqlite_rebuild_keeps_rows_indexes_and_triggers() {
    let Some(mut db) = TestDb::create(migrations_core::Dialect::Sqlite, "rebuild").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&WIDEN);
    migrator
        .apply_with(&mut conn, &ApplyOptions { target: Some("0001_create_users".into()), ..Default::default() })
        .await
        .expect("0001");
    db.execute_all(&[
        "CREATE TABLE audit (what TEXT NOT NULL)".into(),
        "CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (what) VALUES ('new ' || NEW.username); END".into(),
        "INSERT INTO users (username, email) VALUES ('ada', 'ada@example.com')".into(),
        "CREATE UNIQUE INDEX users_email_lower ON users (lower(email))".into(),
        "CREATE INDEX users_with_email ON users (username) WHERE email IS NOT NULL".into(),
    ])
    .await;
    let hand_made =
        "SELECT name FROM sqlite_master WHERE name IN ('users_email_lower', 'users_with_email') ORDER BY name";
    let steps = migrator.apply(&mut conn).await.expect("rebuild");
    assert_eq!(
        db.query_strings(hand_made).await,
        ["users_email_lower", "users_with_email"],
        "kept through the rebuild"
    );
    let duplicate = db.execute("INSERT INTO users (username, email) VALUES ('ada2', 'ADA@example.com')").await;
    assert!(duplicate.is_err(), "the expression unique still holds");
    assert!(
        steps[0].statements.iter().any(|s| s.starts_with("CREATE TABLE \"_chakra_new_users\"")),
        "{:?}",
        steps[0].statements
    );
    // (The hand-made indexes are read back as indexes, which no migration declares.)
    let hand_made_objects = ["_chakra_migrations", "audit", "users_email_lower", "users_with_email"];
    check_live_ignoring(&mut db, &WIDEN.schema_after(2).expect("replay"), &hand_made_objects)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(db.query_strings("SELECT email FROM users WHERE username = 'ada'").await, ["ada@example.com"]);
    db.execute_all(&["INSERT INTO users (username) VALUES ('grace')".into()]).await;
    assert_eq!(db.query_strings("SELECT what FROM audit ORDER BY what").await, ["new ada", "new grace"]);

    // Rolling back rebuilds again; the trigger and the indexes survive that too.
    migrator.rollback(&mut conn, &RollbackTarget::LastBatch, false).await.expect("rollback");
    assert_eq!(db.query_strings(hand_made).await, ["users_email_lower", "users_with_email"]);
    db.execute_all(&["INSERT INTO users (username) VALUES ('linus')".into()]).await;
    assert_eq!(db.query_strings("SELECT what FROM audit WHERE what = 'new linus'").await, ["new linus"]);

    // And inside one --atomic transaction.
    migrator.apply_with(&mut conn, &ApplyOptions { atomic: true, ..Default::default() }).await.expect("atomic rebuild");
    db.execute_all(&["INSERT INTO users (username) VALUES ('barbara')".into()]).await;
    assert_eq!(db.query_strings("SELECT what FROM audit WHERE what = 'new barbara'").await, ["new barbara"]);
    drop(conn);
    db.destroy().await;
}

/// The lock-table strategy: a live holder makes the run wait and then fail naming it; a
/// holder past its lease (a process that died) is taken over.
async fn lock_table(dialect: migrations_core::Dialect) {
    let Some(mut db) = TestDb::create(dialect, "locktable").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let lease = std::time::Duration::from_secs(300);
    let migrator = Migrator::new(&BLOG)
        .lock_strategy(migrations_runtime::LockStrategy::Table { lease })
        .run_lock_timeout(std::time::Duration::from_secs(1));
    db.execute_all(&[
        "CREATE TABLE _chakra_lock (id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(200) NOT NULL, acquired_at BIGINT NOT NULL)".into(),
        format!("INSERT INTO _chakra_lock (id, owner, acquired_at) VALUES (1, 'other-host:4242:1', {})", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()),
    ])
    .await;
    let err = migrator.apply(&mut conn).await.expect_err("held");
    assert!(matches!(&err, MigrateError::LockTimeout { .. }) && err.to_string().contains("other-host:4242:1"), "{err}");
    db.execute_all(&["UPDATE _chakra_lock SET acquired_at = 1000".into()]).await;
    assert_eq!(migrator.apply(&mut conn).await.expect("stale lock taken over").len(), 3);
    assert!(db.query_strings("SELECT owner FROM _chakra_lock").await.is_empty());
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(lock_table:
    sqlite => lock_table_waits_names_the_holder_and_takes_over_stale_rows_on_sqlite,
    postgres => lock_table_waits_names_the_holder_and_takes_over_stale_rows_on_postgres,
    mariadb => lock_table_waits_names_the_holder_and_takes_over_stale_rows_on_mariadb,
);
