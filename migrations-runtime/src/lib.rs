//! What an application links to run Chakra migrations: the `Model` trait and derive,
//! and (from the runtime issue on) the embedded registry and the migrator.
#![warn(missing_docs)]

pub use migrations_macros::{DbEnum, Model};

/// A struct declared as a table with `#[derive(Model)]`.
///
/// The build script reads these structs (it never runs them) and writes a migration for
/// each change; the derive checks the same annotations at compile time, so a mistake is
/// an error at the attribute, in the editor. Every option goes in `#[model(...)]`; several
/// `#[model(...)]` attributes on one item merge, an option given twice is an error, and
/// their order does not matter.
///
/// # Struct options
///
/// | Option | Meaning |
/// |---|---|
/// | `table = "name"` | the table's SQL name (default: the snake_case plural of the struct name, `BlogPost` → `blog_posts`) |
/// | `renamed_from = "old"` | the table was called `old`: a rename that keeps its rows, not a drop and a create |
/// | `comment = "..."` | the table's comment |
/// | `foreign_key(a, b, references = "table(x, y)")` | a foreign key over several columns (Rust field names), to a primary key or unique of as many; also `name = "..."`, `on_delete`, `on_update`, `deferrable`, `not_valid`, `index = false` |
/// | `primary_key(a, b)`, `primary_key(a, name = "...")` | a composite primary key (Rust field names, in order), or one the database names otherwise than `<table>_pkey` (PostgreSQL) |
/// | `index(a, b)`, `index(a, b, name = "ix_...")` | an index on these keys, in order; a key is a field or `expr = "lower(email)"` |
/// | `index(..., unique)` | a unique index (not a constraint) |
/// | `index(..., order(a = "desc nulls last"))` | a key's order (`asc`/`desc`; `nulls first`/`nulls last` on PostgreSQL) |
/// | `index(..., where = "...")` | a partial index (PostgreSQL, SQLite) |
/// | `index(..., method = "gin", opclass(a = "jsonb_path_ops"), include(b))` | PostgreSQL's methods (`btree`, `hash`, `gin`, `gist`, `brin`, `spgist`), operator classes and covering columns |
/// | `unique(a, b)`, `unique(a, b, name = "uq_...")` | a unique constraint |
/// | `check(name = "ck_...", expr = "...")` | a check constraint (SQL; write identifiers in double quotes); `not_valid` adds it `NOT VALID` and keeps it so (PostgreSQL) |
///
/// ```
/// use migrations_runtime::Model;
///
/// #[derive(Model)]
/// #[model(
///     table = "memberships",
///     comment = "who belongs to which team",
///     primary_key(team_id, user_id),
///     index(user_id, joined_on, name = "ix_memberships_user"),
///     unique(team_id, nickname),
///     check(name = "ck_memberships_level", expr = "\"level\" BETWEEN 1 AND 5"),
/// )]
/// pub struct Membership {
///     pub team_id: i64,
///     pub user_id: i64,
///     #[model(max_length = 40)]
///     pub nickname: String,
///     pub level: i16,
///     pub joined_on: NaiveDate,
/// }
/// # pub struct NaiveDate;
/// assert_eq!(Membership::TABLE, "memberships");
/// assert_eq!(Membership::COLUMNS, ["team_id", "user_id", "nickname", "level", "joined_on"]);
/// ```
///
/// # Field options
///
/// | Option | Meaning |
/// |---|---|
/// | `primary_key` | the primary key (one field; see `primary_key(a, b)` for several) |
/// | `auto_increment`, `auto_increment = "serial"` | the database numbers it (an integer primary key): an identity column on PostgreSQL, or a `serial` one |
/// | `unique`, `unique = "name"` | a one-column unique constraint (named otherwise than `uq_<table>_<column>`) |
/// | `index`, `index = false`, `index = "name"` | an index on it (named otherwise than `ix_<table>_<column>`); `false` leaves out the one a `references` field gets |
/// | `max_length = N` | `String` as `varchar(N)` (an unbounded `String` is `text`) |
/// | `precision = P`, `scale = S` | a decimal's digits (required for `Decimal`) |
/// | `default = <literal>` | a default kept in the schema: a number, `true`/`false`, or a string (a date-time as `"2024-01-31T09:30:00Z"`) |
/// | `default_expr = "now()"` | a default in SQL; `now()`, `current_date`, `current_time` and `gen_uuid()` map per dialect |
/// | `default_expr(postgres = "...", mysql = "...", sqlite = "...")` | a default in SQL spelled for each database the crate targets |
/// | `backfill = <literal>`, `backfill_expr = "..."` | a one-off value for the rows that exist when the column is added or made NOT NULL (not kept as a default) |
/// | `column = "name"` | the column's SQL name (default: the field's name) |
/// | `column_type = "..."` | the column's type: a portable name (`"varchar(20)"`, `"bigint"`; `"varchar"` without a length, which MySQL lacks; PostgreSQL's `"json_text"`, `"inet"`, `"cidr"`, `"interval"`, `"tsvector"`, `"timetz"`; an array `"text[]"`), or `"sql:citext"` for SQL as written |
/// | `column_type(postgres = "...", mysql = "...", sqlite = "...")` | a type in SQL spelled for each database the crate targets |
/// | `references = Model`, `references = "table(column)"` | a foreign key (another app's: `references = auth::User`, `references = "auth.users(id)"`) |
/// | `on_delete = "..."`, `on_update = "..."` | `"cascade"`, `"set null"`, `"restrict"` or `"no action"` |
/// | `deferrable`, `deferrable = "initially deferred"` | the foreign key may be checked at commit (`SET CONSTRAINTS`), or is from the start; PostgreSQL and SQLite |
/// | `not_valid` | the foreign key is added `NOT VALID` and kept so: rows written later are checked, the ones there are not (PostgreSQL) |
/// | `foreign_key_name = "..."` | the foreign key's name, instead of `fk_<table>_<column>_<target>` (what `cargo chakra inspect` writes when the database names it otherwise) |
/// | `renamed_from = "old"` | the column was called `old`: a rename that keeps its data |
/// | `comment = "..."` | the column's comment |
/// | `skip` | not a column |
///
/// `Option<T>` is nullable. Types: `i16`, `i32`, `i64`, `bool`, `f32`, `f64`, `String`,
/// `Vec<u8>`, `NaiveDate`/`Date`, `NaiveTime`/`Time`, `NaiveDateTime`/`PrimitiveDateTime`,
/// `DateTime<Tz>`/`OffsetDateTime`, `Uuid`, `Decimal`, `serde_json::Value`/`Json<T>`,
/// `IpAddr` (`inet`), `PgInterval`, `PgTimeTz`; `Vec<T>` of these is a PostgreSQL array;
/// anything else (an alias, a newtype) is an error that asks for `column_type`.
///
/// ```
/// use migrations_runtime::Model;
///
/// // PostgreSQL's vocabulary, in a crate that targets PostgreSQL.
/// #[derive(Model)]
/// #[model(index(author_id, published_at, order(published_at = "desc nulls last"), include(title)))]
/// #[model(index(expr = "lower(title)", unique, where = "deleted_at IS NULL", name = "ux_posts_live_title"))]
/// #[model(index(tags, method = "gin"))]
/// pub struct Post {
///     #[model(primary_key, auto_increment = "serial")]
///     pub id: i32,
///     #[model(references = "users(id)", not_valid)]
///     pub author_id: i64,
///     pub title: String,
///     pub tags: Vec<String>,
///     pub published_at: Option<i64>,
///     pub deleted_at: Option<i64>,
///     #[model(default_expr(postgres = "'{}'::jsonb", mysql = "JSON_OBJECT()", sqlite = "'{}'"))]
///     pub settings: serde_json::Value,
///     #[model(column_type(postgres = "inet", mysql = "varchar(45)", sqlite = "text"))]
///     pub last_ip: Option<String>,
/// }
/// # mod serde_json { pub struct Value; }
/// assert_eq!(Post::TABLE, "posts");
/// ```
///
/// ```
/// use migrations_runtime::Model;
///
/// #[derive(Model)]
/// pub struct Team {
///     #[model(primary_key, auto_increment)]
///     pub id: i64,
/// }
///
/// #[derive(Model)]
/// #[model(table = "users", renamed_from = "accounts")]
/// pub struct User {
///     #[model(primary_key, auto_increment)]
///     pub id: i64,
///     #[model(max_length = 50, unique, renamed_from = "login")]
///     pub username: String,
///     #[model(column = "email_address", max_length = 255, index, comment = "where we write")]
///     pub email: Option<String>,
///     #[model(default = 0, backfill = 0)]
///     pub karma: i32,
///     #[model(precision = 10, scale = 2, default = 0)]
///     pub balance: Decimal,
///     #[model(default_expr = "now()")]
///     pub created_at: DateTime<Utc>,
///     #[model(default = "2024-01-31T09:30:00Z")]
///     pub trial_ends_at: NaiveDateTime,
///     #[model(backfill_expr = "now()")]
///     pub seen_at: NaiveDateTime,
///     #[model(references = Team, on_delete = "set null", on_update = "cascade", index = false)]
///     pub team_id: Option<i64>,
///     #[model(column_type = "varchar(20)")]
///     pub phone: PhoneNumber,
///     #[model(skip)]
///     pub cached_score: f64,
/// }
/// # pub struct Decimal;
/// # pub struct NaiveDateTime;
/// # pub struct DateTime<T>(T);
/// # pub struct Utc;
/// # pub struct PhoneNumber;
/// assert_eq!(User::TABLE, "users");
/// assert!(User::COLUMNS.contains(&"email_address"));
/// assert!(!User::COLUMNS.contains(&"cached_score"));
/// ```
pub trait Model {
    /// The SQL name of the table.
    const TABLE: &'static str;
    /// The SQL names of its columns, in field order (skipped fields excluded).
    const COLUMNS: &'static [&'static str];
}

/// An enum whose values a column holds, declared with `#[derive(DbEnum)]` and used as a
/// field's type (`pub status: AccountStatus`, or `Option<AccountStatus>`).
///
/// On PostgreSQL it is a type of its own (`CREATE TYPE "account_status" AS ENUM
/// ('active', 'past_due')`), created by the migration that adds its first column and
/// dropped by the one that drops its last; MySQL writes the list into each column
/// (`ENUM('active', 'past_due')`); SQLite keeps text with a `CHECK` of the list. A change
/// of the variants is a migration: a value added, renamed (`renamed_from`, the rows
/// follow), removed (refused at deploy while a row still holds it) or moved.
///
/// PostgreSQL cannot use a value in the transaction that added it: the runtime adds
/// values in a transaction of their own, before the migration's other statements (so a
/// default or a data step may use them). Removing or reordering values builds the type
/// again and rewrites each table with a column of it: the build asks for that to be
/// acknowledged, as for any blocking rewrite.
///
/// # Options
///
/// | Option | Meaning |
/// |---|---|
/// | `#[db_enum(name = "...")]` on the enum | the type's SQL name (default: the snake_case enum name, `AccountStatus` → `account_status`) |
/// | `#[db_enum(renamed_from = "old")]` on the enum | the type was called `old`: renamed in place (`ALTER TYPE ... RENAME TO` on PostgreSQL), not its columns converted to a new type |
/// | `#[db_enum(rename_all = "...")]` on the enum | how variant names become values: `snake_case` (the default), `lowercase`, `UPPERCASE`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `camelCase`, `PascalCase`, `verbatim` |
/// | `#[db_enum(rename = "...")]` on a variant | the variant's value, as written |
/// | `#[db_enum(renamed_from = "old")]` on a variant | the value was `old`: a rename that keeps the rows, not a removal and an addition |
///
/// Where `db_enum` does not say, `#[sqlx(type_name = "...")]`, `#[sqlx(rename_all =
/// "...")]` and a variant's `#[sqlx(rename = "...")]` are read: with
/// `#[derive(sqlx::Type)]` on the same enum, give it those and the database and the
/// application spell the values alike.
///
/// ```
/// use migrations_runtime::{DbEnum, Model};
///
/// #[derive(DbEnum, Debug, PartialEq)]
/// #[db_enum(name = "account_status", renamed_from = "status")]
/// pub enum Status {
///     Active,
///     PastDue,
///     #[db_enum(rename = "closed", renamed_from = "cancelled")]
///     Closed,
/// }
///
/// #[derive(Model)]
/// pub struct Account {
///     #[model(primary_key, auto_increment)]
///     pub id: i64,
///     #[model(default = "active")]
///     pub status: Status,
///     pub previous_status: Option<Status>,
/// }
///
/// assert_eq!(Status::TYPE_NAME, "account_status");
/// assert_eq!(Status::VALUES, ["active", "past_due", "closed"]);
/// assert_eq!(Status::PastDue.as_db_str(), "past_due");
/// assert_eq!(Status::from_db_str("closed"), Some(Status::Closed));
/// ```
///
/// A field whose type is neither a column type nor a `DbEnum` is a compile error at the
/// type:
///
/// ```compile_fail
/// use migrations_runtime::Model;
///
/// pub struct Email(String);
///
/// #[derive(Model)]
/// pub struct User {
///     #[model(primary_key)]
///     pub id: i64,
///     pub email: Email, // `Email` is not a column type
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a column type Chakra knows nor a `#[derive(DbEnum)]` enum",
    label = "the type of this field",
    note = "the build reads a field's type by its name: for a type alias or a newtype, give the field `#[model(column_type = \"...\")]` (e.g. \"text\", \"bigint\"); for an enum of unit variants, derive `DbEnum`"
)]
pub trait DbEnum: Sized + 'static {
    /// The type's SQL name.
    const TYPE_NAME: &'static str;
    /// The values, in the order the type sorts them.
    const VALUES: &'static [&'static str];
    /// The value stored for this variant.
    fn as_db_str(&self) -> &'static str;
    /// The variant stored as `value`, if any.
    fn from_db_str(value: &str) -> Option<Self>;
}

pub mod schema;

/// Embeds the migrations the build script registered (`OUT_DIR/chakra_migrations.rs`),
/// as a `const` expression of type [`Migrations`]:
///
/// ```text
/// pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();
/// ```
///
/// The crate's `build.rs` must call `migrations_build::run()` (or a `Config`).
#[macro_export]
macro_rules! embed_migrations {
    () => {
        include!(concat!(env!("OUT_DIR"), "/chakra_migrations.rs"))
    };
}

pub mod any;
mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod error;
pub mod history;
pub mod introspect;
mod migrator;
mod registry;
pub mod table_lock;

pub use any::AnyConnection;
pub use backend::Connection;
pub use error::{LockConflict, MigrateError};
pub use migrations_core::Dialect;
pub use migrator::{
    lock_wait, parse_duration, script_of, ApplyOptions, Baseline, BootCheck, LockRetry, LockStrategy, LockWaits, Loss,
    Migrator, Progress, RollbackOptions, RollbackTarget, ScriptRange, ScriptSteps, Scripted, State, StatusLine, Step,
    StepsOf, Undo, VerifyOptions, MIGRATION_URL_VAR,
};
pub use registry::{EmbeddedMigration, Migrations};
pub use sqlx;
