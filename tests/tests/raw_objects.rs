//! Objects made by hand-written SQL and kept by name (`m.create_raw`): a trigger (and on
//! PostgreSQL its function), written for each database. Applied, it works; `verify
//! --strict` knows it (nothing undeclared); dropped by hand, `verify` reports it missing;
//! rolled back, nothing is left.

use chakra_tests::db::TestDb;
use chakra_tests::introspect::live_schema;
use chakra_tests::items::text;
use chakra_tests::runtime_fixture::TRIGGERS;
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, Migrator, RollbackTarget, VerifyOptions};

async fn a_trigger_is_kept_by_name(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "raw").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&TRIGGERS);
    migrator.apply(&mut conn).await.unwrap_or_else(|e| panic!("{dialect}: apply: {e}"));
    db.execute("INSERT INTO accounts (id, balance) VALUES (1, 10)").await.expect("a row");
    db.execute("UPDATE accounts SET balance = 20 WHERE id = 1").await.expect("an update");
    let touched = db
        .query_strings(&format!("SELECT {} FROM accounts WHERE touched_at IS NOT NULL", text(dialect, "COUNT(*)")))
        .await;
    assert_eq!(touched, ["1"], "{dialect}: the trigger stamped the update");

    let strict = VerifyOptions { strict: true };
    let drift = migrator.verify(&mut conn, &strict).await.expect("verify");
    assert!(drift.is_empty(), "{dialect}: the trigger is declared: {drift:#?}");

    let by_hand = if dialect == Dialect::Postgres {
        "DROP TRIGGER accounts_touch ON accounts"
    } else {
        "DROP TRIGGER accounts_touch"
    };
    db.execute(by_hand).await.expect("drop the trigger by hand");
    let drift = migrator.verify(&mut conn, &VerifyOptions::default()).await.expect("verify");
    let said: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(
        said.iter().any(|d| d.contains("trigger") && d.contains("accounts_touch") && d.contains("missing")),
        "{dialect}: {said:?}"
    );

    // Back in place, then rolled back: the trigger, its function and the table go.
    let recreate = match dialect {
        Dialect::Postgres => "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_touch()",
        Dialect::MySql => "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW SET NEW.touched_at = NOW(6)",
        Dialect::Sqlite => "CREATE TRIGGER accounts_touch AFTER UPDATE OF balance ON accounts FOR EACH ROW BEGIN UPDATE accounts SET touched_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END",
    };
    db.execute(recreate).await.expect("the trigger back");
    migrator
        .rollback(&mut conn, &RollbackTarget::Zero, false)
        .await
        .unwrap_or_else(|e| panic!("{dialect}: rollback: {e}"));
    let left = live_schema(&mut db).await;
    let tables: Vec<&String> = left.schema.tables.keys().filter(|t| !t.starts_with("_chakra")).collect();
    assert!(tables.is_empty() && left.objects.is_empty(), "{dialect}: left behind: {tables:?} {:#?}", left.objects);
    drop(conn);
    db.destroy().await;
}

#[tokio::test]
async fn a_trigger_is_kept_by_name_on_postgres() {
    a_trigger_is_kept_by_name(Dialect::Postgres).await;
}

#[tokio::test]
async fn a_trigger_is_kept_by_name_on_mariadb() {
    a_trigger_is_kept_by_name(Dialect::MySql).await;
}

#[tokio::test]
async fn a_trigger_is_kept_by_name_on_sqlite() {
    a_trigger_is_kept_by_name(Dialect::Sqlite).await;
}
