//! The migration modules the build writes, one insta snapshot per operation kind and
//! one for a change that mixes several: they are read in review, so they are pinned.

use chakra_tests::fixtures;
use migrations_build::{module, ModuleSpec};

#[test]
fn generated_module_of_every_operation_kind() {
    for s in fixtures::all() {
        let deps = vec!["0001_initial".to_string()];
        let spec = ModuleSpec {
            id: &format!("0002_{}", s.name),
            dependencies: &deps,
            operations: &s.operations,
            sealed_on: None,
        };
        let text = module(&spec).expect("module");
        // What rolling back loses is said once, at the top of `down` (issue 21: an initial
        // migration's `down` repeated a DATA LOSS line for every table).
        let down = text.split("pub fn down").nth(1).unwrap_or_default();
        assert!(down.matches("DATA LOSS").count() <= 1, "{}: down repeats DATA LOSS:\n{down}", s.name);
        insta::assert_snapshot!(s.name, text);
    }
}

#[test]
fn generated_module_of_a_mixed_change_sealed() {
    let old = fixtures::resolved(
        r#"
        #[derive(Model)]
        #[model(table = "users")]
        pub struct User {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(max_length = 50, unique)]
            pub username: String,
            pub age: Option<i32>,
        }
        "#,
    );
    let new = migrations_core::model::parse_source(
        r#"
        #[derive(Model)]
        #[model(table = "users")]
        pub struct User {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(max_length = 80, unique, renamed_from = "username")]
            pub handle: String,
            #[model(max_length = 255, backfill = "")]
            pub email: String,
        }

        #[derive(Model)]
        pub struct Post {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(references = User, on_delete = "cascade")]
            pub author_id: i64,
            #[model(max_length = 200)]
            pub title: String,
            #[model(default_expr = "now()")]
            pub created_at: DateTime<Utc>,
        }
        "#,
        &migrations_core::Schema::new(),
    )
    .expect("models");
    let ops = migrations_core::diff::diff(&old, &new.schema, &new.intent).expect("diff").operations;
    let deps = vec!["0001_initial".to_string()];
    let spec = ModuleSpec {
        id: "0002_auto_posts_users",
        dependencies: &deps,
        operations: &ops,
        sealed_on: Some("2026-11-22"),
    };
    insta::assert_snapshot!(module(&spec).expect("module"));
}

/// What the build writes, `cargo chakra sql` reads back: for every scenario, the
/// operations read from the generated module are the ones it was written from, and its
/// `down` holds their reverses (the drops it gives by name looked up in the schema after
/// `up`, to the definitions `up` spelled out).
#[test]
fn generated_modules_read_back_to_their_operations() {
    use migrations_build::interpret::read_operations;
    for s in fixtures::all() {
        let deps = vec!["0001_initial".to_string()];
        let spec = ModuleSpec { id: "0002_x", dependencies: &deps, operations: &s.operations, sealed_on: None };
        let text = module(&spec).expect("module");
        let up = read_operations(&text, false, &s.before).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(up, s.operations, "{}: up", s.name);
        let mut after = s.before.clone();
        after.apply_all(&up).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let down = read_operations(&text, true, &after).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let reversed: Vec<_> = s.operations.iter().rev().map(|op| op.reverse().expect("reversible")).collect();
        assert_eq!(down, reversed, "{}: down", s.name);
    }
}

#[test]
fn rust_code_in_a_migration_is_named_not_guessed() {
    let text = "pub fn up(m: &mut Migration) {\n    m.add_field(\"t\", Column::new(\"a\", ColumnType::Integer));\n    let rows = fetch_rows();\n}\n";
    let err = migrations_build::interpret::read_operations(text, false, &migrations_core::Schema::new())
        .expect_err("data step");
    assert_eq!(err.line, 3);
    assert!(err.message.contains("migrate sql"), "{err}");
}

/// A Rust data step is read by its name and place; the schema steps around it read as
/// usual, and a step whose name is not a literal is refused at its line.
#[test]
fn data_steps_are_read_by_name_and_place() {
    let text = "fn fill(db: DataConnection<'_>) -> DataFuture<'_> {\n    Box::pin(async move { db.execute(\"UPDATE t SET a = 1\").await })\n}\n\npub fn up(m: &mut Migration) {\n    m.add_field(\"t\", Column::new(\"a\", ColumnType::Integer).nullable());\n    m.run_rust(\"fill\", fill);\n    m.run_sql(\"ANALYZE t\", None);\n}\n";
    let (m, data) = migrations_build::interpret::read_steps(text, false).expect("reads");
    assert_eq!(m.operations().len(), 2);
    assert_eq!(data, [migrations_build::interpret::DataStep { name: "fill".into(), after: 1 }]);
    let unnamed = text.replace("m.run_rust(\"fill\", fill)", "m.run_rust(NAME, fill)");
    let err = migrations_build::interpret::read_steps(&unnamed, false).expect_err("not a literal");
    assert_eq!(err.line, 7);
    assert!(err.message.contains("string literal"), "{err}");
}

#[test]
fn per_dialect_sql_reads_back() {
    let text = "pub fn up(m: &mut Migration) {\n    m.run_sql_for(Dialect::Postgres, \"CREATE EXTENSION citext\", Some(\"DROP EXTENSION citext\"));\n    m.run_sql_for(Dialect::MySql, \"SET @x = 1\", None);\n}\n";
    let ops =
        migrations_build::interpret::read_operations(text, false, &migrations_core::Schema::new()).expect("reads");
    let mut expected = migrations_core::builder::Migration::new();
    expected.run_sql_for(migrations_core::Dialect::Postgres, "CREATE EXTENSION citext", Some("DROP EXTENSION citext"));
    expected.run_sql_for(migrations_core::Dialect::MySql, "SET @x = 1", None);
    assert_eq!(ops, expected.into_operations());
}

/// Migrations sealed before `ForeignKey::on(..).references(..)` spell a foreign key in
/// one call; both spellings read back to the same operation.
#[test]
fn both_foreign_key_spellings_read_the_same() {
    let body = |fk: &str| {
        format!("pub fn up(m: &mut Migration) {{\n    m.add_constraint(\"posts\", {fk}.on_delete(FkAction::Cascade));\n}}\n")
    };
    let old = body("ForeignKey::new(\"fk_posts_author_id_users\", &[\"author_id\"], \"users\", &[\"id\"])");
    let new = body("ForeignKey::on(\"fk_posts_author_id_users\", &[\"author_id\"]).references(\"users\", &[\"id\"])");
    let old =
        migrations_build::interpret::read_operations(&old, false, &migrations_core::Schema::new()).expect("one call");
    let new = migrations_build::interpret::read_operations(&new, false, &migrations_core::Schema::new())
        .expect("on/references");
    assert_eq!(old, new);
    assert_eq!(old.len(), 1);
}

/// What `cargo chakra inspect` writes for a database, read by people like any generated
/// code: a model file per table (names the database gave kept where they are not the
/// generated ones) and the baseline with its raw SQL steps. Written into a crate in a
/// temporary folder; the date it was sealed on is left out.
#[test]
fn adopted_models_and_baseline() {
    use migrations_build::adopt::{Adoption, RawStep};
    use migrations_core::schema::{
        Check, Column, ColumnType, DefaultValue, Deferrable, FkAction, ForeignKey, Index, Table, Unique,
    };
    use migrations_core::{Dialect, Schema};

    let accounts = Table {
        uniques: vec![Unique { name: "accounts_email_key".into(), columns: vec!["email".into()], explicit_name: true }],
        checks: vec![Check { name: "accounts_karma_check".into(), expr: "(karma >= 0)".into(), not_valid: false }],
        comment: Some("People who sign in".into()),
        ..Table::new("accounts")
            .field(Column::new("id", ColumnType::BigInt).auto_increment())
            .field(Column::new("email", ColumnType::Varchar(255)))
            .field(Column::new("karma", ColumnType::Integer).default(DefaultValue::num("0")))
            .field(Column::new("joined_at", ColumnType::TimestampTz).default(DefaultValue::expr("now()")))
            .primary_key(&["id"])
    };
    let orders = Table {
        foreign_keys: vec![ForeignKey {
            name: "orders_account_id_fkey".into(),
            columns: vec!["account_id".into()],
            ref_table: "accounts".into(),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: Deferrable::InitiallyDeferred,
            not_valid: false,
            explicit_name: true,
        }],
        indexes: vec![
            Index {
                name: "orders_account_idx".into(),
                columns: vec!["account_id".into()],
                unique: false,
                explicit_name: true,
                ..Default::default()
            },
            Index {
                name: "orders_reference_key".into(),
                columns: vec!["reference".into()],
                unique: true,
                explicit_name: true,
                ..Default::default()
            },
        ],
        ..Table::new("orders")
            .field(Column::new("id", ColumnType::BigInt).auto_increment())
            .field(Column::new("account_id", ColumnType::BigInt))
            .field(Column::new("reference", ColumnType::Varchar(40)))
            .field(Column::new("total", ColumnType::Decimal { precision: 12, scale: 2 }))
            .field(Column::new("lines", ColumnType::Json).nullable())
            .field(Column::new("tags", ColumnType::Custom("text[]".into())).default(DefaultValue::text("{}")))
            .primary_key(&["id"])
    };
    let mut schema = Schema::new();
    schema.tables.insert("accounts".into(), accounts);
    schema.tables.insert("orders".into(), orders);
    let raw = vec![
        RawStep {
            what: "function touch()".into(),
            create: "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.joined_at := now(); RETURN NEW; END $$".into(),
            drop: "DROP FUNCTION \"touch\"()".into(),
            table: None,
            before_tables: true,
            kept: Some(("function".into(), "touch()".into())),
        },
        RawStep {
            what: "view big_orders".into(),
            create: "CREATE VIEW big_orders AS SELECT id FROM orders WHERE total > 1000".into(),
            drop: "DROP VIEW \"big_orders\"".into(),
            table: None,
            before_tables: false,
            kept: None,
        },
        RawStep {
            what: "trigger accounts_touch on accounts".into(),
            create: "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch()".into(),
            drop: "DROP TRIGGER \"accounts_touch\" ON \"accounts\"".into(),
            table: Some("accounts".into()),
            before_tables: false,
            kept: Some(("trigger".into(), "accounts_touch".into())),
        },
    ];
    let dir = std::env::temp_dir().join(chakra_tests::db::unique_name("adoptgen"));
    std::fs::create_dir_all(dir.join("src")).expect("crate folder");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nchrono = \"0.4\"\nrust_decimal = \"1\"\nserde_json = \"1\"\n",
    )
    .expect("Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("main.rs");
    let mut config = migrations_build::Config::new();
    config.manifest_dir(&dir).cargo_output(false);
    let adopted = config.adopt(&Adoption { dialect: Dialect::Postgres, schema, raw }).expect("adopt");
    assert_eq!(
        adopted.coverage(),
        "coverage: 18 objects as models, 4 as raw SQL (1 function, 1 index, 1 trigger, 1 view) (81% in models)"
    );
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out = String::new();
    for rel in ["Cargo.toml", "src/main.rs", "src/models/mod.rs", "src/models/accounts.rs", "src/models/orders.rs"] {
        out.push_str(&format!("==> {rel}\n{}\n", read(rel)));
    }
    let baseline = read("migrations/0001_baseline.rs");
    let today = baseline.split("sealed on ").nth(1).and_then(|r| r.get(..10)).unwrap_or_default().to_string();
    out.push_str(&format!("==> migrations/0001_baseline.rs\n{}", baseline.replace(&today, "<date>")));
    std::fs::remove_dir_all(&dir).expect("remove the crate");
    insta::assert_snapshot!("adopted_crate", out);
}

/// What `cargo chakra squash` writes for a short history: a table created, altered,
/// renamed and given a column, around a hand-written SQL data step that stays in place.
#[test]
fn squashed_module() {
    use migrations_core::builder::Migration;
    use migrations_core::schema::{Column, ColumnType, Table};

    let dir = std::env::temp_dir().join(chakra_tests::db::unique_name("squashgen"));
    std::fs::create_dir_all(dir.join("src")).expect("crate folder");
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"blog\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        .expect("Cargo.toml");
    std::fs::write(dir.join("src/lib.rs"), "").expect("lib.rs");
    type Step = (&'static str, fn(&mut Migration));
    let steps: [Step; 5] = [
        ("0001_initial", |m| {
            m.create_model(
                Table::new("posts")
                    .field(Column::new("id", ColumnType::BigInt).auto_increment())
                    .field(Column::new("title", ColumnType::Varchar(10)))
                    .primary_key(&["id"]),
            );
        }),
        ("0002_add_post_body", |m| {
            m.add_field("posts", Column::new("body", ColumnType::Text).nullable());
        }),
        ("0003_rename_post_title_to_headline", |m| {
            m.rename_field("posts", "title", "headline");
        }),
        ("0004_fill_empty_bodies", |m| {
            m.run_sql(
                "UPDATE posts SET body = '' WHERE body IS NULL",
                Some("UPDATE posts SET body = NULL WHERE body = ''"),
            );
        }),
        ("0005_longer_headline", |m| {
            m.alter_field(
                "posts",
                Column::new("headline", ColumnType::Varchar(10)),
                Column::new("headline", ColumnType::Varchar(200)),
            )
            .add_field("posts", Column::new("draft", ColumnType::Boolean).nullable());
        }),
    ];
    let mut previous: Vec<String> = Vec::new();
    for (id, build) in steps {
        let mut m = Migration::new();
        build(&mut m);
        let spec =
            ModuleSpec { id, dependencies: &previous, operations: m.operations(), sealed_on: Some("2026-11-22") };
        std::fs::create_dir_all(dir.join("migrations")).expect("migrations folder");
        std::fs::write(dir.join(format!("migrations/{id}.rs")), module(&spec).expect("module")).expect("write");
        previous = vec![id.to_string()];
    }
    let mut config = migrations_build::Config::new();
    config.manifest_dir(&dir).cargo_output(false);
    let squashed = config.squash(None, "0005_longer_headline", None).expect("squash");
    assert_eq!(squashed.operations, (6, 4), "{}", squashed.summary());
    let text = std::fs::read_to_string(&squashed.path).expect("read the squash");
    let today = text.split("sealed on ").nth(1).and_then(|r| r.get(..10)).unwrap_or_default().to_string();
    std::fs::remove_dir_all(&dir).expect("remove the crate");
    insta::assert_snapshot!("squashed_module", text.replace(&today, "<date>"));
}
