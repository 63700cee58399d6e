//! MySQL and MariaDB: each DDL statement commits itself. On a table that holds rows an
//! index is built and dropped with `LOCK=NONE` (the server refuses the statement rather
//! than block writes); a foreign key is added in place with `foreign_key_checks` off
//! and its rows checked by the runtime after; what InnoDB can only do by copying the
//! table (a column's type, a check added) is said to block writes. A column a
//! foreign key uses cannot change while the key exists: the keys on both sides are
//! dropped first and added back after.

use std::collections::BTreeSet;

use super::{run_sql_statements, Run, Statement, Work};
use crate::dialect::Dialect;
use crate::operation::Operation;
use crate::render::common::{constraint_def, default_sql};
use crate::schema::{Column, ColumnType, Constraint, DefaultValue, ForeignKey, Schema};

const D: Dialect = Dialect::MySql;

use super::BATCH_ROWS;

const INSTANT: &str = "INSTANT or INPLACE, metadata lock for an instant";
const NO_LOCK: &str = "INPLACE, LOCK=NONE";
const COPY: &str = "ALGORITHM=COPY, writes wait";
const UNCHECKED: &str = "INPLACE, LOCK=NONE with foreign_key_checks off";

fn q(s: &str) -> String {
    D.quote(s)
}

/// Asks for `LOCK=NONE`: the server does it without blocking writes, or refuses.
fn no_lock(sql: &str) -> String {
    if sql.starts_with("ALTER TABLE ") {
        format!("{sql}, LOCK=NONE")
    } else {
        format!("{sql} LOCK=NONE")
    }
}

pub(super) fn statements(op: &Operation, k: usize, plain: Vec<String>, online: bool) -> Vec<Statement> {
    let all = |lock: &str, work: Work| -> Vec<Statement> {
        plain.iter().map(|sql| Statement::new(sql.clone(), k, Run::Transaction, lock.into(), work)).collect()
    };
    let without_lock = |work: Work| -> Vec<Statement> {
        plain
            .iter()
            .map(|sql| Statement {
                blocks_writes: false,
                ..Statement::new(no_lock(sql), k, Run::Transaction, NO_LOCK.into(), work)
            })
            .collect()
    };
    match op {
        Operation::RunSql(sql) => run_sql_statements(sql, k, D),
        Operation::AlterEnum { from, to, renamed, .. } => alter_enum((from, to, renamed), k, plain, online),
        Operation::CreateIndex { .. } | Operation::AddConstraint { constraint: Constraint::Unique(_), .. }
            if online =>
        {
            without_lock(Work::Scan)
        }
        Operation::DropIndex { .. }
        | Operation::RenameIndex { .. }
        | Operation::RemoveConstraint { constraint: Constraint::Unique(_), .. }
            if online =>
        {
            without_lock(Work::Catalog)
        }
        Operation::CreateIndex { .. } | Operation::AddConstraint { constraint: Constraint::Unique(_), .. } => {
            all(NO_LOCK, Work::Scan)
        }
        // InnoDB adds a foreign key in place only with `foreign_key_checks` off: the
        // runtime turns them off for this statement and checks the rows itself after.
        Operation::AddConstraint { table, constraint: Constraint::ForeignKey(fk) } if online => plain
            .iter()
            .map(|sql| Statement {
                blocks_writes: false,
                unchecked_key: Some(super::UncheckedKey::new(table, fk)),
                ..Statement::new(
                    format!("{sql}, ALGORITHM=INPLACE, LOCK=NONE"),
                    k,
                    Run::Transaction,
                    UNCHECKED.into(),
                    Work::Scan,
                )
            })
            .collect(),
        // InnoDB adds a foreign key (with checks on) or a check by copying the table.
        Operation::AddConstraint { .. } => all(COPY, Work::Rewrite),
        Operation::AddField { column, .. } if rebuilds_for(column) => all(COPY, Work::Rewrite),
        Operation::AlterField { table, old, new, fill } => {
            alter_field((table, old, new, fill.as_ref()), k, plain, online)
        }
        _ => all(INSTANT, Work::Catalog),
    }
}

/// A new column InnoDB cannot add in place: one that numbers its rows, or whose default
/// is computed per row.
fn rebuilds_for(column: &Column) -> bool {
    let default = column.default.as_ref().map(|d| d.on(crate::Dialect::MySql));
    column.auto_increment || matches!(default.as_deref(), Some(DefaultValue::Expr(e)) if e != "now()")
}

/// Whether InnoDB changes a column's type without copying the table: a `varchar` that
/// grows within the same length prefix (up to 255 bytes, or beyond), as the
/// utf8mb4 worst case counts it.
fn in_place_type_change(old: &ColumnType, new: &ColumnType) -> bool {
    match (old, new) {
        (ColumnType::Varchar(a), ColumnType::Varchar(b)) => b >= a && ((a * 4 <= 255) == (b * 4 <= 255)),
        (ColumnType::Enum(a), ColumnType::Enum(b)) => enum_appends(&a.values, &b.values),
        (a, b) => a == b,
    }
}

/// Whether InnoDB changes an `ENUM` column from list `old` to `new` without copying the
/// table: values added at the end, and the list stays within one byte's 255 values.
fn enum_appends(old: &[String], new: &[String]) -> bool {
    new.starts_with(old) && (old.len() <= 255) == (new.len() <= 255)
}

/// A change of an enumerated type's list: per table, with renames, the column widened
/// to both lists, the rows updated, and the column narrowed to the new list; without,
/// the new list at once.
fn alter_enum(
    (from, to, renamed): (&[String], &[String], &[(String, String)]),
    k: usize,
    plain: Vec<String>,
    online: bool,
) -> Vec<Statement> {
    let renames =
        crate::schema::ValueChanges::between(from, to, renamed).renamed.iter().any(|(a, b)| !a.eq_ignore_ascii_case(b));
    let both = crate::render::mysql::enum_lists_joined(from, to);
    let followed_by_update: Vec<bool> =
        plain.iter().skip(1).map(|next| next.starts_with("UPDATE ")).chain([false]).collect();
    plain
        .into_iter()
        .zip(followed_by_update)
        .map(|(sql, widens)| {
            if sql.starts_with("UPDATE ") {
                // A renamed row no longer matches: in batches, until none is left.
                return match online {
                    true => Statement::new(
                        format!("{sql} LIMIT {BATCH_ROWS}"),
                        k,
                        Run::Batches,
                        "row locks".into(),
                        Work::Rows,
                    ),
                    false => Statement::new(sql, k, Run::Transaction, "row locks".into(), Work::Rows),
                };
            }
            // With renames, a table's column goes from the old list to both (the statement
            // the row updates follow) and from both to the new one; without, at once.
            let appends = match (renames, widens) {
                (true, true) => enum_appends(from, &both),
                (true, false) => enum_appends(&both, to),
                (false, _) => enum_appends(from, to),
            };
            if appends {
                Statement::new(sql, k, Run::Transaction, INSTANT.into(), Work::Catalog)
            } else {
                Statement::new(sql, k, Run::Transaction, COPY.into(), Work::Rewrite)
            }
        })
        .collect()
}

fn alter_field(
    (table, old, new, fill): (&str, &Column, &Column, Option<&DefaultValue>),
    k: usize,
    plain: Vec<String>,
    online: bool,
) -> Vec<Statement> {
    let copies = !in_place_type_change(&old.ty, &new.ty);
    plain
        .into_iter()
        .map(|sql| {
            if sql.starts_with("UPDATE ") {
                let c = q(&new.name);
                let value = fill.map(|v| default_sql(v, &new.ty, D)).unwrap_or_default();
                if !online {
                    return Statement::new(sql, k, Run::Transaction, "row locks".into(), Work::Rows);
                }
                let update = format!("UPDATE {} SET {c} = {value} WHERE {c} IS NULL", q(table));
                Statement {
                    key_walk: super::KeyWalk::wanted(table, update.clone()),
                    ..Statement::new(
                        format!("{update} LIMIT {BATCH_ROWS}"),
                        k,
                        Run::Batches,
                        "row locks".into(),
                        Work::Rows,
                    )
                }
            } else if copies {
                Statement::new(sql, k, Run::Transaction, COPY.into(), Work::Rewrite)
            } else if old.nullable != new.nullable {
                // NULL-ness rebuilds the table in place; writes go on.
                Statement {
                    blocks_writes: false,
                    ..Statement::new(sql, k, Run::Transaction, "INPLACE".into(), Work::Rewrite)
                }
            } else {
                Statement::new(sql, k, Run::Transaction, INSTANT.into(), Work::Catalog)
            }
        })
        .collect()
}

/// The foreign keys (the table holding each, and the key) that use column `column` of
/// `table`, from either side.
fn keys_using<'s>(schema: &'s Schema, table: &'s str, column: &str) -> Vec<(String, &'s ForeignKey)> {
    let mut keys: Vec<(String, &ForeignKey)> = Vec::new();
    if let Some(t) = schema.table(table) {
        keys.extend(
            t.foreign_keys.iter().filter(|fk| fk.columns.iter().any(|c| c == column)).map(|fk| (t.name.clone(), fk)),
        );
    }
    for (from, fk) in schema.foreign_keys_to(table) {
        if fk.ref_columns.iter().any(|c| c == column) && !keys.iter().any(|(t, k)| *t == from.name && k.name == fk.name)
        {
            keys.push((from.name.clone(), fk));
        }
    }
    keys
}

/// InnoDB refuses to change the type of a column a foreign key uses (error 1832). For
/// each such change in a migration, the keys on both sides are dropped just before the
/// first change that involves them and added back just after the last, so that a primary
/// key and the columns that reference it can all change in one migration. Fed each
/// operation with the schema it meets ([`KeysInTheWay::note`]), during the one replay of
/// the migration; then [`KeysInTheWay::place`] puts the drops and re-adds around them.
#[derive(Default)]
pub(super) struct KeysInTheWay {
    /// (table holding the key, first op, last op, the key as it was).
    spans: Vec<(String, usize, usize, ForeignKey)>,
    /// Keys the migration itself adds or removes: left to it.
    own: BTreeSet<(String, String)>,
}

impl KeysInTheWay {
    /// Notes operation `k`, `op`, met with `schema`; `created` are the tables the
    /// migration created so far (empty: nothing to move).
    pub(super) fn note(&mut self, k: usize, op: &Operation, schema: &Schema, created: &BTreeSet<String>) {
        match op {
            Operation::AlterField { table, old, new, .. } if old.ty != new.ty && !created.contains(table) => {
                for (owner, fk) in keys_using(schema, table, &old.name) {
                    match self.spans.iter_mut().find(|s| s.0 == owner && s.3.name == fk.name) {
                        Some(span) => span.2 = k,
                        None => self.spans.push((owner, k, k, fk.clone())),
                    }
                }
            }
            Operation::AddConstraint { table, constraint } | Operation::RemoveConstraint { table, constraint } => {
                self.own.insert((table.clone(), constraint.name().to_string()));
            }
            _ => {}
        }
    }

    /// `statements` with each key dropped before its first change and added after its last.
    pub(super) fn place(self, statements: Vec<Statement>) -> Vec<Statement> {
        let own = &self.own;
        let spans: Vec<_> =
            self.spans.into_iter().filter(|s| !own.contains(&(s.0.clone(), s.3.name.clone()))).collect();
        if spans.is_empty() {
            return statements;
        }
        let mut out = Vec::with_capacity(statements.len() + 2 * spans.len());
        let mut statements = statements.into_iter().peekable();
        let last_op = spans.iter().map(|s| s.2).max().unwrap_or(0);
        for k in 0..=last_op {
            for (owner, _, _, fk) in spans.iter().filter(|s| s.1 == k) {
                out.push(Statement::new(
                    format!("ALTER TABLE {} DROP FOREIGN KEY {}", q(owner), q(&fk.name)),
                    k,
                    Run::Transaction,
                    INSTANT.into(),
                    Work::Catalog,
                ));
            }
            while let Some(s) = statements.next_if(|s| s.operation <= k) {
                out.push(s);
            }
            for (owner, _, _, fk) in spans.iter().filter(|s| s.2 == k) {
                out.push(Statement::new(
                    format!("ALTER TABLE {} ADD {}", q(owner), constraint_def(&Constraint::ForeignKey(fk.clone()), D)),
                    k,
                    Run::Transaction,
                    COPY.into(),
                    Work::Rewrite,
                ));
            }
        }
        out.extend(statements);
        out
    }
}
