//! Objects made by SQL a person wrote (a trigger, a function, an extension), kept by
//! kind and name (`m.create_raw(...)`), so that the snapshot, `migrate verify` and a
//! rollback know them as they know a table.

use std::collections::BTreeMap;

use crate::Dialect;

/// The kinds of object a [`RawSql`] may be: what `migrate verify` reads back by name.
pub const RAW_KINDS: [&str; 7] = ["trigger", "function", "procedure", "type", "sequence", "extension", "index"];

/// The SQL that creates an object and the SQL that drops it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDrop {
    /// The statement that creates it.
    pub create: String,
    /// The statement that drops it.
    pub drop: String,
}

/// An object a migration creates with hand-written SQL, and the SQL that drops it, for
/// every database or each its own.
///
/// ```
/// use migrations_core::schema::RawSql;
/// use migrations_core::Dialect;
///
/// let trigger = RawSql::new("trigger", "accounts_touch")
///     .on_table("accounts")
///     .sql_for(Dialect::Postgres, "CREATE TRIGGER accounts_touch ...", "DROP TRIGGER accounts_touch ON accounts")
///     .sql_for(Dialect::MySql, "CREATE TRIGGER accounts_touch ...", "DROP TRIGGER accounts_touch");
/// assert!(trigger.is_on(Dialect::MySql) && !trigger.is_on(Dialect::Sqlite));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSql {
    /// `trigger`, `function`, ... (see [`RAW_KINDS`]).
    pub kind: String,
    /// The name the database reports it by: a function's carries its argument types, as
    /// PostgreSQL prints them (`touch_updated_at()`).
    pub name: String,
    /// The table it belongs to (a trigger's, an index's): dropping the table is refused
    /// while it is there.
    #[serde(default)]
    pub table: Option<String>,
    /// Its SQL on every database the crate targets (unless one has its own).
    #[serde(default)]
    pub sql: Option<CreateDrop>,
    /// Its SQL on one database; a database with neither this nor [`RawSql::sql`] has no
    /// such object.
    #[serde(default)]
    pub per_dialect: BTreeMap<Dialect, CreateDrop>,
}

impl RawSql {
    /// A `kind` named `name`, with no SQL yet ([`RawSql::sql`], [`RawSql::sql_for`]).
    pub fn new(kind: &str, name: &str) -> Self {
        RawSql { kind: kind.into(), name: name.into(), ..RawSql::default() }
    }

    /// Created by `create` and dropped by `drop` on every database.
    pub fn sql(mut self, create: &str, drop: &str) -> Self {
        self.sql = Some(CreateDrop { create: create.trim().into(), drop: drop.trim().into() });
        self
    }

    /// Created by `create` and dropped by `drop` on `dialect`.
    pub fn sql_for(mut self, dialect: Dialect, create: &str, drop: &str) -> Self {
        self.per_dialect.insert(dialect, CreateDrop { create: create.trim().into(), drop: drop.trim().into() });
        self
    }

    /// The object belongs to `table` (a trigger on it).
    pub fn on_table(mut self, table: &str) -> Self {
        self.table = Some(table.into());
        self
    }

    /// `kind name`: its key in [`Schema::raw`](super::Schema::raw).
    pub fn key(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    /// Its SQL on `dialect`, if it exists there.
    pub fn on(&self, dialect: Dialect) -> Option<&CreateDrop> {
        self.per_dialect.get(&dialect).or(self.sql.as_ref())
    }

    /// Whether it exists on `dialect`.
    pub fn is_on(&self, dialect: Dialect) -> bool {
        self.on(dialect).is_some()
    }

    /// Why it cannot be kept, if it cannot: an unknown kind, no name, no SQL.
    pub fn problem(&self) -> Option<String> {
        if !RAW_KINDS.contains(&self.kind.as_str()) {
            return Some(format!(
                "`{}` is not a kind of object kept by name: one of {} (a view is `m.create_view`)",
                self.kind,
                RAW_KINDS.join(", ")
            ));
        }
        if self.name.trim().is_empty() {
            return Some(format!("a {} needs its name", self.kind));
        }
        let all = self.sql.iter().chain(self.per_dialect.values());
        if self.sql.is_none() && self.per_dialect.is_empty()
            || all.into_iter().any(|s| s.create.is_empty() || s.drop.is_empty())
        {
            return Some(format!(
                "{} `{}` needs the SQL that creates it and the SQL that drops it (`.sql(...)` or `.sql_for(...)`)",
                self.kind, self.name
            ));
        }
        None
    }
}
