//! Table and column names that are reserved words, mixed case, or hold quotes, spaces or
//! non-ASCII letters round-trip on every backend: created, filled, renamed, indexed,
//! referenced, retyped (the SQLite rebuild) and rolled back, with the live schema
//! introspected after each step and the row read back. Names longer than a backend
//! allows are refused at build time.

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live;
use migrations_core::diff::diff;
use migrations_core::model::parse_source;
use migrations_core::{Dialect, Schema};

const BEFORE: &str = r#"
#[derive(Model)]
#[model(table = "select")]
pub struct Select {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "from", max_length = 20)]
    pub from: String,
    #[model(column = "Mixed Case")]
    pub mixed: i32,
    #[model(column = "it's \"quoted\" `ticked`")]
    pub quoted: Option<String>,
}

#[derive(Model)]
#[model(table = "Naïve Tâble")]
pub struct Naive {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "ünïcödé")]
    pub unicode: Option<String>,
}
"#;

const AFTER: &str = r#"
#[derive(Model)]
#[model(table = "select", index(from, mixed))]
pub struct Select {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "where", renamed_from = "from", max_length = 20)]
    pub from: String,
    #[model(column = "Mixed Case")]
    pub mixed: i64,
    #[model(column = "it's \"quoted\" `ticked`")]
    pub quoted: Option<String>,
}

#[derive(Model)]
#[model(table = "Naïve Tâble")]
pub struct Naive {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "ünïcödé")]
    pub unicode: Option<String>,
    #[model(column = "order", references = Select, on_delete = "set null")]
    pub order: Option<i64>,
}
"#;

fn schema(source: &str) -> Schema {
    parse_source(source, &Schema::new()).unwrap_or_else(|e| panic!("models do not parse: {e}")).schema
}

fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

async fn round_trip(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "hostile").await else { return };
    let (before, after) = (schema(BEFORE), schema(AFTER));
    let create = diff(&Schema::new(), &before, &Default::default()).expect("create").operations;
    db.apply(&create, &Schema::new()).await;
    check_live(&mut db, &before).await.unwrap_or_else(|e| panic!("{dialect}: create:\n{e}"));

    let q = |n: &str| quote(dialect, n);
    let insert = format!(
        "INSERT INTO {} ({}, {}, {}) VALUES ('sé''lect', 7, 'it''s \"x\" `y`')",
        q("select"),
        q("from"),
        q("Mixed Case"),
        q("it's \"quoted\" `ticked`")
    );
    db.execute(&insert).await.unwrap_or_else(|e| panic!("{dialect}: insert: {e}"));
    db.execute(&format!("INSERT INTO {} ({}) VALUES ('ü')", q("Naïve Tâble"), q("ünïcödé"))).await.expect("insert");

    let intent = migrations_core::model::parse_source(AFTER, &Schema::new()).expect("after").intent;
    let change = diff(&before, &after, &intent).expect("change").operations;
    assert!(change.iter().any(|op| matches!(op, migrations_core::Operation::RenameField { .. })), "{change:?}");
    db.apply(&change, &before).await;
    check_live(&mut db, &after).await.unwrap_or_else(|e| panic!("{dialect}: change:\n{e}"));
    let values = db.query_strings(&format!("SELECT {} FROM {}", q("where"), q("select"))).await;
    assert_eq!(values, ["sé'lect"], "{dialect}: the renamed column kept its value");
    let quoted = db.query_strings(&format!("SELECT {} FROM {}", q("it's \"quoted\" `ticked`"), q("select"))).await;
    assert_eq!(quoted, ["it's \"x\" `y`"], "{dialect}");

    db.unapply(&change, &before).await;
    check_live(&mut db, &before).await.unwrap_or_else(|e| panic!("{dialect}: reverse:\n{e}"));
    let values = db.query_strings(&format!("SELECT {} FROM {}", q("from"), q("select"))).await;
    assert_eq!(values, ["sé'lect"], "{dialect}: the value survived the reverse");
    db.destroy().await;
}

chakra_tests::on_each_backend!(round_trip:
    sqlite => hostile_names_round_trip_on_sqlite,
    postgres => hostile_names_round_trip_on_postgres,
    mariadb => hostile_names_round_trip_on_mariadb,
);

#[test]
fn names_longer_than_a_backend_allows_are_refused_at_build_time() {
    let long = "t".repeat(64);
    let source = format!(
        "#[derive(Model)]\n#[model(table = \"{long}\")]\npub struct T {{\n    #[model(primary_key)]\n    pub id: i64,\n    #[model(column = \"{}\")]\n    pub c: i32,\n}}\n",
        "c".repeat(65)
    );
    let s = schema(&source);
    let errors = migrations_core::portability::check(&s, &Dialect::ALL);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|e| e.contains(&long) && e.contains("63")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains(&"c".repeat(65)) && e.contains("64")), "{text:#?}");
}
