//! `.chakra/snapshot.toml`: canonical text, exact round trip, and malformed files that
//! give an error with line and column instead of a panic.

use chakra_tests::fixtures::resolved;
use chakra_tests::random_schema::schema_for;
use migrations_core::snapshot::{from_toml, to_toml};
use proptest::prelude::*;

const BLOG: &str = r#"
    #[derive(Model)]
    #[model(table = "users", comment = "people who \"log in\"", index(email, created_at))]
    pub struct User {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(max_length = 50, unique, comment = "shown publicly")]
        pub username: String,
        #[model(max_length = 255)]
        pub email: Option<String>,
        #[model(default = true)]
        pub is_active: bool,
        #[model(default_expr = "now()")]
        pub created_at: DateTime<Utc>,
        #[model(precision = 10, scale = 2, default = 1.50)]
        pub balance: Decimal,
    }

    #[derive(Model)]
    #[model(table = "post tags", primary_key(post_id, tag), check(name = "ck_tag", expr = "length(tag) > 0"))]
    pub struct PostTag {
        #[model(references = "users(id)", on_delete = "cascade")]
        pub post_id: i64,
        #[model(max_length = 30, default = "it's")]
        pub tag: String,
    }
"#;

#[test]
fn snapshot_text_is_canonical_and_readable() {
    insta::assert_snapshot!(to_toml(&resolved(BLOG)));
}

#[test]
fn snapshot_round_trips_exactly() {
    let schema = resolved(BLOG);
    assert_eq!(from_toml(&to_toml(&schema)), Ok(schema));
}

/// Views a migration created are kept after the tables, with their SQL and the tables
/// they read; one that reads a table the snapshot lacks is refused where it is.
#[test]
fn views_round_trip_and_name_their_tables() {
    use migrations_core::schema::View;
    let mut schema = resolved(BLOG);
    let table = schema.tables.keys().next().expect("a table").clone();
    let plain = View::new("recent", &format!("SELECT * FROM \"{table}\" WHERE id > 10")).reads(&[&table]);
    let stored = View::new("counts", &format!("SELECT count(*) FROM \"{table}\"")).reads(&[&table]).materialized();
    for v in [plain, stored] {
        schema.views.insert(v.name.clone(), v);
    }
    let text = to_toml(&schema);
    assert!(text.contains("\n[views.counts]\nsql = ") && text.contains("materialized = true"), "{text}");
    assert_eq!(from_toml(&text), Ok(schema));
    let broken = text.replace(&format!("reads = [\"{table}\"]"), "reads = [\"nowhere\"]");
    let err = from_toml(&broken).expect_err("an unknown table").to_string();
    assert!(err.contains("reads unknown table `nowhere`"), "{err}");
}

/// Objects made by hand-written SQL (`m.create_raw`) are kept by kind and name, with
/// their SQL for every database or each its own; one on a table the snapshot lacks is
/// refused where it is.
#[test]
fn raw_objects_round_trip_with_their_sql() {
    let schema = chakra_tests::fixtures::after_triggers();
    let text = to_toml(&schema);
    assert!(
        text.contains("\n[raw.\"trigger accounts_touch\"]\nkind = \"trigger\"\nname = \"accounts_touch\"\ntable = \"accounts\"\nper_dialect.postgres = { create = "),
        "{text}"
    );
    assert_eq!(from_toml(&text), Ok(schema));
    let broken = text.replace("table = \"accounts\"", "table = \"nowhere\"");
    let err = from_toml(&broken).expect_err("an unknown table").to_string();
    assert!(err.contains("belongs to unknown table `nowhere`"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_schemas_round_trip_through_the_snapshot(s in schema_for(migrations_core::Dialect::Postgres)) {
        let text = to_toml(&s);
        prop_assert_eq!(from_toml(&text), Ok(s));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = from_toml(&text);
    }

    #[test]
    fn damaged_snapshots_never_panic(cut in 0usize..2000, junk in "[\\[\\]{}=\", a-z0-9]{0,8}") {
        let good = to_toml(&resolved(BLOG));
        let at = cut.min(good.len());
        let at = (0..=at).rev().find(|i| good.is_char_boundary(*i)).unwrap_or(0);
        let damaged = format!("{}{junk}{}", &good[..at], &good[at..]);
        if let Err(e) = from_toml(&damaged) {
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }
}

#[test]
fn malformed_snapshots_say_where() {
    let cases = [
        ("not toml", "version = \n"),
        ("empty file", ""),
        ("newer format", "version = 2\n"),
        ("unknown table key", "version = 1\n\n[tables.users]\nprimary = [\"id\"]\n"),
        ("bad column type", "version = 1\n\n[tables.users]\ncolumns = [\n    { name = \"id\", type = \"bigint\" },\n    { name = \"name\", type = \"varchr(20)\" },\n]\n"),
        ("wrong value type", "version = 1\n\n[tables.users]\ncolumns = [\n    { name = \"id\", type = \"bigint\", nullable = \"yes\" },\n]\n"),
        ("duplicate column", "version = 1\n\n[tables.users]\ncolumns = [\n    { name = \"id\", type = \"bigint\" },\n    { name = \"id\", type = \"text\" },\n]\n"),
        ("bad number default", "version = 1\n\n[tables.t]\ncolumns = [\n    { name = \"n\", type = \"integer\", default = { number = \"1,5\" } },\n]\n"),
        ("unknown default kind", "version = 1\n\n[tables.t]\ncolumns = [\n    { name = \"n\", type = \"integer\", default = { int = 1 } },\n]\n"),
        ("index on unknown column", "version = 1\n\n[tables.t]\ncolumns = [\n    { name = \"a\", type = \"integer\" },\n]\nindexes = [\n    { name = \"ix_t_b\", columns = [\"b\"] },\n]\n"),
        ("primary key on unknown column", "version = 1\n\n[tables.t]\nprimary_key = [\"id\"]\ncolumns = [\n    { name = \"a\", type = \"integer\" },\n]\n"),
        ("foreign key to unknown column", "version = 1\n\n[tables.t]\ncolumns = [\n    { name = \"u\", type = \"bigint\" },\n]\nforeign_keys = [\n    { name = \"fk\", columns = [\"u\"], references = \"t\", ref_columns = [\"id\"] },\n]\n"),
        ("bad foreign key action", "version = 1\n\n[tables.u]\ncolumns = [\n    { name = \"id\", type = \"bigint\" },\n]\nforeign_keys = [\n    { name = \"fk\", columns = [\"id\"], references = \"u\", ref_columns = [\"id\"], on_delete = \"explode\" },\n]\n"),
    ];
    let mut report = String::new();
    for (name, text) in cases {
        let err = from_toml(text).expect_err(name);
        report.push_str(&format!("{name}: {err}\n"));
    }
    insta::assert_snapshot!(report);
}
