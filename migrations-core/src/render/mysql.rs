//! MySQL and MariaDB. DDL commits implicitly: each statement here is its own step.

use super::common::{column_def, column_list, constraint_def, create_index, create_table, default_sql, index_keys};
use crate::dialect::{quote_str, Dialect};
use crate::operation::Operation;
use crate::schema::{Column, Constraint, ForeignKey, Schema, Table};

const D: Dialect = Dialect::MySql;

fn q(s: &str) -> String {
    D.quote(s)
}

fn column_line(c: &Column) -> String {
    let mut s = column_def(c, D);
    if c.auto_increment {
        s.push_str(" AUTO_INCREMENT");
    }
    if let Some(comment) = &c.comment {
        s.push_str(&format!(" COMMENT {}", quote_str(D, comment)));
    }
    s
}

fn create_table_sql(t: &Table) -> Vec<String> {
    let mut lines: Vec<String> = t.columns.iter().map(column_line).collect();
    if !t.primary_key.is_empty() {
        lines.push(format!("PRIMARY KEY ({})", column_list(&t.primary_key, D)));
    }
    lines.extend(t.constraints().iter().map(|c| constraint_def(c, D)));
    let suffix = match &t.comment {
        Some(c) => format!(" COMMENT = {}", quote_str(D, c)),
        None => String::new(),
    };
    let mut out = vec![create_table(&t.name, &lines, &suffix, D)];
    out.extend(t.indexes.iter().map(|i| create_index(&t.name, i, D)));
    out
}

/// Whether InnoDB had to create its own index for `fk` (named like the constraint)
/// because no index, unique or primary key of `table` starts with the key's columns.
pub fn has_implicit_index(table: &Table, fk: &ForeignKey) -> bool {
    let covers = |cols: &[String]| cols.len() >= fk.columns.len() && cols[..fk.columns.len()] == fk.columns[..];
    !(covers(&table.primary_key)
        || table.indexes.iter().any(|i| covers(&i.columns))
        || table.uniques.iter().any(|u| covers(&u.columns)))
}

/// `DROP INDEX`, except when the index is the last one a foreign key can use: InnoDB
/// refuses that, so the statement swaps in the index InnoDB would have made itself
/// (named like the constraint), which is the state a table without a declared index has.
fn drop_index(table: &str, index: &crate::schema::Index, after: &Schema) -> String {
    drop_key(table, &index.name, &index.columns, after)
}

/// `DROP INDEX` of the index `name` on `columns` (a plain or unique index, or the index
/// of a unique constraint), swapping in the foreign-key index InnoDB needs (see
/// [`drop_index`]): InnoDB refuses to drop the last index a foreign key can use (1553).
fn drop_key(table: &str, name: &str, columns: &[String], after: &Schema) -> String {
    let t = q(table);
    let mut sql = format!("ALTER TABLE {t} DROP INDEX {}", q(name));
    if let Some(a) = after.table(table) {
        for fk in a.foreign_keys.iter().filter(|fk| has_implicit_index(a, fk)) {
            let covered = columns.len() >= fk.columns.len() && columns[..fk.columns.len()] == fk.columns[..];
            if covered {
                sql.push_str(&format!(", ADD INDEX {} ({})", q(&fk.name), column_list(&fk.columns, D)));
            }
        }
    }
    sql
}

/// `CREATE INDEX`, except when the new index takes over from the index InnoDB keeps for
/// a foreign key (see [`drop_index`]): then that index is dropped in the same statement,
/// whether InnoDB made it or we did, so the result does not depend on which.
fn add_index(table: &str, index: &crate::schema::Index, before: &Schema) -> String {
    let replaced: Vec<&ForeignKey> = before
        .table(table)
        .map(|b| {
            b.foreign_keys
                .iter()
                .filter(|fk| has_implicit_index(b, fk))
                .filter(|fk| {
                    index.columns.len() >= fk.columns.len() && index.columns[..fk.columns.len()] == fk.columns[..]
                })
                .collect()
        })
        .unwrap_or_default();
    if replaced.is_empty() {
        return create_index(table, index, D);
    }
    let mut sql = format!(
        "ALTER TABLE {} ADD {}INDEX {} ({})",
        q(table),
        if index.unique { "UNIQUE " } else { "" },
        q(&index.name),
        index_keys(index, D)
    );
    for fk in replaced {
        sql.push_str(&format!(", DROP INDEX {}", q(&fk.name)));
    }
    sql
}

pub(super) fn render(op: &Operation, before: &Schema, after: &Schema) -> Vec<String> {
    match op {
        Operation::AlterEnum { name, from, to, renamed } => alter_enum(name, from, to, renamed, before, after),
        // An `ENUM(...)` column has no type name.
        Operation::RenameEnum { .. } => Vec::new(),
        Operation::CreateModel { table } => create_table_sql(table),
        Operation::DeleteModel { table } => vec![format!("DROP TABLE {}", q(&table.name))],
        Operation::RenameModel { old, new } => vec![format!("RENAME TABLE {} TO {}", q(old), q(new))],
        Operation::AlterModelComment { table, new, .. } => {
            vec![format!("ALTER TABLE {} COMMENT = {}", q(table), quote_str(D, new.as_deref().unwrap_or("")))]
        }
        Operation::AddField { table, column, fill } => match fill {
            Some(v) if column.default.is_none() => {
                let filled = Column { default: Some(v.clone()), ..column.clone() };
                vec![
                    format!("ALTER TABLE {} ADD COLUMN {}", q(table), column_line(&filled)),
                    format!("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", q(table), q(&column.name)),
                ]
            }
            _ => vec![format!("ALTER TABLE {} ADD COLUMN {}", q(table), column_line(column))],
        },
        Operation::RemoveField { table, column } => {
            vec![format!("ALTER TABLE {} DROP COLUMN {}", q(table), q(&column.name))]
        }
        // A change MySQL cannot see (`citext` is its text): nothing to do.
        Operation::AlterField { old, new, fill: None, .. } if column_line(old) == column_line(new) => Vec::new(),
        Operation::AlterField { table, old, new, fill } => {
            let mut out = Vec::new();
            if let (true, false, Some(v)) = (old.nullable, new.nullable, fill) {
                let c = q(&new.name);
                out.push(format!("UPDATE {} SET {c} = {} WHERE {c} IS NULL", q(table), default_sql(v, &new.ty, D)));
            }
            out.push(format!("ALTER TABLE {} MODIFY COLUMN {}", q(table), column_line(new)));
            out
        }
        Operation::RenameField { table, old, new } => {
            vec![format!("ALTER TABLE {} RENAME COLUMN {} TO {}", q(table), q(old), q(new))]
        }
        Operation::CreateIndex { table, index } => vec![add_index(table, index, before)],
        Operation::DropIndex { table, index } => vec![drop_index(table, index, after)],
        Operation::RenameIndex { table, old, new } => {
            vec![format!("ALTER TABLE {} RENAME INDEX {} TO {}", q(table), q(old), q(new))]
        }
        Operation::AddConstraint { table, constraint } => {
            vec![format!("ALTER TABLE {} ADD {}", q(table), constraint_def(constraint, D))]
        }
        Operation::RemoveConstraint { table, constraint } => {
            let t = q(table);
            let n = q(constraint.name());
            match constraint {
                Constraint::Unique(u) => vec![drop_key(table, &u.name, &u.columns, after)],
                Constraint::Check(_) => vec![format!("ALTER TABLE {t} DROP CONSTRAINT {n}")],
                Constraint::ForeignKey(fk) => {
                    let mut out = vec![format!("ALTER TABLE {t} DROP FOREIGN KEY {n}")];
                    if before.table(table).is_some_and(|tb| has_implicit_index(tb, fk)) {
                        out.push(format!("ALTER TABLE {t} DROP INDEX {n}"));
                    }
                    out
                }
            }
        }
        // (MySQL keeps neither state: the build refuses both there. Should one come, the
        // constraint is made again.)
        Operation::AlterConstraint { table, old, new } => {
            let mut out =
                render(&Operation::RemoveConstraint { table: table.clone(), constraint: old.clone() }, before, after);
            out.extend(render(
                &Operation::AddConstraint { table: table.clone(), constraint: new.clone() },
                before,
                after,
            ));
            out
        }
        Operation::CreateView { view } => vec![super::common::create_view(view, D)],
        Operation::DropView { view } => vec![super::common::drop_view(view, D)],
        Operation::CreateRaw { object } => super::common::raw_statement(object, true, D),
        Operation::DropRaw { object } => super::common::raw_statement(object, false, D),
        Operation::RunSql(sql) => sql.forward_sql(D).to_vec(),
    }
}

/// Both lists, for while a change's renamed rows are updated: `from`, then what `to`
/// adds. MySQL compares ENUM values without case: a value renamed only in case is one
/// value to it, and needs no update.
pub(crate) fn enum_lists_joined(from: &[String], to: &[String]) -> Vec<String> {
    let mut both: Vec<String> = from.to_vec();
    for v in to {
        if both.iter().all(|b| !b.eq_ignore_ascii_case(v)) {
            both.push(v.clone());
        }
    }
    both
}

/// A change of an enumerated type's values: each column's `ENUM(...)` written again, all
/// of a table's columns in one statement. A renamed value is renamed in the rows: the
/// column first takes both lists, the rows are updated, then it takes the new list. A
/// row that holds a removed value fails the change (strict mode) and the table stays.
fn alter_enum(
    name: &str,
    from: &[String],
    to: &[String],
    renamed: &[(String, String)],
    before: &Schema,
    after: &Schema,
) -> Vec<String> {
    let changes = crate::schema::ValueChanges::between(from, to, renamed);
    let both = enum_lists_joined(from, to);
    let mut out = Vec::new();
    for (b, a) in before.tables.values().filter_map(|b| Some((b, after.table(&b.name)?))) {
        let columns: Vec<(&Column, &Column)> = b
            .columns
            .iter()
            .filter(|c| c.ty.enum_type().is_some_and(|e| e.name == name))
            .filter_map(|c| Some((c, a.column(&c.name)?)))
            .collect();
        if columns.is_empty() {
            continue;
        }
        let modify = |cols: Vec<Column>| {
            let parts: Vec<String> = cols.iter().map(|c| format!("MODIFY COLUMN {}", column_line(c))).collect();
            format!("ALTER TABLE {} {}", q(&b.name), parts.join(", "))
        };
        let renames: Vec<&(String, String)> =
            changes.renamed.iter().filter(|(old, new)| !old.eq_ignore_ascii_case(new)).collect();
        if !renames.is_empty() {
            let widened = columns
                .iter()
                .map(|(old, _)| {
                    let mut c = (*old).clone();
                    c.ty = crate::schema::ColumnType::Enum(crate::schema::EnumType {
                        name: name.to_string(),
                        values: both.clone(),
                    });
                    c
                })
                .collect();
            out.push(modify(widened));
            for (old, _) in &columns {
                let c = q(&old.name);
                let cases: Vec<String> = renames
                    .iter()
                    .map(|(from, to)| format!("WHEN {} THEN {}", quote_str(D, from), quote_str(D, to)))
                    .collect();
                let olds: Vec<String> = renames.iter().map(|(from, _)| quote_str(D, from)).collect();
                out.push(format!(
                    "UPDATE {} SET {c} = CASE {c} {} END WHERE {c} IN ({})",
                    q(&b.name),
                    cases.join(" "),
                    olds.join(", ")
                ));
            }
        }
        out.push(modify(columns.iter().map(|(_, new)| (*new).clone()).collect()));
    }
    out
}
