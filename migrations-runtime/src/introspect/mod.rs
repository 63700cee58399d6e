//! Reading a live database's schema back: its tables into the schema IR, and what the
//! IR cannot hold (views, triggers, functions, partial and expression indexes, ...)
//! as [`RawObject`]s with the SQL that creates them. `migrate verify` compares the
//! first with what the applied migrations build; `cargo chakra inspect` writes models
//! and a baseline migration from both.

mod mysql;
mod postgres;
mod sqlite;

use std::fmt;

use migrations_core::{Dialect, Schema};

use crate::backend::Connection;
use crate::error::MigrateError;

/// What [`inspect`] reads.
#[derive(Debug, Clone, Default)]
pub struct InspectOptions {
    /// PostgreSQL: the schema to read (default: `current_schema()`). MySQL: the
    /// database (default: the connection's). Ignored by SQLite.
    pub schema: Option<String>,
    /// Only these tables (and the objects that belong to them); all when `None`.
    pub tables: Option<Vec<String>>,
}

impl InspectOptions {
    fn wants(&self, table: &str) -> bool {
        !table.starts_with("_chakra_") && self.tables.as_ref().is_none_or(|t| t.iter().any(|n| n == table))
    }
}

/// A live schema: the tables as the IR holds them, and the rest as SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspected {
    /// Tables, columns, keys, indexes and constraints the IR can hold.
    pub schema: Schema,
    /// Everything else, in the order it can be created.
    pub objects: Vec<RawObject>,
}

/// An object the schema IR does not hold, with the SQL that creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    /// What it is.
    pub kind: RawKind,
    /// Its name.
    pub name: String,
    /// The table it belongs to (an index, trigger or constraint), if any.
    pub table: Option<String>,
    /// The statement that creates it.
    pub create: String,
}

/// The kinds of [`RawObject`], in the order they can be created: what a table's column
/// may use first, what uses a table last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RawKind {
    /// A PostgreSQL extension.
    Extension,
    /// A PostgreSQL enum, domain or composite type.
    Type,
    /// A sequence no column owns.
    Sequence,
    /// A function or procedure.
    Function,
    /// A constraint the IR cannot hold (exclusion, not valid, ...).
    Constraint,
    /// An index the IR cannot hold (partial, expression, another method, ...).
    Index,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A trigger.
    Trigger,
}

impl RawKind {
    /// The kind in words, as SQL names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Extension => "extension",
            Self::Type => "type",
            Self::Sequence => "sequence",
            Self::Function => "function",
            Self::Constraint => "constraint",
            Self::Index => "index",
            Self::View => "view",
            Self::MaterializedView => "materialized view",
            Self::Trigger => "trigger",
        }
    }
}

impl fmt::Display for RawKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RawObject {
    /// The statement that drops it on `dialect`: what a baseline's rollback runs.
    ///
    /// ```
    /// use migrations_runtime::introspect::{RawKind, RawObject};
    /// use migrations_runtime::Dialect;
    ///
    /// let trigger = RawObject {
    ///     kind: RawKind::Trigger,
    ///     name: "touch_users".into(),
    ///     table: Some("users".into()),
    ///     create: "CREATE TRIGGER touch_users ...".into(),
    /// };
    /// assert_eq!(trigger.drop_sql(Dialect::Postgres), r#"DROP TRIGGER "touch_users" ON "users""#);
    /// ```
    pub fn drop_sql(&self, dialect: Dialect) -> String {
        let q = |name: &str| dialect.quote(name);
        let on = self.table.as_deref().map(q).unwrap_or_default();
        let leading = self.create.split_whitespace().take(4).map(str::to_ascii_uppercase).collect::<Vec<_>>();
        match self.kind {
            RawKind::Extension => format!("DROP EXTENSION IF EXISTS {}", q(&self.name)),
            RawKind::Type if leading.get(1).is_some_and(|w| w == "DOMAIN") => format!("DROP DOMAIN {}", q(&self.name)),
            RawKind::Type => format!("DROP TYPE {}", q(&self.name)),
            RawKind::Sequence => format!("DROP SEQUENCE {}", q(&self.name)),
            RawKind::Function => {
                // PostgreSQL names it with its arguments (`touch(integer)`); MySQL says
                // whether it is a procedure.
                let word = if leading.iter().any(|w| w == "PROCEDURE") { "PROCEDURE" } else { "FUNCTION" };
                match self.name.split_once('(') {
                    Some((name, args)) => format!("DROP {word} {}({args}", q(name)),
                    None => format!("DROP {word} {}", q(&self.name)),
                }
            }
            RawKind::Constraint => format!("ALTER TABLE {on} DROP CONSTRAINT {}", q(&self.name)),
            RawKind::Index if dialect == Dialect::MySql => format!("DROP INDEX {} ON {on}", q(&self.name)),
            RawKind::Index => format!("DROP INDEX {}", q(&self.name)),
            RawKind::View => format!("DROP VIEW {}", q(&self.name)),
            RawKind::MaterializedView => format!("DROP MATERIALIZED VIEW {}", q(&self.name)),
            RawKind::Trigger if dialect == Dialect::Postgres => format!("DROP TRIGGER {} ON {on}", q(&self.name)),
            RawKind::Trigger => format!("DROP TRIGGER {}", q(&self.name)),
        }
    }

    /// Whether a table's column may need it, so it is created before the tables (and
    /// dropped after them).
    pub fn comes_before_tables(&self) -> bool {
        matches!(self.kind, RawKind::Extension | RawKind::Type | RawKind::Sequence | RawKind::Function)
    }
}

impl fmt::Display for RawObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.table {
            Some(t) => write!(f, "{} {} on {t}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Reads the live schema of the database `conn` is connected to.
pub async fn inspect<C: Connection>(conn: &mut C, options: &InspectOptions) -> Result<Inspected, MigrateError> {
    let mut inspected = match conn.dialect() {
        Dialect::Postgres => postgres::read(conn, options).await,
        Dialect::MySql => mysql::read(conn, options).await,
        Dialect::Sqlite => sqlite::read(conn, options).await,
    }
    .map_err(MigrateError::db("reading the database's catalog"))?;
    // An object on a table belongs with the table (bookkeeping tables and tables left
    // out are not read); one that stands alone is read only when every table is.
    let Inspected { schema, objects } = &mut inspected;
    objects.retain(|o| match &o.table {
        Some(t) => schema.tables.contains_key(t),
        None => options.tables.is_none(),
    });
    inspected.objects.sort_by(|a, b| (a.kind, &a.table, &a.name).cmp(&(b.kind, &b.table, &b.name)));
    Ok(inspected)
}

/// Rows of a catalog query, each column as text.
type Rows = Vec<Vec<Option<String>>>;

/// Column `i` of a catalog row, `""` for NULL.
fn text(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

/// Column `i` of a catalog row, `None` for NULL.
fn opt(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

/// Whether column `i` of a catalog row says yes (`true`, `t`, `1`, `YES`).
fn yes(row: &[Option<String>], i: usize) -> bool {
    matches!(text(row, i).to_ascii_lowercase().as_str(), "true" | "t" | "1" | "yes")
}

/// A list a catalog query joined with the unit separator (a character no name holds).
fn list(row: &[Option<String>], i: usize) -> Vec<String> {
    let joined = text(row, i);
    if joined.is_empty() {
        Vec::new()
    } else {
        joined.split('\u{1f}').map(str::to_string).collect()
    }
}

/// Whether `name` is what a unique constraint or a unique index on `columns` of
/// `table` is called when nobody names it (MySQL and SQLite do not tell them apart).
fn generated_unique_name(name: &str, table: &str, columns: &[String]) -> bool {
    use migrations_core::schema::names;
    name == names::unique(table, columns) || name == names::index(table, columns, true)
}
