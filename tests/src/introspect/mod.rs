//! The live schema of a database, read back from its catalog, in a form that can be
//! compared with what the IR says the database should hold ([`expected`]).

mod mysql;
mod postgres;
mod sqlite;

use std::collections::{BTreeMap, BTreeSet};

use migrations_core::render::{column_type_sql, mysql_keeps_own_fk_index};
use migrations_core::schema::{canonical_number, DefaultValue, FkAction, ForeignKey, Table};
use migrations_core::{ColumnType, Dialect, Schema};

use crate::db::TestDb;

/// A live schema: tables by name.
pub type LiveSchema = BTreeMap<String, LiveTable>;

/// One live table, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTable {
    /// Columns by name.
    pub columns: BTreeMap<String, LiveColumn>,
    /// Primary key columns in key order.
    pub primary_key: Vec<String>,
    /// Indexes, unique constraints included (they are indexes in every backend): name → (columns, unique).
    pub indexes: BTreeMap<String, (Vec<String>, bool)>,
    /// Foreign keys: key → description. The key is the name, except on SQLite, which
    /// does not report names (there it is the definition).
    pub foreign_keys: BTreeMap<String, String>,
    /// Names of check constraints (SQLite: read from the table's SQL).
    pub checks: BTreeSet<String>,
    /// Table comment.
    pub comment: Option<String>,
}

/// One live column, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveColumn {
    /// Type as the database reports it, lower case.
    pub ty: String,
    /// NULL allowed.
    pub nullable: bool,
    /// Literal default, normalised; `Some("<expr>")` for an expression default.
    pub default: Option<String>,
    /// Auto-increment / identity.
    pub auto_increment: bool,
    /// Column comment.
    pub comment: Option<String>,
}

/// Reads the live schema of `db`.
pub async fn live_schema(db: &mut TestDb) -> LiveSchema {
    match db.dialect {
        Dialect::Postgres => postgres::read(db).await,
        Dialect::MySql => mysql::read(db).await,
        Dialect::Sqlite => sqlite::read(db).await,
    }
}

/// What the live schema of a database holding `schema` must look like in `dialect`.
pub fn expected(schema: &Schema, dialect: Dialect) -> LiveSchema {
    schema.tables.values().map(|t| (t.name.clone(), expected_table(t, dialect))).collect()
}

fn expected_table(t: &Table, dialect: Dialect) -> LiveTable {
    let mut live = LiveTable { primary_key: t.primary_key.clone(), ..LiveTable::default() };
    for c in &t.columns {
        let sqlite_rowid = dialect == Dialect::Sqlite && c.auto_increment;
        let ty = if sqlite_rowid { "integer".to_string() } else { reported_type(&c.ty, dialect) };
        live.columns.insert(
            c.name.clone(),
            LiveColumn {
                ty,
                nullable: c.nullable,
                default: c.default.as_ref().map(|d| match d {
                    DefaultValue::Text(_) if c.ty == ColumnType::Uuid && dialect != Dialect::Postgres => {
                        "<expr>".into()
                    }
                    // In the server's own words: UTC for a timestamp with time zone, as
                    // written (the offset dropped) for one without.
                    DefaultValue::Text(t) if matches!(c.ty, ColumnType::Timestamp | ColumnType::TimestampTz) => {
                        match migrations_core::civil::DateTimeText::parse(t) {
                            Some(d) => d.sql_datetime(c.ty == ColumnType::TimestampTz),
                            None => t.clone(),
                        }
                    }
                    _ => expected_default(d, dialect),
                }),
                auto_increment: c.auto_increment,
                comment: if dialect == Dialect::Sqlite { None } else { c.comment.clone() },
            },
        );
        if dialect == Dialect::MySql && c.ty == ColumnType::Json {
            // MariaDB stores JSON as LONGTEXT with a check constraint named after the column.
            live.checks.insert(c.name.clone());
        }
    }
    for u in &t.uniques {
        live.indexes.insert(u.name.clone(), (u.columns.clone(), true));
    }
    for i in &t.indexes {
        live.indexes.insert(i.name.clone(), (i.columns.clone(), i.unique));
    }
    for fk in &t.foreign_keys {
        live.foreign_keys.insert(fk_key(fk, dialect), fk_description(fk, dialect));
        if dialect == Dialect::MySql && mysql_keeps_own_fk_index(t, fk) {
            live.indexes.insert(fk.name.clone(), (fk.columns.clone(), false));
        }
    }
    live.checks.extend(t.checks.iter().map(|c| c.name.clone()));
    live.comment = if dialect == Dialect::Sqlite { None } else { t.comment.clone() };
    live
}

/// The key under which a foreign key is listed.
pub fn fk_key(fk: &ForeignKey, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => fk_definition(&fk.columns, &fk.ref_table, &fk.ref_columns),
        _ => fk.name.clone(),
    }
}

/// `(a, b) -> t(x, y)`.
pub fn fk_definition(columns: &[String], ref_table: &str, ref_columns: &[String]) -> String {
    format!("({}) -> {ref_table}({})", columns.join(", "), ref_columns.join(", "))
}

/// Definition plus actions. MySQL reports NO ACTION as RESTRICT (they are the same there).
fn fk_description(fk: &ForeignKey, dialect: Dialect) -> String {
    let action = |a: FkAction| match (a, dialect) {
        (FkAction::NoAction, Dialect::MySql) => "restrict",
        (a, _) => a.as_str(),
    };
    format!(
        "{} on delete {} on update {}",
        fk_definition(&fk.columns, &fk.ref_table, &fk.ref_columns),
        action(fk.on_delete),
        action(fk.on_update)
    )
}

/// A foreign key as a catalog reports it, gathered row by row.
#[derive(Debug, Default)]
pub struct ReportedForeignKey {
    /// Referencing columns, in order.
    pub columns: Vec<String>,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns, in order.
    pub ref_columns: Vec<String>,
    /// Delete action as reported.
    pub on_delete: String,
    /// Update action as reported.
    pub on_update: String,
}

impl ReportedForeignKey {
    /// The definition, the key SQLite lists it under.
    pub fn definition(&self) -> String {
        fk_definition(&self.columns, &self.ref_table, &self.ref_columns)
    }

    /// The same text [`expected`] writes for a foreign key.
    pub fn describe(&self, dialect: Dialect) -> String {
        format!(
            "{} on delete {} on update {}",
            self.definition(),
            normal_action(&self.on_delete, dialect),
            normal_action(&self.on_update, dialect)
        )
    }
}

/// Normalises an action name reported by a database.
pub fn normal_action(reported: &str, dialect: Dialect) -> String {
    let a = FkAction::parse(reported).map_or_else(|| reported.to_lowercase(), |a| a.as_str().to_string());
    if dialect == Dialect::MySql && a == "no action" {
        "restrict".into()
    } else {
        a
    }
}

/// The type name the database reports for a column of type `ty`.
pub fn reported_type(ty: &ColumnType, dialect: Dialect) -> String {
    use ColumnType::*;
    match (ty, dialect) {
        (Varchar(n), Dialect::Postgres) => format!("character varying({n})"),
        (Decimal { precision, scale }, Dialect::Postgres) => format!("numeric({precision},{scale})"),
        (Time, Dialect::Postgres) => "time without time zone".into(),
        (Timestamp, Dialect::Postgres) => "timestamp without time zone".into(),
        (TimestampTz, Dialect::Postgres) => "timestamp with time zone".into(),
        (Decimal { precision, scale }, Dialect::MySql) => format!("decimal({precision},{scale})"),
        (Boolean, Dialect::MySql) => "tinyint(1)".into(),
        (Json, Dialect::MySql) => "longtext".into(),
        (other, d) => column_type_sql(other, d).to_lowercase(),
    }
}

/// The normalised text a database reports for a default.
fn expected_default(d: &DefaultValue, dialect: Dialect) -> String {
    match d {
        DefaultValue::Bool(b) => match dialect {
            Dialect::Postgres => b.to_string(),
            _ => if *b { "1" } else { "0" }.to_string(),
        },
        DefaultValue::Number(n) => n.clone(),
        DefaultValue::Text(t) => t.clone(),
        DefaultValue::Expr(_) => "<expr>".into(),
    }
}

/// Normalises a reported default: strips casts and quotes, canonicalises numbers, and
/// turns anything that is not a literal into `<expr>`.
pub fn normal_default(reported: &str) -> Option<String> {
    let mut s = reported.trim();
    if s.eq_ignore_ascii_case("null") {
        return None;
    }
    while s.starts_with('(') && s.ends_with(')') {
        s = &s[1..s.len() - 1];
    }
    // PostgreSQL: 'text'::character varying, '-7'::integer
    let s = match s.rfind("::") {
        Some(i) if s.starts_with('\'') && s[..i].ends_with('\'') => &s[..i],
        _ => s,
    };
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        let inner = s[1..s.len() - 1].replace("''", "'").replace("\\'", "'").replace("\\\\", "\\");
        if let Some(d) = migrations_core::civil::DateTimeText::parse(&inner).filter(|d| d.has_time) {
            return Some(d.sql_datetime(true));
        }
        return Some(canonical_number(&inner).filter(|_| looks_numeric(&inner)).unwrap_or(inner));
    }
    if let Some(n) = canonical_number(s) {
        return Some(n);
    }
    match s.to_ascii_lowercase().as_str() {
        "true" => Some("true".into()),
        "false" => Some("false".into()),
        _ => Some("<expr>".into()),
    }
}

fn looks_numeric(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '.')
}

/// A readable account of how `live` differs from `expected`, or `None` if they agree.
pub fn difference(live: &LiveSchema, expected: &LiveSchema) -> Option<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = live.keys().chain(expected.keys()).collect();
    for name in names {
        match (live.get(name), expected.get(name)) {
            (Some(l), Some(e)) if l == e => {}
            (Some(l), Some(e)) => {
                let cols: BTreeSet<&String> = l.columns.keys().chain(e.columns.keys()).collect();
                for c in cols {
                    if l.columns.get(c) != e.columns.get(c) {
                        out.push(format!("{name}.{c}: live {:?}, expected {:?}", l.columns.get(c), e.columns.get(c)));
                    }
                }
                if l.primary_key != e.primary_key {
                    out.push(format!("{name} primary key: live {:?}, expected {:?}", l.primary_key, e.primary_key));
                }
                if l.indexes != e.indexes {
                    out.push(format!("{name} indexes: live {:?}, expected {:?}", l.indexes, e.indexes));
                }
                if l.foreign_keys != e.foreign_keys {
                    out.push(format!("{name} foreign keys: live {:?}, expected {:?}", l.foreign_keys, e.foreign_keys));
                }
                if l.checks != e.checks {
                    out.push(format!("{name} checks: live {:?}, expected {:?}", l.checks, e.checks));
                }
                if l.comment != e.comment {
                    out.push(format!("{name} comment: live {:?}, expected {:?}", l.comment, e.comment));
                }
            }
            (Some(_), None) => out.push(format!("table {name} exists but should not")),
            (None, Some(_)) => out.push(format!("table {name} is missing")),
            (None, None) => {}
        }
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

/// Reads the live schema of `db` and describes how it differs from what `schema` says.
pub async fn check_live(db: &mut TestDb, schema: &Schema) -> Result<(), String> {
    check_live_ignoring(db, schema, &[]).await
}

/// [`check_live`], not looking at the tables named in `ignore` (bookkeeping tables).
pub async fn check_live_ignoring(db: &mut TestDb, schema: &Schema, ignore: &[&str]) -> Result<(), String> {
    let mut live = live_schema(db).await;
    live.retain(|name, _| !ignore.contains(&name.as_str()));
    match difference(&live, &expected(schema, db.dialect)) {
        None => Ok(()),
        Some(d) => Err(d),
    }
}
