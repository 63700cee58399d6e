//! Rendering operations to SQL, per dialect. Identifiers are always quoted; nothing from
//! a model reaches SQL unquoted except `CHECK` expressions, `default_expr`s and
//! `column_type`s, which are SQL by definition.

mod common;
pub mod live;
mod mysql;
mod postgres;
mod sqlite;

pub use common::{column_type_sql, default_sql};
pub use mysql::has_implicit_index as mysql_keeps_own_fk_index;
pub use sqlite::rebuilds_table as sqlite_rebuilds_table;

use crate::apply::ApplyError;
use crate::dialect::Dialect;
use crate::operation::{Irreversible, Operation};
use crate::schema::Schema;

/// Why SQL could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The operation does not fit the schema it is rendered against.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The reverse was asked of an irreversible operation.
    #[error(transparent)]
    Irreversible(#[from] Irreversible),
}

/// The SQL statements for `op`, given the schema just before it.
///
/// # Examples
///
/// ```
/// use migrations_core::render::render;
/// use migrations_core::schema::{Column, ColumnType, Table};
/// use migrations_core::{Dialect, Operation, Schema};
///
/// let mut schema = Schema::new();
/// schema.tables.insert("users".into(), Table::new("users"));
/// let op = Operation::AddField {
///     table: "users".into(),
///     column: Column::new("email", ColumnType::Varchar(255)).nullable(),
///     fill: None,
/// };
/// assert_eq!(render(&op, &schema, Dialect::Postgres)?, [r#"ALTER TABLE "users" ADD COLUMN "email" VARCHAR(255)"#]);
/// assert_eq!(render(&op, &schema, Dialect::MySql)?, ["ALTER TABLE `users` ADD COLUMN `email` VARCHAR(255) NULL"]);
/// # Ok::<(), migrations_core::render::RenderError>(())
/// ```
pub fn render(op: &Operation, before: &Schema, dialect: Dialect) -> Result<Vec<String>, RenderError> {
    let views = views_in_the_way(op, before, dialect);
    let mut out: Vec<String> = views.iter().rev().map(|v| common::drop_view(v, dialect)).collect();
    out.extend(render_op(op, before, dialect)?);
    out.extend(views.iter().map(|v| common::create_view(v, dialect)));
    Ok(out)
}

/// The views to drop before `op` and create again after it on `dialect`: those that
/// read a table `op` changes in a way the database refuses under a view (PostgreSQL: a
/// column's type; SQLite: a table rebuild, which renames a new table into place).
pub fn views_in_the_way<'s>(op: &Operation, before: &'s Schema, dialect: Dialect) -> Vec<&'s crate::schema::View> {
    // A change of an enumerated type's list changes every table with a column of it:
    // on PostgreSQL, when the type is built again (see `postgres::alter_enum`).
    let tables: Vec<&str> = match op {
        Operation::AlterEnum { name, from, to, renamed } => {
            let in_place = crate::schema::ValueChanges::between(from, to, renamed).in_place();
            if dialect == Dialect::MySql || (dialect == Dialect::Postgres && in_place) {
                return Vec::new();
            }
            before.enum_columns().filter(|(_, _, e)| e.name == *name).map(|(t, _, _)| t).collect()
        }
        _ => {
            let Some(table) = op.table() else { return Vec::new() };
            let refused = match (dialect, op) {
                (Dialect::Postgres, Operation::AlterField { old, new, .. }) => old.ty != new.ty,
                (Dialect::Sqlite, _) => sqlite::rebuilds_table(op, before),
                _ => false,
            };
            if !refused {
                return Vec::new();
            }
            vec![table]
        }
    };
    let direct: Vec<&str> = tables;
    views_reading(before, &direct)
}

/// The views that read any of `names`, and the views that read those, and so on, each
/// after every view it reads (the order to create them in; reversed, to drop them).
fn views_reading<'s>(schema: &'s Schema, names: &[&str]) -> Vec<&'s crate::schema::View> {
    let mut found: Vec<&crate::schema::View> = Vec::new();
    let reads_found = |v: &crate::schema::View, found: &[&crate::schema::View], names: &[&str]| {
        v.reads.iter().any(|r| names.contains(&r.as_str()) || found.iter().any(|f| f.name == *r))
    };
    // Every view that depends on `names`, however indirectly.
    loop {
        let more: Vec<&crate::schema::View> = schema
            .views
            .values()
            .filter(|v| !found.iter().any(|f| f.name == v.name) && reads_found(v, &found, names))
            .collect();
        if more.is_empty() {
            break;
        }
        found.extend(more);
    }
    // Each after the views among them it reads.
    let mut ordered: Vec<&crate::schema::View> = Vec::with_capacity(found.len());
    while !found.is_empty() {
        let ready = found
            .iter()
            .position(|v| v.reads.iter().all(|r| !found.iter().any(|f| f.name == *r && f.name != v.name)))
            .unwrap_or(0);
        ordered.push(found.remove(ready));
    }
    ordered
}

/// The SQL of `op` alone, without the views [`render`] moves out of its way: on
/// PostgreSQL with the `CREATE TYPE` of an enumerated type it brings into use and the
/// `DROP TYPE` of one it leaves unused.
pub fn render_op(op: &Operation, before: &Schema, dialect: Dialect) -> Result<Vec<String>, RenderError> {
    let (create, drop) = enum_types_around(op, before, dialect);
    let mut out = create;
    out.extend(render_dialect(op, before, dialect)?);
    out.extend(drop);
    Ok(out)
}

/// PostgreSQL: the `CREATE TYPE` (and `CREATE EXTENSION IF NOT EXISTS citext`)
/// statements to run before `op` and the `DROP TYPE` statements to run after it (see
/// [`render_op`]); none elsewhere.
pub fn enum_types_around(op: &Operation, before: &Schema, dialect: Dialect) -> (Vec<String>, Vec<String>) {
    match dialect {
        Dialect::Postgres => postgres::types_around(op, before),
        _ => (Vec::new(), Vec::new()),
    }
}

/// The SQL of `op` in `dialect`, and nothing around it.
pub(crate) fn render_dialect(op: &Operation, before: &Schema, dialect: Dialect) -> Result<Vec<String>, RenderError> {
    // The renderers look at the tables the operation touches, before and after it; copy
    // just those, not the whole schema (a thousand-table schema would make every
    // operation cost a thousand table copies).
    let touched = touched_tables(op, before);
    let mut after = before.subset(&touched);
    after.apply(op)?;
    Ok(match dialect {
        Dialect::Postgres => postgres::render(op, before, &after),
        Dialect::MySql => mysql::render(op, before, &after),
        Dialect::Sqlite => sqlite::render(op, before, &after),
    })
}

/// The tables `op` reads or changes: its own, a renamed table's old name, a foreign key's
/// target, and the tables whose foreign keys point at its table.
pub fn touched_tables(op: &Operation, schema: &Schema) -> Vec<String> {
    let mut own: Vec<&str> = Vec::new();
    match op {
        Operation::RenameModel { old, new } => own.extend([old.as_str(), new.as_str()]),
        Operation::CreateModel { table } | Operation::DeleteModel { table } => {
            own.push(&table.name);
            own.extend(table.foreign_keys.iter().map(|fk| fk.ref_table.as_str()));
        }
        Operation::AddConstraint { table, constraint: crate::schema::Constraint::ForeignKey(fk) } => {
            own.extend([table.as_str(), fk.ref_table.as_str()]);
        }
        Operation::CreateView { view } | Operation::DropView { view } => {
            own.extend(view.reads.iter().map(String::as_str))
        }
        Operation::AlterEnum { name, .. } | Operation::RenameEnum { old: name, .. } => {
            for (table, _, e) in schema.enum_columns() {
                if e.name == *name && !own.contains(&table) {
                    own.push(table);
                }
            }
        }
        other => own.extend(other.table()),
    }
    let mut names: Vec<String> = Vec::new();
    for n in own
        .iter()
        .copied()
        .chain(own.iter().flat_map(|t| schema.foreign_keys_to(t).map(|(from, _)| from.name.as_str())))
    {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    }
    names
}

/// The SQL of a sequence of operations starting from `start`, and the schema after them.
pub fn render_all(ops: &[Operation], start: &Schema, dialect: Dialect) -> Result<(Vec<String>, Schema), RenderError> {
    let mut schema = start.clone();
    let mut sql = Vec::new();
    for op in ops {
        sql.extend(render(op, &schema, dialect)?);
        schema.apply(op)?;
    }
    Ok((sql, schema))
}

/// The SQL that undoes `ops` (applied to `start`): each reverse, last first.
pub fn render_all_reverse(ops: &[Operation], start: &Schema, dialect: Dialect) -> Result<Vec<String>, RenderError> {
    let mut schema = start.clone();
    schema.apply_all(ops)?;
    let mut sql = Vec::new();
    for op in ops.iter().rev() {
        let rev = op.reverse()?;
        sql.extend(render(&rev, &schema, dialect)?);
        schema.apply(&rev)?;
    }
    Ok(sql)
}
