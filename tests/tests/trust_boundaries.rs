//! What the runner trusts and what it does not, on each backend: SQL read from the
//! database (the reverse SQL stored in the history table) is data, not code. A row
//! planted in `_chakra_migrations` is not executed by a plain rollback, which refuses,
//! before undoing anything, and shows what it would run; `run_stored_sql` runs it, shown
//! first.

use chakra_tests::db::TestDb;
use chakra_tests::runtime_fixture::BLOG;
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, MigrateError, Migrator, Progress, RollbackOptions};

/// The stored statements each rollback reported before running them.
static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn remember_stored(p: &Progress) {
    if let Progress::StoredSql { statements, .. } = p {
        SHOWN.lock().expect("lock").extend(statements.iter().cloned());
    }
}

async fn planted_reverse_sql(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "trust").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&BLOG).on_progress(remember_stored);
    migrator.apply(&mut conn).await.expect("apply");
    // Someone who can write the history table (the application's role, an SQL injection)
    // plants a row whose "reverse" is any SQL, in a batch of its own.
    // (Each backend's test plants a table of its own name: the tests share a process.)
    let planted = format!("planted_{}", dialect.to_string().to_lowercase());
    db.execute_all(&[format!(
        "INSERT INTO _chakra_migrations (app, id, applied_at, checksum, execution_time_ms, batch, reverse_sql, steps_done) VALUES ('blog', '0099_planted', '2026-01-01T00:00:00.000Z', 'x', 0, 2, 'CREATE TABLE {planted} (x INTEGER)', NULL)"
    )])
    .await;

    let err = migrator.rollback(&mut conn, &Default::default(), false).await.expect_err("refused");
    let text = err.to_string();
    assert!(matches!(err, MigrateError::StoredSql { .. }), "{dialect}: {text}");
    assert!(
        text.contains("blog/0099_planted") && text.contains(&format!("CREATE TABLE {planted} (x INTEGER)")),
        "{dialect}: {text}"
    );
    assert!(text.contains("--run-stored-sql"), "{dialect}: {text}");
    let row = "SELECT id FROM _chakra_migrations WHERE id = '0099_planted'";
    assert_eq!(db.query_strings(row).await, ["0099_planted"], "{dialect}: the row is still there");
    let select = format!("SELECT * FROM {planted}");
    assert!(db.execute(&select).await.is_err(), "{dialect}: the planted SQL ran");
    // Nothing else was undone either.
    assert_eq!(migrator.history(&mut conn).await.expect("history").len(), 4, "{dialect}");

    // Asked for explicitly: shown first, then run.
    let options = RollbackOptions { run_stored_sql: true, ..Default::default() };
    let steps = migrator.rollback_with(&mut conn, &options).await.expect("rollback with the stored SQL");
    assert_eq!(steps.len(), 1, "{dialect}");
    let shown = SHOWN.lock().expect("lock").iter().any(|s| s.contains(&planted));
    assert!(shown, "{dialect}: the stored SQL was not shown before it ran");
    assert!(db.execute(&select).await.is_ok(), "{dialect}: the stored SQL did not run");
    assert!(db.query_strings(row).await.is_empty(), "{dialect}");
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(planted_reverse_sql:
    sqlite => planted_reverse_sql_is_refused_then_run_only_when_asked_on_sqlite,
    postgres => planted_reverse_sql_is_refused_then_run_only_when_asked_on_postgres,
    mariadb => planted_reverse_sql_is_refused_then_run_only_when_asked_on_mariadb,
);
