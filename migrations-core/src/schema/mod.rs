//! The schema IR: what a database should look like, independent of any dialect.

mod default;
mod enums;
mod index;
mod raw;
mod types;
mod view;

pub use default::{canonical_number, DefaultValue, DialectSql, PORTABLE_EXPRS};
pub use enums::{parse_quoted_list, quoted_list, EnumType, ValueChanges};
pub use index::{Index, IndexMethod, KeyOptions};
pub use raw::{CreateDrop, RawSql, RAW_KINDS};
pub use types::{ColumnType, UnknownType};
pub use view::View;

use std::collections::BTreeMap;
use std::fmt;

/// A whole schema: tables by name (sorted, so iteration is deterministic).
///
/// The IR's serde form is the build cache's (`postcard`, which writes fields by position):
/// a field left out when empty (`skip_serializing_if`) cannot be read back, and made
/// every cached entry a miss. The snapshot file has its own form (`snapshot::read`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    /// Tables keyed by table name.
    pub tables: BTreeMap<String, Table>,
    /// Views keyed by name: migrations create them (`m.create_view`), models do not.
    #[serde(default)]
    pub views: BTreeMap<String, View>,
    /// Objects made by hand-written SQL, keyed by `kind name` (`m.create_raw`): models
    /// do not declare them either.
    #[serde(default)]
    pub raw: BTreeMap<String, RawSql>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// The table called `name`, if any.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// A schema holding copies of just the tables named in `names` (those that exist).
    pub fn subset(&self, names: &[String]) -> Schema {
        Schema {
            tables: names.iter().filter_map(|n| self.tables.get(n).map(|t| (n.clone(), t.clone()))).collect(),
            views: self.views.clone(),
            raw: self.raw.clone(),
        }
    }

    /// Every foreign key in the schema that points at `table`, with the table that holds it.
    pub fn foreign_keys_to<'a>(&'a self, table: &'a str) -> impl Iterator<Item = (&'a Table, &'a ForeignKey)> + 'a {
        self.tables
            .values()
            .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t, fk)))
            .filter(move |(_, fk)| fk.ref_table == table)
    }
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    /// SQL name of the table.
    pub name: String,
    /// Columns in declaration order (order is not schema: see [`Table::same_shape`]).
    pub columns: Vec<Column>,
    /// Primary key column names, in key order; empty if the table has none.
    pub primary_key: Vec<String>,
    /// The primary key's name, when it is not the one the database gives it
    /// (PostgreSQL's `<table>_pkey`): an adopted database's `organizations_pk`. MySQL
    /// calls every primary key `PRIMARY`, and SQLite does not say.
    #[serde(default)]
    pub primary_key_name: Option<String>,
    /// Unique constraints.
    pub uniques: Vec<Unique>,
    /// Check constraints.
    pub checks: Vec<Check>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes (non-constraint; `unique` indexes allowed).
    pub indexes: Vec<Index>,
    /// Table comment.
    pub comment: Option<String>,
}

impl Table {
    /// A table with no columns yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The mutable column called `name`, if any.
    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// Every constraint of the table (unique, check, foreign key) as [`Constraint`]s.
    pub fn constraints(&self) -> Vec<Constraint> {
        let mut all: Vec<Constraint> = self.uniques.iter().cloned().map(Constraint::Unique).collect();
        all.extend(self.checks.iter().cloned().map(Constraint::Check));
        all.extend(self.foreign_keys.iter().cloned().map(Constraint::ForeignKey));
        all
    }

    /// Names of every index and constraint of the table.
    pub fn object_names(&self) -> impl Iterator<Item = &str> {
        self.indexes
            .iter()
            .map(|i| i.name.as_str())
            .chain(self.uniques.iter().map(|u| u.name.as_str()))
            .chain(self.checks.iter().map(|c| c.name.as_str()))
            .chain(self.foreign_keys.iter().map(|f| f.name.as_str()))
    }

    /// Whether any index or constraint of the table mentions `column`.
    pub fn column_is_used(&self, column: &str) -> bool {
        let has = |cols: &[String]| cols.iter().any(|c| c == column);
        has(&self.primary_key)
            || self.indexes.iter().any(|i| i.column_names().any(|c| c == column))
            || self.uniques.iter().any(|u| has(&u.columns))
            || self.foreign_keys.iter().any(|f| has(&f.columns))
    }

    /// The table with its parts in canonical order, so two tables that differ only in
    /// the order of fields, indexes or constraints compare equal.
    pub fn canonical(&self) -> Table {
        let mut t = self.clone();
        t.columns.sort_by(|a, b| a.name.cmp(&b.name));
        t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
        t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t
    }

    /// Whether two tables are the same schema (field and object order ignored).
    pub fn same_shape(&self, other: &Table) -> bool {
        self.canonical() == other.canonical()
    }
}

impl Schema {
    /// The schema with every table in canonical order (see [`Table::canonical`]).
    pub fn canonical(&self) -> Schema {
        Schema {
            tables: self.tables.iter().map(|(k, t)| (k.clone(), t.canonical())).collect(),
            views: self.views.clone(),
            raw: self.raw.clone(),
        }
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    /// SQL name of the column.
    pub name: String,
    /// Column type.
    pub ty: ColumnType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default value, if any.
    pub default: Option<DefaultValue>,
    /// Whether the database assigns increasing values (single-column integer primary key only).
    pub auto_increment: bool,
    /// With `auto_increment`, on PostgreSQL: numbered by a `serial` column's sequence and
    /// default rather than as an identity column (databases made before PostgreSQL 10,
    /// and many since). The other databases number both alike.
    #[serde(default)]
    pub serial: bool,
    /// Column comment.
    pub comment: Option<String>,
}

impl Column {
    /// A NOT NULL column without a default.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Self {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            auto_increment: false,
            serial: false,
            comment: None,
        }
    }

    /// The column made NULL-able.
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// The column with a default.
    pub fn default(mut self, value: DefaultValue) -> Self {
        self.default = Some(value);
        self
    }

    /// The column marked auto-increment.
    pub fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self
    }

    /// The column auto-increment as a PostgreSQL `serial` (elsewhere as any other).
    pub fn serial(mut self) -> Self {
        self.auto_increment = true;
        self.serial = true;
        self
    }

    /// The column with a comment.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Whether the column needs a value for rows that already exist when it is added
    /// or made NOT NULL: it is NOT NULL, has no default and is not auto-increment.
    pub fn needs_fill(&self) -> bool {
        !self.nullable && self.default.is_none() && !self.auto_increment
    }
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unique {
    /// Constraint name.
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<String>,
    /// Whether a person wrote the name.
    pub explicit_name: bool,
}

impl Unique {
    /// The unique index that enforces it (how SQLite builds one, and how PostgreSQL
    /// builds one without blocking writes before it becomes the constraint).
    pub fn as_index(&self) -> Index {
        Index {
            name: self.name.clone(),
            columns: self.columns.clone(),
            unique: true,
            explicit_name: self.explicit_name,
            ..Index::default()
        }
    }
}

/// A check constraint. Always named by a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    /// Constraint name.
    pub name: String,
    /// SQL boolean expression, passed through verbatim.
    pub expr: String,
    /// `NOT VALID` (PostgreSQL): checked for new and changed rows only; the rows there
    /// when it was added are not.
    #[serde(default)]
    pub not_valid: bool,
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum FkAction {
    /// `NO ACTION` (the SQL default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
}

impl FkAction {
    /// The SQL spelling.
    pub fn sql(self) -> &'static str {
        match self {
            Self::NoAction => "NO ACTION",
            Self::Restrict => "RESTRICT",
            Self::Cascade => "CASCADE",
            Self::SetNull => "SET NULL",
        }
    }

    /// Parses the spelling used in models and snapshots (`"set null"`, `"cascade"`, …).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', " ").as_str() {
            "no action" => Some(Self::NoAction),
            "restrict" => Some(Self::Restrict),
            "cascade" => Some(Self::Cascade),
            "set null" => Some(Self::SetNull),
            _ => None,
        }
    }

    /// The spelling used in models and snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAction => "no action",
            Self::Restrict => "restrict",
            Self::Cascade => "cascade",
            Self::SetNull => "set null",
        }
    }
}

impl fmt::Display for FkAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a foreign key is checked: at each statement (the default), or, for a deferrable
/// one, possibly at commit (`SET CONSTRAINTS ... DEFERRED`, or from the start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Deferrable {
    /// `NOT DEFERRABLE`: checked at each statement.
    #[default]
    No,
    /// `DEFERRABLE INITIALLY IMMEDIATE`: checked at each statement unless a transaction
    /// defers it.
    InitiallyImmediate,
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit.
    InitiallyDeferred,
}

impl Deferrable {
    /// The SQL after the key's actions (empty when not deferrable).
    pub fn sql(self) -> &'static str {
        match self {
            Self::No => "",
            Self::InitiallyImmediate => "DEFERRABLE",
            Self::InitiallyDeferred => "DEFERRABLE INITIALLY DEFERRED",
        }
    }

    /// The spelling used in models and snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::InitiallyImmediate => "initially immediate",
            Self::InitiallyDeferred => "initially deferred",
        }
    }

    /// Parses [`Deferrable::as_str`]'s spellings.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', " ").as_str() {
            "no" | "not deferrable" => Some(Self::No),
            "initially immediate" | "immediate" => Some(Self::InitiallyImmediate),
            "initially deferred" | "deferred" => Some(Self::InitiallyDeferred),
            _ => None,
        }
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// Referencing columns of this table, in order.
    pub columns: Vec<String>,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns, in order.
    pub ref_columns: Vec<String>,
    /// Action on delete of the referenced row.
    pub on_delete: FkAction,
    /// Action on update of the referenced key.
    pub on_update: FkAction,
    /// Whether it may be checked at commit.
    #[serde(default)]
    pub deferrable: Deferrable,
    /// `NOT VALID` (PostgreSQL): checked for new and changed rows only; the rows there
    /// when it was added are not.
    #[serde(default)]
    pub not_valid: bool,
    /// Whether a person wrote the name.
    pub explicit_name: bool,
}

/// A table constraint other than the primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// Unique constraint.
    Unique(Unique),
    /// Check constraint.
    Check(Check),
    /// Foreign key.
    ForeignKey(ForeignKey),
}

impl Constraint {
    /// Whether it is kept `NOT VALID` (a check or foreign key, on PostgreSQL).
    pub fn not_valid(&self) -> bool {
        match self {
            Self::Unique(_) => false,
            Self::Check(c) => c.not_valid,
            Self::ForeignKey(f) => f.not_valid,
        }
    }

    /// The constraint's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Unique(u) => &u.name,
            Self::Check(c) => &c.name,
            Self::ForeignKey(f) => &f.name,
        }
    }

    /// A short word for the kind (`unique`, `check`, `foreign key`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unique(_) => "unique",
            Self::Check(_) => "check",
            Self::ForeignKey(_) => "foreign key",
        }
    }
}

/// Generated names for indexes and constraints that a person did not name. Postgres
/// truncates identifiers at 63 bytes, so long names end in a short stable hash instead.
pub mod names {
    /// The longest identifier every supported backend accepts (PostgreSQL: 63 bytes).
    pub const MAX_IDENTIFIER_BYTES: usize = 63;

    /// `ix_<table>_<col>_<col>` (or `ux_` for a unique index).
    /// An expression key reads as its words: `(lower(email))` as `lower_email`.
    pub fn index(table: &str, columns: &[String], unique: bool) -> String {
        let keys: Vec<String> = columns
            .iter()
            .map(|k| match super::Index::is_expression(k) {
                true => k
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join("_"),
                false => k.clone(),
            })
            .collect();
        fit(&format!("{}_{table}_{}", if unique { "ux" } else { "ix" }, keys.join("_")))
    }

    /// `uq_<table>_<col>_<col>`.
    pub fn unique(table: &str, columns: &[String]) -> String {
        fit(&format!("uq_{table}_{}", columns.join("_")))
    }

    /// `fk_<table>_<col>_<ref_table>`.
    pub fn foreign_key(table: &str, columns: &[String], ref_table: &str) -> String {
        fit(&format!("fk_{table}_{}_{ref_table}", columns.join("_")))
    }

    /// Shortens `name` to [`MAX_IDENTIFIER_BYTES`] with a stable 8-hex-digit FNV hash
    /// suffix; characters other than letters, digits and `_` become `_`.
    pub fn fit(name: &str) -> String {
        let name: String = name.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
        let name = name.as_str();
        if name.len() <= MAX_IDENTIFIER_BYTES {
            return name.to_string();
        }
        let hash =
            name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let mut cut = MAX_IDENTIFIER_BYTES - 9;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}_{:08x}", &name[..cut], hash as u32)
    }
}
