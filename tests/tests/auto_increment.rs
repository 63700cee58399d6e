//! A key column made auto-increment on a table that holds rows: the next row the
//! database numbers gets a number after the highest one there, on every backend.

use chakra_tests::db::TestDb;
use chakra_tests::fixtures::scenario;
use chakra_tests::items::text;
use migrations_core::Dialect;

const PLAIN: &str = r#"
    #[derive(Model)]
    pub struct Ticket {
        #[model(primary_key)]
        pub id: i64,
        pub title: String,
    }
"#;

async fn numbering_continues_after_the_rows_there(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "autoinc").await else { return };
    let made = scenario("plain key", "", PLAIN);
    let before = db.apply(&made.operations, &Default::default()).await;
    db.execute("INSERT INTO tickets (id, title) VALUES (1, 'a'), (7, 'b'), (41, 'c')").await.expect("rows");

    let numbered = scenario(
        "numbered key",
        PLAIN,
        &PLAIN.replace("#[model(primary_key)]", "#[model(primary_key, auto_increment)]"),
    );
    db.apply(&numbered.operations, &before).await;
    db.execute("INSERT INTO tickets (title) VALUES ('d')").await.unwrap_or_else(|e| panic!("{dialect}: insert: {e}"));
    let newest = db.query_strings(&format!("SELECT {} FROM tickets WHERE title = 'd'", text(dialect, "id"))).await;
    assert_eq!(newest, ["42"], "{dialect}: the new row's number");
    db.destroy().await;
}

#[tokio::test]
async fn numbering_continues_on_postgres() {
    numbering_continues_after_the_rows_there(Dialect::Postgres).await;
}

#[tokio::test]
async fn numbering_continues_on_mariadb() {
    numbering_continues_after_the_rows_there(Dialect::MySql).await;
}

#[tokio::test]
async fn numbering_continues_on_sqlite() {
    numbering_continues_after_the_rows_there(Dialect::Sqlite).await;
}
