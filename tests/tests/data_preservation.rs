//! Every row and value of a 100,000-row table (`CHAKRA_ROWS` to change) survives every
//! ALTER path — a field with a default, a rename, a widened integer, text to integer, a
//! widened varchar, an index, a foreign key from a new table, a unique constraint, a
//! data statement (several of them SQLite table rebuilds) — forward and rolled back, on
//! each backend. An impossible conversion (words to integer) is refused before anything
//! of its migration runs, with the offending value in the message.

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live_ignoring;
use chakra_tests::items::{dump, expected, fill, first_difference, schema_after, text};
use chakra_tests::runtime_fixture::{ITEMS, ITEMS_MISFIT};
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, ApplyOptions, MigrateError, Migrator, RollbackTarget};

fn rows() -> usize {
    std::env::var("CHAKRA_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

async fn every_alter_keeps_every_row(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "rows").await else { return };
    let n = rows();
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&ITEMS);
    let first = ApplyOptions { target: Some("0101_create_items".into()), ..Default::default() };
    migrator.apply_with(&mut conn, &first).await.expect("create items");
    fill(&mut db, n).await;
    let original = expected(n, false);
    assert_eq!(dump(&mut db, &["id", "name", "qty", "code", "note"]).await, original, "{dialect}: filled");

    let started = std::time::Instant::now();
    migrator.apply(&mut conn).await.unwrap_or_else(|e| panic!("{dialect}: apply: {e}"));
    println!("{dialect}: 0102–0104 over {n} rows: {} ms", started.elapsed().as_millis());
    check_live_ignoring(&mut db, &schema_after(&ITEMS, 4), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: schema after apply:\n{e}"));
    let reshaped = dump(&mut db, &["id", "title", "qty", "code", "note", "views"]).await;
    assert_eq!(reshaped.len(), n, "{dialect}: rows after apply");
    assert!(
        reshaped == expected(n, true),
        "{dialect}: a value changed; first difference: {:?}",
        first_difference(&reshaped, &expected(n, true))
    );
    let rated =
        db.query_strings(&format!("SELECT {} FROM items WHERE rating IS NULL", text(dialect, "COUNT(*)"))).await;
    assert_eq!(rated, ["0"], "{dialect}: the data statement reached every row");

    // The impossible conversion: refused before 0105's first statement, value named.
    let misfit = Migrator::new(&ITEMS_MISFIT).apply(&mut conn).await;
    match misfit {
        Err(MigrateError::Misfit { id, table, column, value, .. }) => {
            assert_eq!((id.as_str(), table.as_str(), column.as_str()), ("shop/0105_note_to_integer", "items", "note"));
            assert!(value.starts_with("note "), "{dialect}: {value}");
        }
        other => panic!("{dialect}: expected a refused conversion, got {other:?}"),
    }
    let message = Migrator::new(&ITEMS_MISFIT).apply(&mut conn).await.expect_err("refused again").to_string();
    assert!(
        message.contains("but it holds the value \"note ") && message.contains("nothing of this migration was applied"),
        "{message}"
    );
    check_live_ignoring(&mut db, &schema_after(&ITEMS, 4), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: the refused migration changed the schema:\n{e}"));
    assert_eq!(dump(&mut db, &["id", "title", "qty", "code", "note", "views"]).await, expected(n, true), "{dialect}");

    // Back to 0101 through every reverse path: the original values again.
    migrator
        .rollback(&mut conn, &RollbackTarget::To("0101_create_items".into()), false)
        .await
        .unwrap_or_else(|e| panic!("{dialect}: rollback: {e}"));
    check_live_ignoring(&mut db, &schema_after(&ITEMS, 1), &["_chakra_migrations"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: schema after rollback:\n{e}"));
    let back = dump(&mut db, &["id", "name", "qty", "code", "note"]).await;
    assert!(
        back == original,
        "{dialect}: a value changed on the way back; first difference: {:?}",
        first_difference(&back, &original)
    );
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(every_alter_keeps_every_row:
    sqlite => every_alter_keeps_every_row_on_sqlite,
    postgres => every_alter_keeps_every_row_on_postgres,
    mariadb => every_alter_keeps_every_row_on_mariadb,
);
