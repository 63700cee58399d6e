//! Scenarios: a schema before and the models after, each aimed at one operation kind.
//! Both the SQL snapshots and the real-database tests walk this one list.

use migrations_core::diff::diff;
use migrations_core::model::parse_source;
use migrations_core::operation::RunSql;
use migrations_core::schema::{Column, ColumnType, View};
use migrations_core::{Dialect, Operation, Schema};

/// One scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Snapshot and test name.
    pub name: &'static str,
    /// The schema the operations start from.
    pub before: Schema,
    /// The operations under test.
    pub operations: Vec<Operation>,
    /// The dialects it runs on (every one but where a type does not exist).
    pub dialects: Vec<Dialect>,
}

impl Scenario {
    /// The scenario, on `dialects` only.
    fn on(self, dialects: &[Dialect]) -> Scenario {
        Scenario { dialects: dialects.to_vec(), ..self }
    }
}

/// Parses model source into a schema, panicking with the parse errors (test input).
pub fn schema_of(source: &str) -> Schema {
    match parse_source(source, &Schema::new()) {
        Ok(set) => set.schema,
        Err(e) => panic!("fixture models do not parse: {e}"),
    }
}

/// The operations that take the models `before` to the models `after`.
pub fn scenario(name: &'static str, before: &str, after: &str) -> Scenario {
    let old = resolved(before);
    let new = match parse_source(after, &Schema::new()) {
        Ok(set) => set,
        Err(e) => panic!("{name}: models do not parse: {e}"),
    };
    let d = diff(&old, &new.schema, &new.intent).unwrap_or_else(|e| panic!("{name}: diff failed: {e:?}"));
    assert!(!d.operations.is_empty(), "{name}: no operations");
    Scenario { name, before: old, operations: d.operations, dialects: Dialect::ALL.to_vec() }
}

/// The operations of `runtime_fixture::TRIGGERS` (a table, and a trigger and function
/// kept by name), from the empty schema.
fn triggers() -> Vec<Operation> {
    let mut m = migrations_runtime::schema::Migration::new();
    (crate::runtime_fixture::TRIGGERS.migrations[0].up)(&mut m);
    m.into_operations(&Schema::new()).expect("the triggers fixture resolves")
}

/// The schema after the migration of `runtime_fixture::TRIGGERS`.
pub fn after_triggers() -> Schema {
    let mut schema = Schema::new();
    schema.apply_all(&triggers()).expect("the triggers fixture applies");
    schema
}

/// A schema from models, as it would be after its own migration (names resolved).
pub fn resolved(source: &str) -> Schema {
    if source.trim().is_empty() {
        return Schema::new();
    }
    let set = parse_source(source, &Schema::new()).unwrap_or_else(|e| panic!("models do not parse: {e}"));
    diff(&Schema::new(), &set.schema, &set.intent).expect("initial diff").schema
}

const USERS: &str = r#"
    #[derive(Model)]
    #[model(table = "users")]
    pub struct User {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(max_length = 50, unique)]
        pub username: String,
        #[model(max_length = 100)]
        pub email: Option<String>,
        #[model(default = true)]
        pub is_active: bool,
        #[model(default = 0)]
        pub karma: i32,
    }
"#;

fn with_users(extra: &str) -> String {
    format!("{USERS}\n{extra}")
}

const POSTS: &str = r#"
    #[derive(Model)]
    pub struct Post {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(references = User, on_delete = "cascade")]
        pub author_id: i64,
        #[model(max_length = 200)]
        pub title: String,
        pub body: String,
    }
"#;

/// Every scenario, in a fixed order.
pub fn all() -> Vec<Scenario> {
    let users = USERS.to_string();
    let users_posts = with_users(POSTS);
    let users_with = |field: &str| USERS.replace("pub karma: i32,", &format!("pub karma: i32,\n{field}"));
    vec![
        scenario(
            "create_model_every_type",
            "",
            r#"
            #[derive(Model)]
            #[model(table = "every_type", comment = "one column of each type")]
            pub struct EveryType {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                pub small: i16,
                pub normal: i32,
                #[model(default = -7)]
                pub big: i64,
                #[model(default = false)]
                pub flag: bool,
                pub ratio: f32,
                #[model(default = 1.50)]
                pub score: f64,
                #[model(precision = 10, scale = 2, default = 0.00)]
                pub price: Decimal,
                #[model(max_length = 20, default = "it's")]
                pub code: String,
                #[model(comment = "free text")]
                pub notes: Option<String>,
                pub data: Vec<u8>,
                pub day: NaiveDate,
                pub at: NaiveTime,
                pub local: NaiveDateTime,
                #[model(default_expr = "now()")]
                pub created_at: DateTime<Utc>,
                pub uid: Uuid,
                pub doc: Option<serde_json::Value>,
            }
            "#,
        ),
        scenario("create_models_with_foreign_key", "", &users_posts),
        scenario(
            "create_models_with_cycle",
            "",
            r#"
            #[derive(Model)]
            pub struct Team {
                #[model(primary_key)]
                pub id: i64,
                #[model(references = Person, on_delete = "set null")]
                pub captain_id: Option<i64>,
            }
            #[derive(Model)]
            #[model(table = "people")]
            pub struct Person {
                #[model(primary_key)]
                pub id: i64,
                #[model(references = Team)]
                pub team_id: i64,
                #[model(references = Person)]
                pub mentor_id: Option<i64>,
            }
            "#,
        ),
        scenario("delete_model", &users_posts, &users),
        scenario(
            "rename_model",
            &users,
            &USERS.replace("#[model(table = \"users\")]", "#[model(table = \"accounts\", renamed_from = \"users\")]"),
        ),
        scenario(
            "alter_model_comment",
            &users,
            &USERS
                .replace("#[model(table = \"users\")]", "#[model(table = \"users\", comment = \"people who log in\")]"),
        ),
        scenario("add_field_nullable", &users, &users_with("pub bio: Option<String>,")),
        scenario(
            "add_field_with_default",
            &users,
            &users_with("#[model(default = \"en\", max_length = 5)] pub locale: String,"),
        ),
        scenario("add_field_with_backfill", &users, &users_with("#[model(backfill = 18)] pub age: i32,")),
        scenario(
            "add_field_with_default_expr",
            &users,
            &users_with("#[model(default_expr = \"now()\")] pub joined_at: DateTime<Utc>,"),
        ),
        scenario(
            "remove_field",
            &users,
            &USERS.replace("#[model(max_length = 100)]\n        pub email: Option<String>,", ""),
        ),
        scenario("alter_field_widen_type", &users, &USERS.replace("pub karma: i32,", "pub karma: i64,")),
        scenario(
            "alter_field_make_not_null",
            &users,
            &USERS
                .replace(
                    "pub email: Option<String>,",
                    "#[model(backfill = \"unknown@example.com\")] pub email: String,",
                )
                .replace("#[model(max_length = 100)]", "#[model(max_length = 100, backfill = \"unknown@example.com\")]")
                .replace("#[model(backfill = \"unknown@example.com\")] pub email", "pub email"),
        ),
        scenario("alter_field_make_nullable", &users, &USERS.replace("pub karma: i32,", "pub karma: Option<i32>,")),
        scenario(
            "add_field_date_time_defaults",
            &users,
            &USERS.replace(
                "pub karma: i32,",
                "pub karma: i32,\n        #[model(default = \"2024-01-31T09:30:00+02:00\")]\n        pub joined_at: DateTime<Utc>,\n        #[model(default = \"2024-01-31T09:30:00Z\")]\n        pub seen_at: NaiveDateTime,",
            ),
        ),
        scenario(
            "alter_field_comment_only",
            &users,
            &USERS.replace("#[model(default = 0)]", "#[model(default = 0, comment = \"reputation points\")]"),
        ),
        scenario(
            "alter_field_change_default",
            &users,
            &USERS.replace("#[model(default = 0)]", "#[model(default = 10)]"),
        ),
        scenario(
            "rename_field",
            &users,
            &USERS.replace(
                "#[model(max_length = 100)]\n        pub email: Option<String>,",
                "#[model(max_length = 100, renamed_from = \"email\")] pub contact: Option<String>,",
            ),
        ),
        scenario(
            "create_index",
            &users,
            &USERS.replace("#[model(table = \"users\")]", "#[model(table = \"users\", index(email, karma))]"),
        ),
        scenario(
            "drop_index",
            &users_posts,
            &with_users(&POSTS.replace(
                "#[model(references = User, on_delete = \"cascade\")]",
                "#[model(references = User, on_delete = \"cascade\", index = false)]",
            )),
        ),
        scenario(
            "rename_index",
            &USERS.replace("#[model(table = \"users\")]", "#[model(table = \"users\", index(email, karma))]"),
            &USERS.replace(
                "#[model(table = \"users\")]",
                "#[model(table = \"users\", index(email, karma, name = \"ix_users_contact\"))]",
            ),
        ),
        scenario(
            "add_unique_constraint",
            &users,
            &USERS.replace("#[model(max_length = 100)]", "#[model(max_length = 100, unique)]"),
        ),
        scenario(
            "add_check_constraint",
            &users,
            &USERS.replace(
                "#[model(table = \"users\")]",
                "#[model(table = \"users\", check(name = \"ck_users_karma\", expr = \"karma >= 0\"))]",
            ),
        ),
        scenario(
            "add_foreign_key",
            &with_users(&POSTS.replace("#[model(references = User, on_delete = \"cascade\")]", "")),
            &users_posts,
        ),
        scenario(
            "remove_unique_constraint",
            &users,
            &USERS.replace("#[model(max_length = 50, unique)]", "#[model(max_length = 50)]"),
        ),
        scenario(
            "remove_check_constraint",
            &USERS.replace(
                "#[model(table = \"users\")]",
                "#[model(table = \"users\", check(name = \"ck_users_karma\", expr = \"karma >= 0\"))]",
            ),
            &users,
        ),
        scenario(
            "remove_foreign_key",
            &users_posts,
            &with_users(&POSTS.replace("#[model(references = User, on_delete = \"cascade\")]", "#[model(index)]")),
        ),
        // A foreign key over two columns, to a composite primary key, named by hand.
        scenario(
            "create_models_with_composite_foreign_key",
            "",
            r#"
            #[derive(Model)]
            #[model(table = "projects", primary_key(org_id, number))]
            pub struct Project {
                pub org_id: i64,
                pub number: i32,
                #[model(max_length = 100)]
                pub title: String,
            }
            #[derive(Model)]
            #[model(table = "tasks", foreign_key(org_id, project_number, references = "projects(org_id, number)", on_delete = "cascade", name = "tasks_project_fk"))]
            pub struct Task {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                pub org_id: i64,
                pub project_number: i32,
            }
            "#,
        ),
        // One transaction changes two tables, one referencing the other: on PostgreSQL it
        // locks both first, the referencing table before the referenced one.
        scenario(
            "change_two_related_tables",
            &users_posts,
            &with_users(&POSTS.replace("#[model(references = User, on_delete = \"cascade\")]", "#[model(index)]"))
                .replace("#[model(default = 0)]\n        pub karma: i32,", ""),
        ),
        Scenario {
            name: "run_sql",
            before: resolved(&users),
            operations: vec![Operation::RunSql(RunSql {
                forward: vec!["UPDATE users SET karma = karma + 1".into()],
                reverse: Some(vec!["UPDATE users SET karma = karma - 1".into()]),
                ..RunSql::default()
            })],
            dialects: Dialect::ALL.to_vec(),
        },
        // `varchar` without a length (PostgreSQL's `character varying`; MySQL has none):
        // a new column, a bounded one and a `text` one made unbounded, in place.
        scenario(
            "unbounded_varchar",
            r#"
            #[derive(Model)]
            pub struct Note {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(max_length = 20)]
                pub title: String,
                pub body: String,
            }
            "#,
            r#"
            #[derive(Model)]
            pub struct Note {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(column_type = "varchar")]
                pub title: String,
                #[model(column_type = "varchar")]
                pub body: String,
                #[model(column_type = "varchar", default = "draft")]
                pub state: String,
            }
            "#,
        )
        .on(&[Dialect::Postgres, Dialect::Sqlite]),
        // Foreign keys checked at commit (MySQL has none): an existing one made
        // deferrable, and a new table whose key is deferrable from the start.
        scenario(
            "deferrable_foreign_keys",
            &users_posts,
            &with_users(&format!(
                "{}{}",
                POSTS.replace(
                    "#[model(references = User, on_delete = \"cascade\")]",
                    "#[model(references = User, on_delete = \"cascade\", deferrable = \"initially deferred\")]"
                ),
                r#"
    #[derive(Model)]
    pub struct Reply {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(references = Post, deferrable)]
        pub post_id: i64,
    }
"#
            )),
        )
        .on(&[Dialect::Postgres, Dialect::Sqlite]),
        // A default and a type no portable name says, spelled for each database.
        scenario(
            "sql_per_dialect",
            &users,
            &users_with(
                r#"#[model(default_expr(postgres = "clock_timestamp()", mysql = "CURRENT_TIMESTAMP(6)", sqlite = "strftime('%Y-%m-%d %H:%M:%f', 'now')"))]
        pub seen_at: chrono::DateTime<chrono::Utc>,
        #[model(default_expr(postgres = "'{}'::jsonb", mysql = "JSON_OBJECT()", sqlite = "'{}'"))]
        pub settings: serde_json::Value,
        #[model(column_type(postgres = "inet", mysql = "varchar(45)", sqlite = "text"))]
        pub last_ip: Option<String>,"#,
            ),
        ),
        // Text compared without regard to case: PostgreSQL's `citext` (its extension made
        // first), MySQL's text, SQLite's `COLLATE NOCASE`; a text column made one.
        scenario(
            "case_insensitive_text",
            r#"
            #[derive(Model)]
            pub struct Tag {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                pub label: String,
            }
            "#,
            r#"
            #[derive(Model)]
            pub struct Tag {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(column_type = "citext")]
                pub label: String,
                #[model(column_type = "citext")]
                pub note: Option<String>,
            }
            "#,
        ),
        // Constraints kept NOT VALID (PostgreSQL): added without checking the rows there.
        scenario(
            "not_valid_constraints",
            &users_posts,
            &with_users(&POSTS.replace(
                "#[model(references = User, on_delete = \"cascade\")]",
                "#[model(references = User, on_delete = \"cascade\", not_valid)]",
            ).replace("pub struct Post {", "#[model(check(name = \"ck_posts_title\", expr = \"title <> ''\", not_valid))]\n    pub struct Post {")),
        )
        .on(&[Dialect::Postgres]),
        // Those constraints validated, and the key made deferrable, in place: PostgreSQL
        // checks the rows there with writes going on (`VALIDATE CONSTRAINT`) and changes
        // when the key is checked (`ALTER CONSTRAINT`), without a drop and an add.
        scenario(
            "constraints_validated_in_place",
            &with_users(&POSTS.replace(
                "#[model(references = User, on_delete = \"cascade\")]",
                "#[model(references = User, on_delete = \"cascade\", not_valid)]",
            ).replace("pub struct Post {", "#[model(check(name = \"ck_posts_title\", expr = \"title <> ''\", not_valid))]\n    pub struct Post {")),
            &with_users(&POSTS.replace(
                "#[model(references = User, on_delete = \"cascade\")]",
                "#[model(references = User, on_delete = \"cascade\", deferrable = \"initially deferred\")]",
            ).replace("pub struct Post {", "#[model(check(name = \"ck_posts_title\", expr = \"title <> ''\"))]\n    pub struct Post {")),
        )
        .on(&[Dialect::Postgres]),
        // A view over a table and a view over that view, then a change under them that
        // PostgreSQL refuses under a view (a column's type) and SQLite makes by a table
        // rebuild: the views are dropped just before (the one over the other first) and
        // created again just after.
        {
            let before = resolved(&users);
            let view = View::new("active_users", "SELECT \"id\", \"username\" FROM \"users\" WHERE \"is_active\"")
                .reads(&["users"]);
            let names = View::new("active_user_names", "SELECT \"username\" FROM \"active_users\"")
                .reads(&["active_users"]);
            let username = |n| Column::new("username", ColumnType::Varchar(n));
            Scenario {
                name: "view_over_a_changed_table",
                before,
                operations: vec![
                    Operation::CreateView { view },
                    Operation::CreateView { view: names },
                    Operation::AlterField { table: "users".into(), old: username(50), new: username(80), fill: None },
                ],
                dialects: Dialect::ALL.to_vec(),
            }
        },
        // A trigger (and on PostgreSQL its function) kept by name, its SQL each database's.
        {
            let mut ops = triggers();
            let table = ops.remove(0);
            let mut before = Schema::new();
            before.apply(&table).expect("the table");
            Scenario { name: "raw_trigger_per_dialect", before, operations: ops, dialects: Dialect::ALL.to_vec() }
        },
        // A serial key (PostgreSQL's older numbering; the others number it as any).
        scenario(
            "create_model_with_serial_key",
            "",
            r#"
            #[derive(Model)]
            pub struct Counter {
                #[model(primary_key, auto_increment = "serial")]
                pub id: i32,
                pub hits: i64,
            }
            "#,
        ),
        // A key the database numbers from now on, on a table whose rows have numbers:
        // numbering goes on after the highest.
        scenario(
            "key_becomes_auto_increment",
            r#"
            #[derive(Model)]
            pub struct Ticket {
                #[model(primary_key)]
                pub id: i64,
            }
            "#,
            r#"
            #[derive(Model)]
            pub struct Ticket {
                #[model(primary_key, auto_increment)]
                pub id: i64,
            }
            "#,
        ),
        // Enumerated types (`#[derive(DbEnum)]`): PostgreSQL's type created before the
        // first table that uses it (and dropped after the last); MySQL's ENUM; SQLite's
        // CHECK of the list.
        scenario(
            "enum_type_created",
            "",
            r#"
            #[derive(DbEnum)]
            #[db_enum(name = "account_status")]
            pub enum Status { Active, PastDue, #[db_enum(rename = "it's closed")] Closed }

            #[derive(Model)]
            pub struct Account {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(default = "active")]
                pub status: Status,
                pub previous_status: Option<Status>,
            }
            "#,
        ),
        // A value renamed (the rows follow), one added (used at once by a new column's
        // default: added before it, committed on PostgreSQL), one removed after the default
        // that named it changed.
        scenario(
            "enum_values_change",
            r#"
            #[derive(DbEnum)]
            pub enum Status { Active, Paused, Legacy }

            #[derive(Model)]
            pub struct Account {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(default = "legacy")]
                pub status: Status,
            }
            "#,
            r#"
            #[derive(DbEnum)]
            pub enum Status { Active, #[db_enum(renamed_from = "paused")] OnHold, Closed }

            #[derive(Model)]
            pub struct Account {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(default = "active")]
                pub status: Status,
                #[model(default = "closed")]
                pub archived_status: Status,
            }
            "#,
        ),
        // The type renamed (`renamed_from` on the enum): renamed in place, its two columns
        // and their rows untouched, while a value is renamed too.
        scenario(
            "enum_type_renamed",
            r#"
            #[derive(DbEnum)]
            pub enum Status { Active, Paused }

            #[derive(Model)]
            pub struct Account {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(default = "active")]
                pub status: Status,
                pub previous_status: Option<Status>,
            }
            "#,
            r#"
            #[derive(DbEnum)]
            #[db_enum(name = "account_status", renamed_from = "status")]
            pub enum Status { Active, #[db_enum(renamed_from = "paused")] OnHold }

            #[derive(Model)]
            pub struct Account {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(default = "active")]
                pub status: Status,
                pub previous_status: Option<Status>,
            }
            "#,
        ),
        // Arrays (`Vec<T>`, PostgreSQL's): an element widened, a new array column and a
        // GIN index over one.
        scenario(
            "arrays",
            r#"
            #[derive(Model)]
            pub struct Article {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(max_length = 20)]
                pub tags: Vec<String>,
            }
            "#,
            r#"
            #[derive(Model)]
            #[model(index(tags, method = "gin"))]
            pub struct Article {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(max_length = 40)]
                pub tags: Vec<String>,
                pub scores: Option<Vec<i32>>,
            }
            "#,
        )
        .on(&[Dialect::Postgres]),
        // PostgreSQL's own types (SQLite keeps addresses and JSON as text).
        scenario(
            "postgres_types",
            "",
            r#"
            #[derive(Model)]
            pub struct Visit {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(column_type = "json_text")]
                pub raw: serde_json::Value,
                pub ip: std::net::IpAddr,
                #[model(column_type = "cidr")]
                pub network: Option<String>,
                #[model(default = "1 day")]
                pub stay: sqlx::postgres::types::PgInterval,
                #[model(column_type = "tsvector")]
                pub search: Option<String>,
                #[model(column_type = "timetz")]
                pub opens: Option<String>,
            }
            "#,
        )
        .on(&[Dialect::Postgres]),
        scenario(
            "addresses_and_json_as_written",
            "",
            r#"
            #[derive(Model)]
            pub struct Visit {
                #[model(primary_key, auto_increment)]
                pub id: i64,
                #[model(column_type = "json_text", default = "{}")]
                pub raw: serde_json::Value,
                #[model(default = "127.0.0.1")]
                pub ip: std::net::IpAddr,
                #[model(column_type = "cidr")]
                pub network: Option<String>,
            }
            "#,
        )
        .on(&[Dialect::Postgres, Dialect::Sqlite]),
        // Indexes every dialect builds: a unique index (not a constraint) and a key in
        // descending order, on a new table and on an existing one.
        scenario(
            "index_order_and_unique_index",
            &users_posts,
            &with_users(&format!(
                "{}{}",
                POSTS.replace(
                    "pub struct Post {",
                    "#[model(index(author_id, title, order(title = \"desc\"), name = \"ix_posts_author_latest\"))]\n    #[model(index(title, unique))]\n    pub struct Post {"
                ),
                r#"
    #[derive(Model)]
    #[model(index(post_id, at, order(at = "desc")))]
    pub struct Visit {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(references = Post)]
        pub post_id: i64,
        pub at: i64,
    }
"#
            )),
        ),
        // Expression keys and partial indexes (PostgreSQL and SQLite; MySQL has neither
        // portably).
        scenario(
            "index_expressions_and_partial",
            &users_posts,
            &with_users(&POSTS.replace(
                "pub struct Post {",
                "#[model(index(expr = \"lower(title)\", unique, name = \"ux_posts_title_lower\"))]\n    #[model(index(author_id, where = \"body <> ''\", name = \"ix_posts_author_with_body\"))]\n    pub struct Post {",
            )),
        )
        .on(&[Dialect::Postgres, Dialect::Sqlite]),
        // What only PostgreSQL has: methods, operator classes, NULLS order, INCLUDE.
        scenario(
            "index_methods_postgres",
            &users_posts,
            &with_users(&format!(
                "{}{}",
                POSTS.replace(
                    "pub struct Post {",
                    "#[model(index(title, opclass(title = \"varchar_pattern_ops\")))]\n    #[model(index(author_id, include(title), order(author_id = \"asc nulls first\"), name = \"ix_posts_author_covering\"))]\n    pub struct Post {"
                ),
                r#"
    #[derive(Model)]
    #[model(index(payload, method = "gin", opclass(payload = "jsonb_path_ops")))]
    #[model(index(at, method = "brin"))]
    #[model(index(kind, method = "hash"))]
    pub struct Event {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        pub payload: serde_json::Value,
        pub at: i64,
        #[model(max_length = 20)]
        pub kind: String,
    }
"#
            )),
        )
        .on(&[Dialect::Postgres]),
    ]
}
