//! An enumerated type's values changed under rows, on each backend, by the runtime: a
//! value renamed (the rows follow), one added and used at once by a new column's default
//! (PostgreSQL: in a transaction of its own first), one removed. A row that still holds
//! the removed value stops the migration before any of its statements, naming it; moved
//! away, the migration applies, and rolls back with the rows renamed back. The type
//! renamed keeps its rows and, on PostgreSQL, does not rewrite the table.

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live_ignoring;
use chakra_tests::items::{schema_after, text};
use chakra_tests::runtime_fixture::{MEMBERS, MEMBERS_RENAMED};
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, ApplyOptions, MigrateError, Migrator, RollbackTarget};

async fn statuses(db: &mut TestDb, column: &str) -> Vec<String> {
    let dialect = db.dialect;
    db.query_strings(&format!("SELECT {} FROM members ORDER BY id", text(dialect, column))).await
}

async fn values_change_under_rows(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "enums").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&MEMBERS);
    let first = ApplyOptions { target: Some("0401_create_members".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("create members");
    db.execute("INSERT INTO members (status) VALUES ('active'), ('paused'), ('legacy')").await.expect("rows");
    let refused = db.execute("INSERT INTO members (status) VALUES ('nonsense')").await;
    assert!(refused.is_err(), "{dialect}: a value not in the list is refused");

    // A row holds `legacy`, which 0402 removes: refused before anything runs.
    match migrator.apply(&mut conn).await {
        Err(MigrateError::Misfit { table, column, value, .. }) => {
            assert_eq!((table.as_str(), column.as_str(), value.as_str()), ("members", "status", "legacy"), "{dialect}")
        }
        other => panic!("{dialect}: expected the removed value to be refused, got {other:?}"),
    }
    check_live_ignoring(&mut db, &schema_after(&MEMBERS, 1), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: the refused migration changed the schema:\n{e}"));
    assert_eq!(statuses(&mut db, "status").await, ["active", "paused", "legacy"], "{dialect}");

    // Moved away, it applies: `paused` is `on_hold` now, and the new defaults work.
    db.execute("UPDATE members SET status = 'active' WHERE status = 'legacy'").await.expect("move rows");
    migrator.apply(&mut conn).await.unwrap_or_else(|e| panic!("{dialect}: apply: {e}"));
    check_live_ignoring(&mut db, &schema_after(&MEMBERS, 2), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: schema after apply:\n{e}"));
    db.execute("INSERT INTO members (id) VALUES (10)").await.expect("a row with the defaults");
    assert_eq!(statuses(&mut db, "status").await, ["active", "on_hold", "active", "active"], "{dialect}");
    assert_eq!(statuses(&mut db, "archived_status").await, ["closed", "closed", "closed", "closed"], "{dialect}");
    assert!(db.execute("INSERT INTO members (status) VALUES ('legacy')").await.is_err(), "{dialect}: removed");

    // Back: `on_hold` is `paused` again.
    migrator
        .rollback(&mut conn, &RollbackTarget::To("0401_create_members".into()), false)
        .await
        .unwrap_or_else(|e| panic!("{dialect}: rollback: {e}"));
    check_live_ignoring(&mut db, &schema_after(&MEMBERS, 1), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: schema after rollback:\n{e}"));
    assert_eq!(statuses(&mut db, "status").await, ["active", "paused", "active", "active"], "{dialect}");
    drop(conn);
    db.destroy().await;
}

#[tokio::test]
async fn values_change_under_rows_on_postgres() {
    values_change_under_rows(Dialect::Postgres).await;
}

#[tokio::test]
async fn values_change_under_rows_on_mariadb() {
    values_change_under_rows(Dialect::MySql).await;
}

#[tokio::test]
async fn values_change_under_rows_on_sqlite() {
    values_change_under_rows(Dialect::Sqlite).await;
}

/// The file PostgreSQL keeps `members` in: a rewrite gives the table a new one.
async fn members_file(db: &mut TestDb) -> Vec<String> {
    db.query_strings("SELECT pg_relation_filenode('members')::text").await
}

async fn type_renamed_under_rows(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "enumname").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&MEMBERS_RENAMED);
    let first = ApplyOptions { target: Some("0402_member_status".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("members, with statuses");
    db.execute("INSERT INTO members (status, archived_status) VALUES ('active', 'closed'), ('on_hold', 'active')")
        .await
        .expect("rows");
    let file = if dialect == Dialect::Postgres { members_file(&mut db).await } else { Vec::new() };

    migrator.apply(&mut conn).await.unwrap_or_else(|e| panic!("{dialect}: rename: {e}"));
    check_live_ignoring(&mut db, &schema_after(&MEMBERS_RENAMED, 3), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: schema after the rename:\n{e}"));
    if dialect == Dialect::Postgres {
        assert_eq!(members_file(&mut db).await, file, "renaming the type rewrote the table");
        let types = db
            .query_strings("SELECT typname::text FROM pg_type WHERE typname IN ('member_status', 'membership')")
            .await;
        assert_eq!(types, ["membership"]);
    }
    assert_eq!(statuses(&mut db, "status").await, ["active", "on_hold"], "{dialect}");
    assert_eq!(statuses(&mut db, "archived_status").await, ["closed", "active"], "{dialect}");
    db.execute("INSERT INTO members (status) VALUES ('closed')").await.expect("the type still takes its values");

    migrator
        .rollback(&mut conn, &RollbackTarget::To("0402_member_status".into()), false)
        .await
        .unwrap_or_else(|e| panic!("{dialect}: rollback: {e}"));
    check_live_ignoring(&mut db, &schema_after(&MEMBERS_RENAMED, 2), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: schema after rollback:\n{e}"));
    assert_eq!(statuses(&mut db, "status").await, ["active", "on_hold", "closed"], "{dialect}");
    drop(conn);
    db.destroy().await;
}

#[tokio::test]
async fn type_renamed_under_rows_on_postgres() {
    type_renamed_under_rows(Dialect::Postgres).await;
}

#[tokio::test]
async fn type_renamed_under_rows_on_mariadb() {
    type_renamed_under_rows(Dialect::MySql).await;
}

#[tokio::test]
async fn type_renamed_under_rows_on_sqlite() {
    type_renamed_under_rows(Dialect::Sqlite).await;
}
