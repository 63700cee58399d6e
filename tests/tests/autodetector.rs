//! The autodetector's contract (ARCHITECTURE.md, "Invariants"), one behaviour per test.

use chakra_tests::fixtures::resolved;
use migrations_core::diff::{diff, DiffError, Note};
use migrations_core::model::parse_source;
use migrations_core::Schema;

/// Diffs `old` (models, as sealed) against `new` (models), as the build would.
fn changes(old: &str, new: &str) -> Result<(Vec<String>, Vec<Note>), Vec<DiffError>> {
    let set = parse_source(new, &Schema::new()).unwrap_or_else(|e| panic!("models do not parse: {e}"));
    diff(&resolved(old), &set.schema, &set.intent)
        .map(|d| (d.operations.iter().map(ToString::to_string).collect(), d.notes))
}

fn ops(old: &str, new: &str) -> Vec<String> {
    changes(old, new).unwrap_or_else(|e| panic!("diff failed: {e:?}")).0
}

const USER: &str = r#"
    #[derive(Model)]
    #[model(table = "users")]
    pub struct User {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(max_length = 50, unique)]
        pub username: String,
        pub email: Option<String>,
        #[model(default = 1.50)]
        pub score: f64,
    }
"#;

#[test]
fn the_same_models_need_no_migration() {
    assert_eq!(ops(USER, USER), Vec::<String>::new());
}

#[test]
fn renaming_the_struct_while_table_keeps_the_sql_name_is_no_change() {
    assert_eq!(ops(USER, &USER.replace("pub struct User", "pub struct Account")), Vec::<String>::new());
}

#[test]
fn renaming_a_field_with_column_keeping_the_sql_name_is_no_change() {
    let new = USER.replace("pub email: Option<String>,", "#[model(column = \"email\")] pub contact: Option<String>,");
    assert_eq!(ops(USER, &new), Vec::<String>::new());
}

#[test]
fn reordering_fields_is_no_change() {
    let new = USER
        .replace("pub email: Option<String>,\n", "")
        .replace("pub score: f64,", "pub score: f64,\n pub email: Option<String>,");
    assert_eq!(ops(USER, &new), Vec::<String>::new());
}

#[test]
fn defaults_compare_by_value() {
    assert_eq!(ops(USER, &USER.replace("default = 1.50", "default = 1.5")), Vec::<String>::new());
}

#[test]
fn a_rename_needs_renamed_from_otherwise_it_is_a_drop_and_an_add_with_a_hint() {
    let new = USER.replace("pub email: Option<String>,", "pub contact: Option<String>,");
    let (ops, notes) = changes(USER, &new).expect("diff");
    assert_eq!(ops, ["RemoveField users.email", "AddField users.contact text NULL"]);
    assert!(notes.contains(&Note::PossibleRename {
        table: "users".into(),
        removed: "email".into(),
        added: "contact".into()
    }));

    let renamed =
        USER.replace("pub email: Option<String>,", "#[model(renamed_from = \"email\")] pub contact: Option<String>,");
    assert_eq!(self::ops(USER, &renamed), ["RenameField users.email -> contact"]);
}

#[test]
fn renamed_from_left_in_the_source_after_sealing_is_inert() {
    let renamed =
        USER.replace("pub email: Option<String>,", "#[model(renamed_from = \"email\")] pub contact: Option<String>,");
    let (ops, notes) = changes(&renamed, &renamed).expect("diff");
    assert!(ops.is_empty());
    assert_eq!(notes, [Note::InertRename { table: "users".into(), column: Some("contact".into()) }]);
}

#[test]
fn renaming_a_table_keeps_the_generated_names_of_its_indexes() {
    let new = USER.replace("#[model(table = \"users\")]", "#[model(table = \"accounts\", renamed_from = \"users\")]");
    assert_eq!(ops(USER, &new), ["RenameModel users -> accounts"]);
}

#[test]
fn a_not_null_field_without_default_needs_a_default_or_a_backfill() {
    let new = USER.replace("pub score: f64,", "pub score: f64,\n pub age: i32,");
    let err = changes(USER, &new).expect_err("needs a value");
    assert_eq!(
        err[0].to_string(),
        "`users.age` is added as NOT NULL without a default: existing rows need a value; add `default = ...` (kept) or `backfill = ...` / `backfill_expr = \"...\"` (one-off) to the field"
    );
    let with_backfill = USER.replace("pub score: f64,", "pub score: f64,\n #[model(backfill = 18)] pub age: i32,");
    assert_eq!(ops(USER, &with_backfill), ["AddField users.age integer NOT NULL (existing rows: 18)"]);
}

/// A serial key keeps its numbering: switching it to or from an identity, or dropping
/// it, is refused at the field with what to do (a generated `DROP IDENTITY` would fail
/// on a serial column at deploy).
#[test]
fn a_serial_key_keeps_its_numbering() {
    let serial =
        USER.replace("#[model(primary_key, auto_increment)]", "#[model(primary_key, auto_increment = \"serial\")]");
    for (to, words) in [
        (USER.to_string(), "from a serial column to an identity column"),
        (serial.replace(", auto_increment = \"serial\"", ""), "from a serial column to not auto-increment"),
    ] {
        let err = changes(&serial, &to).expect_err("refused");
        let text = err[0].to_string();
        assert!(text.contains("`users.id` changes") && text.contains(words), "{text}");
        assert!(text.contains("keep `auto_increment = \"serial\"`"), "{text}");
    }
    let err = changes(USER, &serial).expect_err("refused");
    assert!(err[0].to_string().contains("from an identity column to a serial column"), "{}", err[0]);
    assert_eq!(ops(&serial, &serial), Vec::<String>::new());
}

/// A refused NOT NULL field that replaces one of the same type says it may be a rename
/// (a refused diff has no notes, so the hint is in the error itself).
#[test]
fn a_refused_not_null_field_replacing_one_of_its_type_hints_at_renamed_from() {
    let new = USER.replace("#[model(default = 1.50)]\n        pub score: f64,", "pub rating: f64,");
    let err = changes(USER, &new).expect_err("needs a value");
    let text = err[0].to_string();
    assert!(text.contains("`users.rating` is added as NOT NULL"), "{text}");
    assert!(text.contains("if it is `score` renamed") && text.contains("#[model(renamed_from = \"score\")]"), "{text}");
}

#[test]
fn making_a_column_not_null_needs_a_value_for_existing_nulls() {
    let new = USER.replace("pub email: Option<String>,", "pub email: String,");
    assert!(
        matches!(&changes(USER, &new).expect_err("needs a value")[0], DiffError::NeedsFill { why, .. } if why == "becomes NOT NULL")
    );
}

#[test]
fn an_unconvertible_type_change_is_refused_with_advice() {
    let new = USER.replace("pub score: f64,", "pub score: bool,").replace("#[model(default = 1.50)]", "");
    let err = changes(USER, &new).expect_err("refused");
    assert!(err[0].to_string().contains("cannot be converted in place"), "{}", err[0]);
}

#[test]
fn field_level_unique_and_struct_level_unique_are_the_same_constraint() {
    let new = USER
        .replace("#[model(max_length = 50, unique)]", "#[model(max_length = 50)]")
        .replace("#[model(table = \"users\")]", "#[model(table = \"users\", unique(username))]");
    assert_eq!(ops(USER, &new), Vec::<String>::new());
}

#[test]
fn an_explicit_index_name_on_the_same_definition_is_a_rename() {
    let old = USER.replace("#[model(table = \"users\")]", "#[model(table = \"users\", index(email, score))]");
    let new = USER.replace(
        "#[model(table = \"users\")]",
        "#[model(table = \"users\", index(email, score, name = \"ix_contact\"))]",
    );
    assert_eq!(ops(&old, &new), ["RenameIndex users ix_users_email_score -> ix_contact"]);
}

#[test]
fn column_order_inside_an_index_matters() {
    let old = USER.replace("#[model(table = \"users\")]", "#[model(table = \"users\", index(email, score))]");
    let new = USER.replace("#[model(table = \"users\")]", "#[model(table = \"users\", index(score, email))]");
    assert_eq!(
        ops(&old, &new),
        ["DropIndex users ix_users_email_score", "CreateIndex users(score, email) ix_users_score_email"]
    );
}

#[test]
fn every_foreign_key_column_gets_an_index_unless_it_says_index_false() {
    let posts = r#"
        #[derive(Model)]
        pub struct Post {
            #[model(primary_key)]
            pub id: i64,
            #[model(references = User)]
            pub author_id: i64,
            #[model(references = User, index = false)]
            pub editor_id: Option<i64>,
        }
    "#;
    let all = ops(USER, &format!("{USER}{posts}"));
    assert_eq!(all, ["CreateModel posts", "CreateIndex posts(author_id) ix_posts_author_id"]);
}

#[test]
fn tables_are_created_in_foreign_key_order_and_dropped_in_reverse() {
    let models = format!(
        "{USER}{}",
        r#"
        #[derive(Model)]
        pub struct Comment {
            #[model(primary_key)]
            pub id: i64,
            #[model(references = Article, index = false)]
            pub article_id: i64,
        }
        #[derive(Model)]
        pub struct Article {
            #[model(primary_key)]
            pub id: i64,
            #[model(references = User, index = false)]
            pub author_id: i64,
        }
        "#
    );
    assert_eq!(ops(USER, &models), ["CreateModel articles", "CreateModel comments"]);
    assert_eq!(ops(&models, USER), ["DeleteModel comments", "DeleteModel articles"]);
}

#[test]
fn generated_output_is_deterministic() {
    let new = USER.replace("pub score: f64,", "pub score: f64,\n pub bio: Option<String>,\n pub age: Option<i32>,");
    let first = ops(USER, &new);
    for _ in 0..20 {
        assert_eq!(ops(USER, &new), first);
    }
}

#[test]
fn every_type_and_default_is_idempotent_after_sealing() {
    let every = r#"
        #[derive(Model)]
        pub struct Thing {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(default = -3)] pub a: i16,
            #[model(default = 7)] pub b: i32,
            #[model(default = true)] pub c: bool,
            #[model(default = 2.5)] pub d: f32,
            #[model(default = 1e3)] pub e: f64,
            #[model(precision = 12, scale = 4, default = 10.1000)] pub f: Decimal,
            #[model(max_length = 9, default = "x'y")] pub g: String,
            pub h: Vec<u8>,
            #[model(default_expr = "current_date")] pub i: NaiveDate,
            #[model(default_expr = "CURRENT_TIME")] pub j: NaiveTime,
            #[model(default_expr = "now()")] pub k: NaiveDateTime,
            #[model(default_expr = "CURRENT_TIMESTAMP")] pub l: DateTime<Utc>,
            #[model(default_expr = "gen_uuid()")] pub m: Uuid,
            pub n: Option<serde_json::Value>,
            #[model(column_type = "sql:citext")] pub o: String,
        }
    "#;
    assert_eq!(ops(every, every), Vec::<String>::new());
    let sealed = resolved(every);
    let text = migrations_core::snapshot::to_toml(&sealed);
    let reread = migrations_core::snapshot::from_toml(&text).expect("snapshot");
    let set = parse_source(every, &Schema::new()).expect("models");
    assert!(diff(&reread, &set.schema, &set.intent).expect("diff").operations.is_empty());
}

/// A primary key the database named (`primary_key(..., name = "...")`, what `cargo chakra
/// inspect` writes) is kept through the snapshot and created under its name on
/// PostgreSQL; renaming it is refused, naming the table.
#[test]
fn a_named_primary_key_is_kept_and_its_rename_refused() {
    let named = r#"
        #[derive(Model)]
        #[model(table = "accounts", primary_key(id, name = "accounts_pk"))]
        pub struct Account {
            #[model(auto_increment)]
            pub id: i64,
            pub email: String,
        }
    "#;
    let set = parse_source(named, &Schema::new()).expect("models");
    assert_eq!(set.schema.tables["accounts"].primary_key_name.as_deref(), Some("accounts_pk"));
    let created = diff(&Schema::new(), &set.schema, &set.intent).expect("diff");
    let sql =
        migrations_core::render::render_all(&created.operations, &Schema::new(), migrations_core::Dialect::Postgres)
            .expect("render")
            .0;
    assert!(sql[0].contains(r#"CONSTRAINT "accounts_pk" PRIMARY KEY ("id")"#), "{}", sql[0]);
    let text = migrations_core::snapshot::to_toml(&created.schema);
    assert!(text.contains("primary_key_name = \"accounts_pk\""), "{text}");
    assert_eq!(migrations_core::snapshot::from_toml(&text).expect("read back"), created.schema);
    assert!(ops(named, named).is_empty());

    let renamed = named.replace("accounts_pk", "accounts_key");
    let errors = changes(named, &renamed).expect_err("a rename is refused");
    assert!(matches!(&errors[..], [DiffError::PrimaryKeyRenamed { table, .. }] if table == "accounts"), "{errors:?}");
    assert!(errors[0].to_string().contains("from `accounts_pk` to `accounts_key`"), "{}", errors[0]);
}

/// Views are the migrations' own: the autodetector keeps them, changes what it may under
/// them, and refuses what would leave one reading a column or table that is gone.
#[test]
fn views_stay_and_block_what_would_break_them() {
    use migrations_core::schema::View;
    let mut old = resolved(USER);
    let view = View::new("top_users", "SELECT \"id\", \"username\" FROM \"users\"").reads(&["users"]);
    old.apply(&migrations_core::Operation::CreateView { view: view.clone() }).expect("the view");
    let model = |source: &str| parse_source(source, &Schema::new()).expect("models");

    // A new field, and a wider one: done, and the view is still there.
    let wider = USER
        .replace("#[model(max_length = 50, unique)]", "#[model(max_length = 80, unique)]")
        .replace("pub score: f64,", "pub score: f64,\n pub bio: Option<String>,");
    let set = model(&wider);
    let d = diff(&old, &set.schema, &set.intent).expect("changes under a view");
    assert_eq!(d.operations.len(), 2, "{:?}", d.operations);
    assert_eq!(d.schema.views.get("top_users"), Some(&view));

    // A column dropped or renamed, or the table dropped: refused, naming the view.
    for (new, what) in [
        (USER.replace("pub email: Option<String>,", ""), "drops its column `email`"),
        (
            USER.replace("pub email: Option<String>,", "#[model(renamed_from = \"email\")] pub mail: Option<String>,"),
            "renames its column `email`",
        ),
        (String::new(), "drops the table"),
    ] {
        let set = model(&new);
        let err = diff(&old, &set.schema, &set.intent).expect_err("refused");
        let text = err[0].to_string();
        assert!(text.contains("view `top_users` reads `users`") && text.contains(what), "{text}");
        assert!(text.contains("m.drop_view(\"top_users\")"), "{text}");
    }
}

const WITH_ENUM: &str = r#"
    #[derive(DbEnum)]
    pub enum Mood { Happy, Sad }

    #[derive(Model)]
    pub struct Person {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        pub mood: Mood,
    }
"#;

#[test]
fn an_enum_value_added_at_the_end_is_one_alter_enum() {
    let new = WITH_ENUM.replace("Happy, Sad }", "Happy, Sad, Meh }");
    assert_eq!(ops(WITH_ENUM, &new), ["AlterEnum mood +'meh'"]);
}

/// Two values added in front: the first goes before the first value the type already
/// has, not before the second new one, which is not there yet when it runs (PostgreSQL
/// refused it; the random property on PostgreSQL found it).
#[test]
fn values_added_in_front_are_placed_against_values_that_exist() {
    let new = WITH_ENUM.replace("Happy, Sad }", "Blue, Green, Happy, Sad }");
    let old = parse_source(WITH_ENUM, &Schema::default()).expect("models").schema;
    let set = parse_source(&new, &Schema::default()).expect("models");
    let d = diff(&old, &set.schema, &set.intent).expect("diff");
    let (sql, _) =
        migrations_core::render::render_all(&d.operations, &old, migrations_core::Dialect::Postgres).expect("sql");
    assert_eq!(
        sql,
        [
            "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'blue' BEFORE 'happy'",
            "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'green' AFTER 'blue'"
        ]
    );
}

/// A type renamed with `renamed_from` is one `RenameEnum` (its columns are not
/// converted); without it, the columns are converted and a note suggests it.
#[test]
fn an_enum_type_renamed_is_renamed_in_place() {
    let renamed = WITH_ENUM
        .replace("pub enum Mood", "#[db_enum(name = \"feeling\", renamed_from = \"mood\")]\n    pub enum Mood");
    assert_eq!(ops(WITH_ENUM, &renamed), ["RenameEnum mood -> feeling"]);
    let guessed = WITH_ENUM.replace("pub enum Mood", "#[db_enum(name = \"feeling\")]\n    pub enum Mood");
    let old = parse_source(WITH_ENUM, &Schema::default()).expect("models").schema;
    let set = parse_source(&guessed, &Schema::default()).expect("models");
    let changes = diff(&old, &set.schema, &set.intent).expect("diff");
    assert!(
        changes.operations.iter().any(|op| op.to_string().starts_with("AlterField persons.mood")),
        "{:?}",
        changes.operations
    );
    assert_eq!(changes.notes, [Note::PossibleEnumRename { removed: "mood".into(), added: "feeling".into() }]);
}

#[test]
fn an_enum_value_renamed_keeps_its_rows_and_one_removed_goes_last() {
    let new = WITH_ENUM
        .replace("Happy, Sad }", "Happy, #[db_enum(renamed_from = \"sad\")] Blue }")
        .replace("pub mood: Mood,", "pub mood: Mood,\n        #[model(default = \"blue\")]\n        pub was: Mood,");
    assert_eq!(
        ops(WITH_ENUM, &new),
        ["AlterEnum mood 'sad' -> 'blue'", "AddField persons.was enum mood('happy', 'blue') NOT NULL DEFAULT \"blue\""]
    );
    let fewer = WITH_ENUM.replace("Happy, Sad }", "Happy }");
    assert_eq!(ops(WITH_ENUM, &fewer), ["AlterEnum mood -'sad'"]);
    // Added and removed: the new value first (a default may name it), the old one last.
    let swapped = WITH_ENUM
        .replace("Happy, Sad }", "Happy, Meh }")
        .replace("pub mood: Mood,", "#[model(default = \"meh\")]\n        pub mood: Mood,");
    assert_eq!(
        ops(WITH_ENUM, &swapped),
        [
            "AlterEnum mood +'meh'",
            "AlterField persons.mood enum mood('happy', 'meh', 'sad') NOT NULL -> enum mood('happy', 'meh', 'sad') NOT NULL DEFAULT \"meh\"",
            "AlterEnum mood -'sad'",
        ]
    );
}

#[test]
fn a_field_of_an_unknown_type_names_it_and_what_to_do() {
    let err = parse_source(&WITH_ENUM.replace("pub mood: Mood", "pub mood: Feeling"), &Schema::new()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("type `Feeling` is neither a column type Chakra knows nor a `#[derive(DbEnum)]` enum"),
        "{message}"
    );
    let default = WITH_ENUM.replace("pub mood: Mood", "#[model(default = \"angry\")]\n        pub mood: Mood");
    let message = parse_source(&default, &Schema::new()).unwrap_err().to_string();
    assert!(message.contains("default 'angry' of `mood` is not a value of `Mood`"), "{message}");
    let clash = WITH_ENUM.replace("pub enum Mood", "#[db_enum(name = \"persons\")]\n    pub enum Mood");
    let message = parse_source(&clash, &Schema::new()).unwrap_err().to_string();
    assert!(message.contains("has the name of a table"), "{message}");
}

/// A table with a trigger kept by name (`m.create_raw`) is not dropped from under it:
/// the build says which object, and what to do.
#[test]
fn a_table_is_not_dropped_from_under_its_trigger() {
    use migrations_core::schema::RawSql;
    use migrations_core::Operation;
    let mut old = resolved(USER);
    let trigger = RawSql::new("trigger", "users_touch")
        .on_table("users")
        .sql("CREATE TRIGGER users_touch ...", "DROP TRIGGER users_touch");
    old.apply(&Operation::CreateRaw { object: trigger }).expect("the trigger");
    let errors = diff(&old, &Schema::new(), &Default::default()).expect_err("refused");
    let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        said.iter().any(|e| e.contains("trigger `users_touch` belongs to `users`")
            && e.contains("m.drop_raw_named(\"trigger\", \"users_touch\")")),
        "{said:?}"
    );
}

/// A check validated is changed in place (`VALIDATE CONSTRAINT`); made NOT VALID again,
/// it is dropped and added, which is the only way PostgreSQL has.
#[test]
fn a_constraint_validated_changes_in_place_and_only_then() {
    let checked = |not_valid: &str| {
        USER.replace(
            "#[model(table = \"users\")]",
            &format!("#[model(table = \"users\", check(name = \"ck_score\", expr = \"score >= 0\"{not_valid}))]"),
        )
    };
    assert_eq!(ops(&checked(", not_valid"), &checked("")), ["AlterConstraint users check ck_score validated"]);
    assert_eq!(
        ops(&checked(""), &checked(", not_valid")),
        ["RemoveConstraint users check ck_score", "AddConstraint users check ck_score"]
    );
}
