//! A live database's schema, as its catalog reports it, against the schema its
//! migrations build.
//!
//! A database does not report everything a model says, and says some things its own
//! way: MySQL keeps a `timestamptz` as a `DATETIME(6)` and a unique constraint as a
//! unique index, SQLite keeps no comments and no foreign-key names, PostgreSQL rewrites
//! `'a'` as `'a'::character varying`. [`as_seen`] turns a schema into what a database of
//! `dialect` built from it reports; [`compare`] puts two such schemas side by side and
//! lists every [`Drift`].

mod defaults;
mod raw;
mod types;

pub use defaults::{default_value, same_expr};
pub use raw::{raw_change, Managed, RawChange, RawName};
pub use types::column_type;

use std::collections::BTreeSet;
use std::fmt;

use crate::dialect::Dialect;
use crate::schema::{names, Column, Constraint, DefaultValue, FkAction, ForeignKey, Index, Schema, Table, Unique};

/// `schema` as a database of `dialect` that holds it reports it: types and defaults as
/// the catalog spells them, and only what the dialect keeps.
pub fn as_seen(schema: &Schema, dialect: Dialect) -> Schema {
    Schema {
        tables: schema.tables.iter().map(|(name, t)| (name.clone(), table_as_seen(t, dialect))).collect(),
        views: schema.views.clone(),
        raw: schema.raw.clone(),
    }
}

fn table_as_seen(t: &Table, dialect: Dialect) -> Table {
    let mut seen = t.clone();
    for c in &mut seen.columns {
        *c = column_as_seen(c, dialect);
    }
    if dialect != Dialect::Postgres {
        // A unique index and a unique constraint are one thing to MySQL and SQLite.
        let (unique, plain): (Vec<Index>, Vec<Index>) = seen.indexes.drain(..).partition(|i| i.unique && i.is_plain());
        seen.indexes = plain;
        seen.uniques.extend(unique.into_iter().map(|i| Unique {
            name: i.name,
            columns: i.columns,
            explicit_name: i.explicit_name,
        }));
    }
    for fk in &mut seen.foreign_keys {
        if dialect == Dialect::MySql {
            // MySQL reports NO ACTION as RESTRICT: they are the same there.
            for action in [&mut fk.on_delete, &mut fk.on_update] {
                if *action == FkAction::NoAction {
                    *action = FkAction::Restrict;
                }
            }
        }
        if dialect == Dialect::Sqlite {
            // SQLite does not report a foreign key's name, nor whether it is deferrable.
            fk.name = names::foreign_key(&t.name, &fk.columns, &fk.ref_table);
            fk.deferrable = crate::schema::Deferrable::No;
        }
    }
    if dialect == Dialect::Sqlite {
        seen.comment = None;
    }
    // Only PostgreSQL keeps a constraint NOT VALID.
    if dialect != Dialect::Postgres {
        seen.checks.iter_mut().for_each(|c| c.not_valid = false);
        seen.foreign_keys.iter_mut().for_each(|f| f.not_valid = false);
    }
    // MySQL calls every primary key `PRIMARY`; SQLite does not say.
    if dialect != Dialect::Postgres {
        seen.primary_key_name = None;
    }
    seen
}

fn column_as_seen(c: &Column, dialect: Dialect) -> Column {
    let mut seen = c.clone();
    seen.ty = types::as_reported(&c.ty, dialect);
    // SQLite's auto-increment key is the 64-bit rowid, whatever the declared width; and
    // every integer it stores takes what it needs of 8 bytes, so `INTEGER` and `BIGINT`
    // are two names for one type there.
    if dialect == Dialect::Sqlite && c.auto_increment {
        seen.ty = crate::ColumnType::BigInt;
        seen.nullable = false;
    }
    // Only PostgreSQL tells a serial column from an identity column.
    if dialect != Dialect::Postgres || !c.auto_increment {
        seen.serial = false;
    }
    if dialect == Dialect::Sqlite && matches!(seen.ty, crate::ColumnType::SmallInt | crate::ColumnType::Integer) {
        seen.ty = crate::ColumnType::BigInt;
    }
    seen.default = c.default.as_ref().and_then(|d| defaults::as_reported(d, &c.ty, dialect));
    if dialect == Dialect::Sqlite {
        seen.comment = None;
    }
    seen
}

/// One way a live schema differs from the one its migrations build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The table it is in (the table itself for a missing or undeclared table).
    pub table: String,
    /// What kind of object: `table`, `column`, `primary key`, `index`, `unique`,
    /// `check`, `foreign key`.
    pub kind: &'static str,
    /// The object's name (the table's, for the primary key and the table's comment).
    pub name: String,
    /// How it differs.
    pub problem: Problem,
}

/// How a live object differs from the declared one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The migrations build it; the database does not have it.
    Missing,
    /// The database has it; no migration builds it.
    Undeclared,
    /// Both have it, and one of its properties differs.
    Differs {
        /// The property: `type`, `nullable`, `default`, `columns`, `name`, ...
        what: &'static str,
        /// What the migrations say.
        expected: String,
        /// What the database has.
        found: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let object = if self.kind == "table" || self.table.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else if self.kind == "primary key" || self.kind == "comment" {
            format!("{}: {}", self.table, self.kind)
        } else {
            format!("{}: {} {}", self.table, self.kind, self.name)
        };
        match &self.problem {
            Problem::Missing => write!(f, "{object} is missing"),
            Problem::Undeclared => write!(f, "{object} is not declared by any migration"),
            Problem::Differs { what: "name", expected, found } => {
                write!(f, "{object} is named {found} in the database, {expected} in the migrations")
            }
            Problem::Differs { what, expected, found } => {
                write!(f, "{object}: {what} is {found} in the database, {expected} in the migrations")
            }
        }
    }
}

/// What [`compare`] looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    /// Also report what nobody declared: tables no migration builds, and indexes and
    /// constraints of declared tables. Columns nobody declared are always reported
    /// (an application's inserts meet them).
    pub strict: bool,
}

/// Every difference between `declared` (what the migrations build) and `live` (what
/// the database reports), both as [`as_seen`] by `dialect`. Check constraints are
/// compared by name: servers rewrite their expressions.
pub fn compare(declared: &Schema, live: &Schema, dialect: Dialect, scope: Scope) -> Vec<Drift> {
    let declared = as_seen(declared, dialect);
    let live = as_seen(live, dialect);
    let mut out = Vec::new();
    for (name, d) in &declared.tables {
        match live.tables.get(name) {
            Some(l) => compare_tables(d, l, scope, &mut out),
            None => out.push(drift(name, "table", name, Problem::Missing)),
        }
    }
    if scope.strict {
        for name in live.tables.keys().filter(|n| !declared.tables.contains_key(*n)) {
            out.push(drift(name, "table", name, Problem::Undeclared));
        }
    }
    out
}

fn drift(table: &str, kind: &'static str, name: &str, problem: Problem) -> Drift {
    Drift { table: table.to_string(), kind, name: name.to_string(), problem }
}

fn differs(what: &'static str, expected: impl fmt::Display, found: impl fmt::Display) -> Problem {
    Problem::Differs { what, expected: expected.to_string(), found: found.to_string() }
}

fn shown<T: fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "none".to_string(), |v| v.to_string())
}

fn compare_tables(d: &Table, l: &Table, scope: Scope, out: &mut Vec<Drift>) {
    let t = d.name.as_str();
    for dc in &d.columns {
        let Some(lc) = l.column(&dc.name) else {
            out.push(drift(t, "column", &dc.name, Problem::Missing));
            continue;
        };
        let mut column = |what, expected: String, found: String| {
            if expected != found {
                out.push(drift(t, "column", &dc.name, differs(what, expected, found)));
            }
        };
        column("type", dc.ty.to_string(), lc.ty.to_string());
        column("nullable", dc.nullable.to_string(), lc.nullable.to_string());
        let numbering = |c: &Column| match (c.auto_increment, c.serial) {
            (false, _) => "false",
            (true, false) => "true",
            (true, true) => "serial",
        };
        column("auto-increment", numbering(dc).to_string(), numbering(lc).to_string());
        let comment = |c: &Column| c.comment.as_ref().map(|s| format!("{s:?}"));
        column("comment", shown(comment(dc).as_ref()), shown(comment(lc).as_ref()));
        let same_default = match (&dc.default, &lc.default) {
            (Some(DefaultValue::Expr(a)), Some(DefaultValue::Expr(b))) => same_expr(a, b),
            (a, b) => a == b,
        };
        if !same_default {
            let (expected, found) = (shown(dc.default.as_ref()), shown(lc.default.as_ref()));
            out.push(drift(t, "column", &dc.name, differs("default", expected, found)));
        }
    }
    for lc in l.columns.iter().filter(|c| d.column(&c.name).is_none()) {
        out.push(drift(t, "column", &lc.name, Problem::Undeclared));
    }
    if d.primary_key != l.primary_key {
        let cols = |pk: &[String]| if pk.is_empty() { "none".to_string() } else { format!("({})", pk.join(", ")) };
        out.push(drift(t, "primary key", t, differs("columns", cols(&d.primary_key), cols(&l.primary_key))));
    } else if d.primary_key_name.is_some() && d.primary_key_name != l.primary_key_name {
        // Only a name the migrations declare is compared: a table PostgreSQL renamed keeps
        // its key's old default name (`users_pkey` on `accounts`), which is no drift.
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "the default".to_string());
        out.push(drift(t, "primary key", t, differs("name", name(&d.primary_key_name), name(&l.primary_key_name))));
    }
    if d.comment != l.comment {
        let c = |c: &Option<String>| shown(c.as_ref().map(|s| format!("{s:?}")).as_ref());
        out.push(drift(t, "comment", t, differs("text", c(&d.comment), c(&l.comment))));
    }
    objects(t, "index", &d.indexes, &l.indexes, |i| &i.name, Index::definition, same_index, scope, out);
    let unique = |u: &Unique| format!("({})", u.columns.join(", "));
    objects(t, "unique", &d.uniques, &l.uniques, |u| &u.name, unique, |a, b| unique(a) == unique(b), scope, out);
    objects(t, "check", &d.checks, &l.checks, |c| &c.name, |_| String::new(), |_, _| true, scope, out);
    let describe_fk = |f: &ForeignKey| {
        format!(
            "({}) references {}({}) on delete {} on update {}",
            f.columns.join(", "),
            f.ref_table,
            f.ref_columns.join(", "),
            f.on_delete,
            f.on_update
        )
    };
    let same_fk = |a: &ForeignKey, b: &ForeignKey| describe_fk(a) == describe_fk(b);
    objects(t, "foreign key", &d.foreign_keys, &l.foreign_keys, |f| &f.name, describe_fk, same_fk, scope, out);
    // A constraint the migrations keep NOT VALID may have been validated since (the
    // database then checks more, never less); one they validated must be valid.
    let live_constraints = l.constraints();
    for dc in d.constraints().iter().filter(|c| !c.not_valid()) {
        let live = live_constraints.iter().find(|c| c.name() == dc.name() && c.kind() == dc.kind());
        if live.is_some_and(Constraint::not_valid) {
            out.push(drift(
                t,
                dc.kind(),
                dc.name(),
                differs("validated", "yes", "no (NOT VALID: rows from before it were never checked)"),
            ));
        }
    }
}

/// Whether two indexes are the same: expressions and the predicate as [`same_expr`]
/// sees them (the server rewrites them: `lower(email)` comes back as
/// `lower((email)::text)`), the rest exactly.
fn same_index(a: &Index, b: &Index) -> bool {
    let shape = |i: &Index| {
        let keys: Vec<String> = i.columns.iter().filter(|k| !Index::is_expression(k)).cloned().collect();
        (i.unique, i.method, keys, i.keys.clone(), i.include.clone(), i.predicate.is_some())
    };
    let exprs = |i: &Index| i.columns.iter().filter(|k| Index::is_expression(k)).cloned().collect::<Vec<_>>();
    let positions = |i: &Index| i.columns.iter().map(|k| Index::is_expression(k)).collect::<Vec<_>>();
    shape(a) == shape(b)
        && positions(a) == positions(b)
        && exprs(a).iter().zip(exprs(b).iter()).all(|(x, y)| same_expr(x, y))
        && a.predicate.iter().zip(b.predicate.iter()).all(|(x, y)| same_expr(x, y))
}

/// Indexes or constraints of one kind, matched by name; one that is missing under its
/// name but there under another with the same definition is reported as renamed.
#[allow(clippy::too_many_arguments)]
fn objects<T>(
    table: &str,
    kind: &'static str,
    declared: &[T],
    live: &[T],
    name: impl Fn(&T) -> &String,
    definition: impl Fn(&T) -> String,
    same: impl Fn(&T, &T) -> bool,
    scope: Scope,
    out: &mut Vec<Drift>,
) {
    let declared_names: BTreeSet<&String> = declared.iter().map(&name).collect();
    let mut renamed: BTreeSet<&String> = BTreeSet::new();
    for d in declared {
        match live.iter().find(|l| name(l) == name(d)) {
            Some(l) if !same(d, l) => {
                out.push(drift(table, kind, name(d), differs("definition", definition(d), definition(l))));
            }
            Some(_) => {}
            None => {
                let other =
                    live.iter().find(|l| !declared_names.contains(name(l)) && !renamed.contains(name(l)) && same(d, l));
                match other {
                    Some(l) if !definition(d).is_empty() => {
                        renamed.insert(name(l));
                        out.push(drift(table, kind, name(d), differs("name", name(d), name(l))));
                    }
                    _ => out.push(drift(table, kind, name(d), Problem::Missing)),
                }
            }
        }
    }
    if scope.strict {
        for l in live.iter().filter(|l| !declared_names.contains(name(l)) && !renamed.contains(name(l))) {
            out.push(drift(table, kind, name(l), Problem::Undeclared));
        }
    }
}
