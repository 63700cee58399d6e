//! PostgreSQL: the online form of each change to a table that holds rows, and the lock
//! each statement takes (the lock levels are PostgreSQL's, per `ALTER TABLE` form).
//!
//! - An index is built and dropped `CONCURRENTLY`, outside a transaction.
//! - A unique constraint is a unique index built concurrently, then attached
//!   (`ADD CONSTRAINT ... UNIQUE USING INDEX`).
//! - A foreign key or check is added `NOT VALID` (new rows are checked at once), then
//!   validated in a transaction of its own, which lets writes through while it scans.
//! - `SET NOT NULL` comes after a validated `CHECK (col IS NOT NULL)`, which PostgreSQL
//!   (12 and later) uses instead of scanning the table under its strongest lock.
//! - A new column whose value must be computed per row (a volatile default) is added
//!   nullable, filled in short batches, then made NOT NULL as above.

use super::{run_sql_statements, LockMode, Run, Statement, TableLock, Work};
use crate::dialect::{quote_str, Dialect};
use crate::operation::Operation;
use crate::render::common::{check_def, constraint_def, create_index_concurrently, default_sql};
use crate::render::postgres::{alter_field, column_line};
use crate::schema::{Check, Column, ColumnType, Constraint, DefaultValue, Schema};

const D: Dialect = Dialect::Postgres;

use super::BATCH_ROWS;

fn q(s: &str) -> String {
    D.quote(s)
}

use LockMode::{AccessExclusive, RowExclusive, Share, ShareRowExclusive, ShareUpdateExclusive};

fn on(mode: LockMode, table: &str) -> Vec<TableLock> {
    vec![TableLock::new(mode, table)]
}

/// `mode` on `table`, and on the tables its foreign keys reference that dropping `op`'s
/// object also locks (dropping a foreign key takes the referenced table's strongest lock
/// too): the referencing table first, as PostgreSQL takes them.
fn with_referenced(mode: LockMode, table: &str, op: &Operation, before: &Schema) -> Vec<TableLock> {
    let mut locks = on(mode, table);
    let Some(t) = before.table(table) else { return locks };
    let dropped: Vec<&str> = match op {
        Operation::RemoveConstraint { constraint: Constraint::ForeignKey(fk), .. } => vec![fk.ref_table.as_str()],
        Operation::DeleteModel { .. } => t.foreign_keys.iter().map(|fk| fk.ref_table.as_str()).collect(),
        Operation::RemoveField { column, .. } => t
            .foreign_keys
            .iter()
            .filter(|fk| fk.columns.contains(&column.name))
            .map(|fk| fk.ref_table.as_str())
            .collect(),
        _ => Vec::new(),
    };
    for other in dropped {
        if locks.iter().all(|l| l.table != other) {
            locks.push(TableLock::new(AccessExclusive, other));
        }
    }
    locks
}

pub(super) fn statements(
    op: &Operation,
    k: usize,
    plain: Vec<String>,
    online: bool,
    before: &Schema,
) -> Vec<Statement> {
    let all = |locks: Vec<TableLock>, work: Work| -> Vec<Statement> {
        plain.iter().map(|sql| Statement::locking(sql.clone(), k, Run::Transaction, locks.clone(), work)).collect()
    };
    match op {
        Operation::RunSql(sql) => run_sql_statements(sql, k, D),
        Operation::AlterEnum { .. } => alter_enum(plain, k),
        // A catalog change of the type alone: no table is locked or read.
        Operation::RenameEnum { .. } => {
            plain.into_iter().map(|sql| Statement::on_type(sql, k, Run::Transaction)).collect()
        }
        Operation::CreateIndex { table, index } if online => {
            vec![concurrent_build(create_index_concurrently(table, index), k, table, &index.name)]
        }
        Operation::CreateIndex { table, .. } => all(on(Share, table), Work::Scan),
        Operation::DropIndex { table, index } if online => vec![Statement::locking(
            format!("DROP INDEX CONCURRENTLY {}", q(&index.name)),
            k,
            Run::NoTransaction,
            on(ShareUpdateExclusive, table),
            Work::Catalog,
        )],
        Operation::RenameIndex { table, .. } => all(on(ShareUpdateExclusive, table), Work::Catalog),
        Operation::AddConstraint { table, constraint } if online => add_constraint(table, constraint, k),
        Operation::AddConstraint { table, constraint: Constraint::ForeignKey(fk) } => {
            all(both(table, &fk.ref_table), Work::Scan)
        }
        Operation::AddConstraint { table, .. } => all(on(AccessExclusive, table), Work::Scan),
        Operation::AlterConstraint { table, .. } => plain
            .into_iter()
            .map(|sql| {
                if sql.contains(" VALIDATE CONSTRAINT ") {
                    // Scans the rows there under a lock that lets writes through.
                    Statement {
                        blocks_writes: false,
                        ..Statement::locking(sql, k, Run::OwnTransaction, on(ShareUpdateExclusive, table), Work::Scan)
                    }
                } else if sql.contains(" ALTER CONSTRAINT ") {
                    Statement::brief(sql, k, on(ShareRowExclusive, table))
                } else {
                    Statement::brief(sql, k, on(AccessExclusive, table))
                }
            })
            .collect(),
        Operation::AddField { table, column, fill } if online && needs_backfill(column, fill.as_ref()) => {
            add_field_in_batches(table, column, fill.as_ref(), k)
        }
        Operation::AddField { table, column, .. } => {
            let work = if column.auto_increment { Work::Rewrite } else { Work::Catalog };
            all(on(AccessExclusive, table), work)
        }
        Operation::AlterField { table, old, new, fill } if online => {
            alter_field_online(table, old, new, fill.as_ref(), k)
        }
        Operation::AlterField { table, old, new, .. } => {
            let work = if rewrites(old, new) {
                Work::Rewrite
            } else if old.nullable && !new.nullable {
                Work::Scan
            } else {
                Work::Catalog
            };
            let mut out = all(on(AccessExclusive, table), work);
            for s in out.iter_mut().filter(|s| s.sql.starts_with("UPDATE ")) {
                *s = Statement::locking(s.sql.clone(), k, Run::Transaction, on(RowExclusive, table), Work::Rows);
            }
            out
        }
        // A view reads its tables: creating or dropping one lets their writers and
        // readers through (a materialized view is filled by reading every row).
        Operation::CreateView { view } | Operation::DropView { view } => {
            let locks: Vec<TableLock> = view.reads.iter().map(|t| TableLock::new(LockMode::AccessShare, t)).collect();
            let fills = view.materialized && matches!(op, Operation::CreateView { .. });
            let work = if fills { Work::Scan } else { Work::Catalog };
            plain
                .iter()
                .map(|sql| Statement {
                    blocks_writes: false,
                    ..Statement::locking(sql.clone(), k, Run::Transaction, locks.clone(), work)
                })
                .collect()
        }
        other => {
            let table = match other {
                Operation::RenameModel { old, .. } => old.as_str(),
                _ => other.table().unwrap_or_default(),
            };
            all(with_referenced(AccessExclusive, table, other, before), Work::Catalog)
        }
    }
}

/// A change of an enumerated type's list. `ADD VALUE` runs in a transaction of its own,
/// committed before the statements after it: PostgreSQL refuses a value in the
/// transaction that added it (a default, a backfill, a data step). Building the type
/// again converts each table's columns (`ALTER TABLE ... TYPE`): a rewrite, under the
/// table's strongest lock.
fn alter_enum(plain: Vec<String>, k: usize) -> Vec<Statement> {
    plain
        .into_iter()
        .map(|sql| {
            if sql.starts_with("ALTER TYPE ") && sql.contains(" ADD VALUE ") {
                Statement::on_type(sql, k, Run::OwnTransaction)
            } else if let Some(table) = altered_table(&sql) {
                Statement::locking(sql, k, Run::Transaction, on(AccessExclusive, &table), Work::Rewrite)
            } else {
                Statement::on_type(sql, k, Run::Transaction)
            }
        })
        .collect()
}

/// The table of an `ALTER TABLE "name" ...` statement this module wrote.
fn altered_table(sql: &str) -> Option<String> {
    let rest = sql.strip_prefix("ALTER TABLE \"")?;
    let mut name = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.as_str().starts_with('"') => {
                chars.next();
                name.push('"');
            }
            '"' => return Some(name),
            c => name.push(c),
        }
    }
    None
}

/// What adding a foreign key takes: `SHARE ROW EXCLUSIVE` on its table, then on the
/// table it references.
fn both(table: &str, referenced: &str) -> Vec<TableLock> {
    let mut locks = on(ShareRowExclusive, table);
    if referenced != table {
        locks.push(TableLock::new(ShareRowExclusive, referenced));
    }
    locks
}

/// A concurrent index build: outside a transaction, writes go on while it scans.
fn concurrent_build(sql: String, k: usize, table: &str, index: &str) -> Statement {
    Statement {
        builds_index: Some(index.to_string()),
        ..Statement::locking(sql, k, Run::NoTransaction, on(ShareUpdateExclusive, table), Work::Scan)
    }
}

/// `VALIDATE CONSTRAINT`, in a transaction of its own: it scans the table while
/// writes go on.
fn validate(table: &str, name: &str, k: usize) -> Statement {
    Statement {
        blocks_writes: false,
        ..Statement::locking(
            format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", q(table), q(name)),
            k,
            Run::OwnTransaction,
            on(ShareUpdateExclusive, table),
            Work::Scan,
        )
    }
}

/// `NOT VALID` (new rows are checked from here on), then validated.
/// `ADD ... NOT VALID`, then `VALIDATE` while writes go on, unless the model keeps it
/// NOT VALID.
fn add_not_valid(table: &str, constraint: &Constraint, k: usize, lock: Vec<TableLock>) -> Vec<Statement> {
    let definition = constraint_def(constraint, D);
    let mut out = vec![Statement::brief(format!("ALTER TABLE {} ADD {definition} NOT VALID", q(table)), k, lock)];
    if !constraint.not_valid() {
        out.push(validate(table, constraint.name(), k));
    }
    out
}

fn add_constraint(table: &str, constraint: &Constraint, k: usize) -> Vec<Statement> {
    match constraint {
        Constraint::Unique(u) => vec![
            concurrent_build(create_index_concurrently(table, &u.as_index()), k, table, &u.name),
            Statement::brief(
                format!("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}", q(table), q(&u.name), q(&u.name)),
                k,
                on(AccessExclusive, table),
            ),
        ],
        Constraint::ForeignKey(fk) => add_not_valid(table, constraint, k, both(table, &fk.ref_table)),
        Constraint::Check(_) => add_not_valid(table, constraint, k, on(AccessExclusive, table)),
    }
}

/// Whether a value must be computed row by row: an expression PostgreSQL may call
/// volatile (anything with a call in it but the clock of the transaction).
fn is_volatile(value: &DefaultValue) -> bool {
    match &*value.on(crate::Dialect::Postgres) {
        DefaultValue::Expr(e) => e.contains('(') && e != "now()",
        _ => false,
    }
}

/// A new column whose existing rows need a value computed per row: adding it with that
/// default would rewrite the table under its strongest lock.
fn needs_backfill(column: &Column, fill: Option<&DefaultValue>) -> bool {
    let value = fill.or(column.default.as_ref());
    value.is_some_and(is_volatile) && !column.auto_increment
}

/// `UPDATE` a batch of the rows where `column` is NULL; repeated until none is left.
fn backfill(table: &str, column: &str, value: &str, k: usize) -> Statement {
    let (t, c) = (q(table), q(column));
    Statement {
        key_walk: super::KeyWalk::wanted(table, format!("UPDATE {t} SET {c} = {value} WHERE {c} IS NULL")),
        ..Statement::locking(
            format!(
                "UPDATE {t} SET {c} = {value} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE {c} IS NULL LIMIT {BATCH_ROWS}))"
            ),
            k,
            Run::Batches,
            on(RowExclusive, table),
            Work::Rows,
        )
    }
}

/// The name of the check that stands in for NOT NULL while it is validated.
fn not_null_check(table: &str, column: &str) -> String {
    crate::schema::names::fit(&format!("ck_{table}_{column}_not_null"))
}

/// `SET NOT NULL` without a scan under the strongest lock: the rows filled by `fill` (in
/// batches), a `CHECK (col IS NOT NULL)` added `NOT VALID` (from here on no row may be
/// written without a value), the rows written in between filled too, the check
/// validated while writes go on, then `SET NOT NULL`, which uses the validated check
/// instead of a scan, and the check dropped. (A `NOT VALID` check is checked on every
/// row written, updates included: added before the fill, it would make the updates of
/// rows not yet filled fail.)
fn set_not_null(table: &str, column: &Column, fill: Option<String>, k: usize) -> Vec<Statement> {
    let name = not_null_check(table, &column.name);
    let check = Check::new(&name, &format!("{} IS NOT NULL", q(&column.name)));
    let mut out = Vec::new();
    out.extend(fill.as_ref().map(|value| backfill(table, &column.name, value, k)));
    out.push(Statement::brief(
        format!("ALTER TABLE {} ADD {} NOT VALID", q(table), check_def(&check, D)),
        k,
        on(AccessExclusive, table),
    ));
    // (Only the rows written since the first fill: batches, not another walk of the key.)
    out.extend(fill.as_ref().map(|value| Statement { key_walk: None, ..backfill(table, &column.name, value, k) }));
    out.push(validate(table, &name, k));
    out.push(Statement::brief(
        format!("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", q(table), q(&column.name)),
        k,
        on(AccessExclusive, table),
    ));
    out.push(Statement::brief(
        format!("ALTER TABLE {} DROP CONSTRAINT {}", q(table), q(&name)),
        k,
        on(AccessExclusive, table),
    ));
    out
}

fn add_field_in_batches(table: &str, column: &Column, fill: Option<&DefaultValue>, k: usize) -> Vec<Statement> {
    let bare = Column { nullable: true, default: None, ..column.clone() };
    let mut out = vec![Statement::brief(
        format!("ALTER TABLE {} ADD COLUMN {}", q(table), column_line(&bare)),
        k,
        on(AccessExclusive, table),
    )];
    if let Some(d) = &column.default {
        out.push(Statement::brief(
            format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                q(table),
                q(&column.name),
                default_sql(d, &column.ty, D)
            ),
            k,
            on(AccessExclusive, table),
        ));
    }
    if column.comment.is_some() {
        let comment = column.comment.as_deref().map_or("NULL".into(), |c| quote_str(D, c));
        out.push(Statement::brief(
            format!("COMMENT ON COLUMN {}.{} IS {comment}", q(table), q(&column.name)),
            k,
            on(AccessExclusive, table),
        ));
    }
    let value = fill.or(column.default.as_ref()).map(|v| default_sql(v, &column.ty, D));
    if column.nullable {
        out.extend(value.map(|v| backfill(table, &column.name, &v, k)));
    } else {
        out.extend(set_not_null(table, column, value, k));
    }
    out
}

/// A type change PostgreSQL makes without touching the rows: a longer `varchar`, a
/// `varchar` to `text` or to `varchar` without a length, `text` and `varchar` without a
/// length either way, more digits before the point of a `numeric`.
pub(crate) fn binary_coercible(old: &ColumnType, new: &ColumnType) -> bool {
    use ColumnType::*;
    match (old, new) {
        (Varchar(a), Varchar(b)) => b >= a,
        (Varchar(_), Text | UnboundedVarchar) | (Text, UnboundedVarchar) | (UnboundedVarchar, Text) => true,
        (Cidr, Inet) => true,
        // citext's casts from and to text are binary (its extension says so).
        (Text | Varchar(_) | UnboundedVarchar, CiText) | (CiText, Text | UnboundedVarchar) => true,
        (Decimal { precision: p1, scale: s1 }, Decimal { precision: p2, scale: s2 }) => s1 == s2 && p2 >= p1,
        (a, b) => a == b,
    }
}

/// Whether changing `old` to `new` rewrites the table.
fn rewrites(old: &Column, new: &Column) -> bool {
    !binary_coercible(&old.ty, &new.ty) || (!old.auto_increment && new.auto_increment)
}

fn alter_field_online(
    table: &str,
    old: &Column,
    new: &Column,
    fill: Option<&DefaultValue>,
    k: usize,
) -> Vec<Statement> {
    let becomes_not_null = old.nullable && !new.nullable;
    // Everything but a new NOT NULL (which comes below), as the plain form says it.
    let kept = Column { nullable: new.nullable || becomes_not_null, ..new.clone() };
    let work = if rewrites(old, new) { Work::Rewrite } else { Work::Catalog };
    // The statements that may rewrite: the type change and a new identity.
    let this_column = format!("ALTER TABLE {} ALTER COLUMN {} ", q(table), q(&new.name));
    let mut out: Vec<Statement> = alter_field(table, old, &kept, None)
        .into_iter()
        .map(|sql| {
            let what = sql.strip_prefix(&this_column).unwrap_or_default();
            let work =
                if what.starts_with("TYPE ") || what.starts_with("ADD GENERATED ") { work } else { Work::Catalog };
            Statement::locking(sql, k, Run::Transaction, on(AccessExclusive, table), work)
        })
        .collect();
    if becomes_not_null {
        out.extend(set_not_null(table, new, fill.map(|v| default_sql(v, &new.ty, D)), k));
    }
    out
}
