//! SQLite. What its ALTER TABLE cannot do is done by the documented table rebuild
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>): create the new table, copy
//! the rows, drop the old one, rename, re-create the indexes. The runner turns
//! `PRAGMA foreign_keys` off around the transaction and runs `PRAGMA foreign_key_check`
//! before committing (see [`rebuilds_table`]).

use super::common::{check_def, column_def, column_list, create_index, create_table, default_sql, foreign_key_def};
use crate::dialect::{quote_str, Dialect};
use crate::operation::Operation;
use crate::schema::{Column, Constraint, Index, Schema, Table};

const D: Dialect = Dialect::Sqlite;

fn q(s: &str) -> String {
    D.quote(s)
}

/// Whether `op` on `before` needs the table rebuild (and so `PRAGMA foreign_keys = OFF`
/// outside the transaction) on SQLite.
pub fn rebuilds_table(op: &Operation, before: &Schema) -> bool {
    match op {
        Operation::AddField { column, fill, .. } => !simple_add(column, fill.is_some()),
        Operation::RemoveField { table, .. } => before.table(table).is_some_and(|t| !t.checks.is_empty()),
        Operation::AlterField { old, new, .. } => !comment_only(old, new),
        Operation::AlterEnum { name, .. } => before.enum_uses(name) > 0,
        Operation::AddConstraint { constraint, .. } | Operation::RemoveConstraint { constraint, .. } => {
            !matches!(constraint, Constraint::Unique(_))
        }
        // Only a foreign key's deferrability is SQLite's to keep (in the table's SQL).
        Operation::AlterConstraint { old: Constraint::ForeignKey(a), new: Constraint::ForeignKey(b), .. } => {
            a.deferrable != b.deferrable
        }
        _ => false,
    }
}

/// Whether a column change is only of its comment, which SQLite does not keep: nothing
/// to do (a rebuild would copy every row for nothing).
fn comment_only(old: &Column, new: &Column) -> bool {
    old.comment != new.comment && Column { comment: None, ..old.clone() } == Column { comment: None, ..new.clone() }
}

/// `ALTER TABLE ADD COLUMN` works for a column that is nullable or has a constant
/// default, and no one-off fill.
fn simple_add(column: &Column, has_fill: bool) -> bool {
    let constant_default = match &column.default {
        None => column.nullable,
        Some(crate::schema::DefaultValue::Expr(_) | crate::schema::DefaultValue::PerDialect(_)) => false,
        Some(_) => true,
    };
    !has_fill && constant_default && !column.auto_increment
}

fn column_line(c: &Column, table: &Table) -> String {
    if c.auto_increment && table.primary_key == [c.name.clone()] {
        return format!("{} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL", q(&c.name));
    }
    column_def(c, D)
}

fn create_table_named(t: &Table, name: &str) -> String {
    let mut lines: Vec<String> = t.columns.iter().map(|c| column_line(c, t)).collect();
    let inline_pk = t.columns.iter().any(|c| c.auto_increment && t.primary_key == [c.name.clone()]);
    if !t.primary_key.is_empty() && !inline_pk {
        lines.push(format!("PRIMARY KEY ({})", column_list(&t.primary_key, D)));
    }
    lines.extend(t.checks.iter().map(|c| check_def(c, D)));
    lines.extend(t.foreign_keys.iter().map(|f| foreign_key_def(f, D)));
    create_table(name, &lines, "", D)
}

/// The table's indexes; unique constraints live as unique indexes on SQLite, so they
/// can be added and dropped without a rebuild.
fn table_indexes(t: &Table) -> Vec<String> {
    t.uniques
        .iter()
        .map(crate::schema::Unique::as_index)
        .chain(t.indexes.iter().cloned())
        .map(|i| create_index(&t.name, &i, D))
        .collect()
}

fn create_table_sql(t: &Table) -> Vec<String> {
    let mut out = vec![create_table_named(t, &t.name)];
    out.extend(table_indexes(t));
    out
}

/// The rebuild of `table` from its shape in `before` to its shape in `after`. `select`
/// gives, for each column of the new table, the expression that fills it.
fn rebuild(before: &Table, after: &Table, select: impl Fn(&Column) -> String) -> Vec<String> {
    let temp = format!("_chakra_new_{}", after.name);
    let columns: Vec<String> = after.columns.iter().map(|c| q(&c.name)).collect();
    let values: Vec<String> = after.columns.iter().map(select).collect();
    let mut out = vec![
        create_table_named(after, &temp),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            q(&temp),
            columns.join(", "),
            values.join(", "),
            q(&before.name)
        ),
        format!("DROP TABLE {}", q(&before.name)),
        format!("ALTER TABLE {} RENAME TO {}", q(&temp), q(&after.name)),
    ];
    out.extend(table_indexes(after));
    out
}

fn copy(c: &Column) -> String {
    q(&c.name)
}

pub(super) fn render(op: &Operation, before: &Schema, after: &Schema) -> Vec<String> {
    let tables = |name: &str| before.table(name).zip(after.table(name));
    match op {
        // A CHECK of the values has no type name.
        Operation::RenameEnum { .. } => Vec::new(),
        Operation::AlterEnum { name, from, to, renamed } => {
            // The list is each column's CHECK: every table with such a column is rebuilt,
            // renamed values renamed as the rows are copied. A row that holds a removed
            // value fails the CHECK, and the transaction with it.
            let changes = crate::schema::ValueChanges::between(from, to, renamed);
            let mut out = Vec::new();
            for (b, a) in before.tables.values().filter_map(|b| Some((b, after.table(&b.name)?))) {
                let uses = |c: &Column| c.ty.enum_type().is_some_and(|e| e.name == *name);
                if !b.columns.iter().any(uses) {
                    continue;
                }
                out.extend(rebuild(b, a, |c| {
                    if !uses(c) || changes.renamed.is_empty() {
                        return copy(c);
                    }
                    let cases: Vec<String> = changes
                        .renamed
                        .iter()
                        .map(|(old, new)| format!("WHEN {} THEN {}", quote_str(D, old), quote_str(D, new)))
                        .collect();
                    format!("CASE {} {} ELSE {} END", q(&c.name), cases.join(" "), q(&c.name))
                }));
            }
            out
        }
        Operation::CreateModel { table } => create_table_sql(table),
        Operation::DeleteModel { table } => vec![format!("DROP TABLE {}", q(&table.name))],
        Operation::RenameModel { old, new } => vec![format!("ALTER TABLE {} RENAME TO {}", q(old), q(new))],
        Operation::AlterModelComment { .. } => Vec::new(),
        Operation::AddField { table, column, fill } if simple_add(column, fill.is_some()) => {
            vec![format!("ALTER TABLE {} ADD COLUMN {}", q(table), column_line(column, &Table::new(table)))]
        }
        Operation::AddField { table, column, fill } => match tables(table) {
            Some((b, a)) => rebuild(b, a, |c| {
                if c.name != column.name {
                    return copy(c);
                }
                match fill.as_ref().or(c.default.as_ref()) {
                    Some(v) => default_sql(v, &c.ty, D),
                    None => "NULL".into(),
                }
            }),
            None => Vec::new(),
        },
        Operation::RemoveField { table, column } => match tables(table) {
            Some((b, a)) if !b.checks.is_empty() => rebuild(b, a, copy),
            _ => vec![format!("ALTER TABLE {} DROP COLUMN {}", q(table), q(&column.name))],
        },
        Operation::AlterField { old, new, .. } if comment_only(old, new) => Vec::new(),
        Operation::AlterField { table, new, fill, .. } => match tables(table) {
            Some((b, a)) => rebuild(b, a, |c| {
                if c.name != new.name {
                    return copy(c);
                }
                let value = match fill {
                    Some(v) => format!("COALESCE({}, {})", q(&c.name), default_sql(v, &c.ty, D)),
                    None => q(&c.name),
                };
                value
            }),
            None => Vec::new(),
        },
        Operation::RenameField { table, old, new } => {
            vec![format!("ALTER TABLE {} RENAME COLUMN {} TO {}", q(table), q(old), q(new))]
        }
        Operation::CreateIndex { table, index } => vec![create_index(table, index, D)],
        Operation::DropIndex { index, .. } => vec![format!("DROP INDEX {}", q(&index.name))],
        Operation::RenameIndex { table, old, new } => {
            let index = before.table(table).and_then(|t| t.indexes.iter().find(|i| i.name == *old));
            match index {
                Some(i) => vec![
                    format!("DROP INDEX {}", q(old)),
                    create_index(table, &Index { name: new.clone(), ..i.clone() }, D),
                ],
                None => Vec::new(),
            }
        }
        Operation::AddConstraint { table, constraint: Constraint::Unique(u) } => {
            vec![create_index(table, &u.as_index(), D)]
        }
        Operation::RemoveConstraint { constraint: Constraint::Unique(u), .. } => {
            vec![format!("DROP INDEX {}", q(&u.name))]
        }
        Operation::AlterConstraint { .. } if !rebuilds_table(op, before) => Vec::new(),
        Operation::AddConstraint { table, .. }
        | Operation::RemoveConstraint { table, .. }
        | Operation::AlterConstraint { table, .. } => match tables(table) {
            Some((b, a)) => rebuild(b, a, copy),
            None => Vec::new(),
        },
        Operation::CreateView { view } => vec![super::common::create_view(view, D)],
        Operation::DropView { view } => vec![super::common::drop_view(view, D)],
        Operation::CreateRaw { object } => super::common::raw_statement(object, true, D),
        Operation::DropRaw { object } => super::common::raw_statement(object, false, D),
        Operation::RunSql(sql) => sql.forward_sql(D).to_vec(),
    }
}
