//! What a migration runs, in order: SQL statements rendered against the schema they
//! meet, Rust data steps, and the checks that a column's values fit its new type; and
//! the helpers that run them (one at a time, or as one batch).

use migrations_core::render::live::{self, Forms, Run, Statement};
use migrations_core::render::render_all;
use migrations_core::{ColumnType, Dialect, Operation, Schema};

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::schema::DataStep;

/// One thing a migration runs: a SQL statement, or a Rust data step.
#[derive(Clone)]
pub(super) enum Unit {
    /// A statement, with how it runs (in the migration's transaction, outside one, in
    /// batches).
    Sql(Statement),
    Data(&'static str, DataStep),
    /// Every value of a column fits its new type: read before the migration changes
    /// anything (see [`migrations_core::conversion`]).
    Check(migrations_core::conversion::ConversionCheck),
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Sql(s) => f.write_str(&s.sql),
            Unit::Data(name, _) => write!(f, "-- Rust data step `{name}`"),
            Unit::Check(c) => write!(f, "-- check that every value of {}.{} fits {}", c.table, c.column, c.target),
        }
    }
}

impl Unit {
    /// SQL run as it is, in the transaction (stored reverse SQL).
    pub(super) fn as_written(sql: String) -> Self {
        Unit::Sql(Statement::as_written(sql))
    }

    /// How it runs: data steps and checks run in the migration's transaction.
    pub(super) fn run(&self) -> Run {
        match self {
            Unit::Sql(s) => s.run,
            Unit::Data(..) | Unit::Check(_) => Run::Transaction,
        }
    }
}

/// Whether a migration's units need more than one transaction (PostgreSQL): a statement
/// that runs outside one, in one of its own, or in batches.
pub(super) fn is_phased(units: &[Unit]) -> bool {
    units.iter().any(|u| u.run() != Run::Transaction)
}

pub(super) fn texts(units: &[Unit]) -> Vec<String> {
    units.iter().map(ToString::to_string).collect()
}

/// The units as `migrate sql` shows them: each statement after a comment that says how
/// it runs, what it locks and whether it reads or rewrites the table.
pub(super) fn described(units: &[Unit], dialect: Dialect) -> Vec<String> {
    units
        .iter()
        .map(|u| match u {
            Unit::Sql(s) => s.annotated(dialect),
            other => other.to_string(),
        })
        .collect()
}

/// A migration's operations that do not fit the schema they meet, as an error naming it.
pub(super) fn render_error(id: String) -> impl FnOnce(migrations_core::apply::ApplyError) -> MigrateError {
    move |e| MigrateError::Render { id, source: Box::new(e.into()) }
}

/// The statements and data steps of one direction of a migration, in order, each
/// statement rendered against the schema it meets, in the `forms` asked for.
pub(super) fn units_of(
    steps: (Vec<Operation>, Vec<(usize, &'static str, DataStep)>),
    before: &Schema,
    dialect: Dialect,
    id: &str,
    forms: Forms,
) -> Result<Vec<Unit>, MigrateError> {
    let (ops, data) = steps;
    // Only the tables these operations touch are copied, not the whole schema.
    let mut touched: Vec<String> = Vec::new();
    for op in &ops {
        for t in migrations_core::render::touched_tables(op, before) {
            if !touched.contains(&t) {
                touched.push(t);
            }
        }
    }
    let schema = before.subset(&touched);
    let statements = live::migration(&ops, &schema, dialect, forms)
        .map_err(|source| MigrateError::Render { id: id.to_string(), source: Box::new(source) })?;
    let first_data = data.iter().map(|(at, _, _)| *at).min().unwrap_or(usize::MAX);
    let mut units: Vec<Unit> =
        conversion_checks(&ops, first_data, before, dialect).into_iter().map(Unit::Check).collect();
    let mut data = data.into_iter().peekable();
    for statement in statements {
        while let Some((_, name, step)) = data.next_if(|(at, _, _)| *at <= statement.operation) {
            units.push(Unit::Data(name, step));
        }
        units.push(Unit::Sql(statement));
    }
    units.extend(data.map(|(_, name, step)| Unit::Data(name, step)));
    Ok(units)
}

/// The conversion checks `ops` need, each naming the table and column as they are
/// before the migration (a rename earlier in it is followed back), so that all of them
/// run before its first statement. A column the migration itself adds needs none.
///
/// A value an enumerated type loses is looked for likewise in each column of the type:
/// on PostgreSQL the values added before it are committed by then, so the row that
/// holds it must stop the migration before anything runs. Not after hand-written SQL or
/// a data step (from operation `first_data` on), which may have moved those rows.
pub(super) fn conversion_checks(
    ops: &[Operation],
    first_data: usize,
    before: &Schema,
    dialect: Dialect,
) -> Vec<migrations_core::conversion::ConversionCheck> {
    let mut checks = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        if let Operation::AlterEnum { .. } = op {
            let by_hand = k >= first_data || ops[..k].iter().any(|o| matches!(o, Operation::RunSql(_)));
            if !by_hand {
                checks.extend(enum_checks(&ops[..k], op, before, dialect));
            }
            continue;
        }
        let Operation::AlterField { table, old, new, .. } = op else { continue };
        let (table, column) = named_before(&ops[..k], table, &old.name);
        if before.table(&table).and_then(|t| t.column(&column)).is_none() {
            continue;
        }
        checks.extend(migrations_core::conversion::check_column(&table, &column, &old.ty, &new.ty, dialect));
    }
    checks
}

/// What `table.column` was called before `earlier` renamed it (or its table): the
/// checks run before the migration's first statement, on the names the database has.
fn named_before(earlier: &[Operation], table: &str, column: &str) -> (String, String) {
    let (mut table, mut column) = (table.to_string(), column.to_string());
    for op in earlier.iter().rev() {
        match op {
            Operation::RenameField { table: t, old, new } if *t == table && *new == column => column = old.clone(),
            Operation::RenameModel { old, new } if *new == table => table = old.clone(),
            _ => {}
        }
    }
    (table, column)
}

/// The checks that no row holds a value `change` (an `AlterEnum`) removes, in each
/// column of its type in `before`, with the values as they are called before `earlier`
/// renamed them.
fn enum_checks(
    earlier: &[Operation],
    change: &Operation,
    before: &Schema,
    dialect: Dialect,
) -> Vec<migrations_core::conversion::ConversionCheck> {
    let Operation::AlterEnum { name, from, to, renamed } = change else { return Vec::new() };
    let removed = migrations_core::schema::ValueChanges::between(from, to, renamed).removed;
    if removed.is_empty() {
        return Vec::new();
    }
    // The type's name before the migration (a rename earlier in it is followed back).
    let mut name_then = name.clone();
    for op in earlier.iter().rev() {
        if let Operation::RenameEnum { old, new } = op {
            if *new == name_then {
                name_then.clone_from(old);
            }
        }
    }
    // A value's name by the time of the change.
    let then = |value: &String| {
        let mut v = value.clone();
        for op in earlier {
            if let Operation::AlterEnum { name: n, renamed, .. } = op {
                if *n == *name || *n == name_then {
                    if let Some((_, new)) = renamed.iter().find(|(old, _)| *old == v) {
                        v = new.clone();
                    }
                }
            }
        }
        v
    };
    // The columns of the type when the change runs (a column dropped before it holds
    // nothing then), named as they are before the migration.
    let mut at_change = before.clone();
    if at_change.apply_all(earlier).is_err() {
        return Vec::new();
    }
    let mut checks = Vec::new();
    for (table, column, _) in at_change.enum_columns().filter(|(_, _, e)| e.name == *name) {
        let (table, column) = named_before(earlier, table, column);
        let Some(ty) = before.table(&table).and_then(|t| t.column(&column)).and_then(|c| c.ty.enum_type()) else {
            continue;
        };
        if ty.name != name_then {
            continue;
        }
        let kept = ty.values.iter().filter(|v| !removed.contains(&then(v))).cloned().collect();
        let target = ColumnType::Enum(migrations_core::schema::EnumType { name: name.to_string(), values: kept });
        checks.extend(migrations_core::conversion::check_column(
            &table,
            &column,
            &ColumnType::Enum(ty.clone()),
            &target,
            dialect,
        ));
    }
    checks
}

/// Runs the conversion checks among `units`; the first value that does not fit stops
/// the migration before any of its statements.
pub(super) async fn precheck<C: Connection>(conn: &mut C, key: &str, units: &[Unit]) -> Result<(), MigrateError> {
    for unit in units {
        let Unit::Check(check) = unit else { continue };
        let values = conn
            .query_text(&check.sql)
            .await
            .map_err(MigrateError::db(&format!("reading {}.{} to check its new type", check.table, check.column)))?;
        if let Some(value) = check.first_misfit(values.iter().map(String::as_str)) {
            return Err(MigrateError::Misfit {
                id: key.to_string(),
                table: check.table.clone(),
                column: check.column.clone(),
                target: check.target.to_string(),
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

pub(super) fn statements_of(
    ops: &[Operation],
    before: &Schema,
    dialect: Dialect,
    id: &str,
) -> Result<Vec<String>, MigrateError> {
    let touched: Vec<String> = ops.iter().flat_map(|op| migrations_core::render::touched_tables(op, before)).collect();
    let before = &before.subset(&touched);
    render_all(ops, before, dialect)
        .map(|(sql, _)| sql)
        .map_err(|source| MigrateError::Render { id: id.to_string(), source: Box::new(source) })
}

/// What a SQLite table rebuild would lose, as the `CREATE` statements that bring it
/// back: the triggers of every table the units rebuild, and the indexes the migration
/// knows nothing about (hand-written or adopted: partial and expression indexes). An
/// index the migration's own SQL names is the rebuild's business (re-created from the
/// models, or dropped).
pub(super) async fn saved_dependents<C: Connection>(conn: &mut C, units: &[Unit]) -> Result<Vec<String>, sqlx::Error> {
    let mut saved = Vec::new();
    // A table rebuilt twice (a foreign key dropped, then added back) is read once.
    let mut tables = rebuilt_tables(units);
    tables.sort();
    tables.dedup();
    for table in tables {
        for (name, sql) in conn.dependents_of(&table).await? {
            // CREATE [TEMP] TRIGGER ...
            let trigger = sql.split_whitespace().take(3).any(|w| w.eq_ignore_ascii_case("TRIGGER"));
            let quoted = Dialect::Sqlite.quote(&name);
            let named = units.iter().any(|u| matches!(u, Unit::Sql(s) if s.sql.contains(&quoted)));
            if trigger || !named {
                saved.push(sql);
            }
        }
    }
    Ok(saved)
}

/// Re-creates the triggers and indexes a rebuild dropped; one that no longer fits (it
/// uses a column the migration removes) stops the migration.
pub(super) async fn restore_dependents<C: Connection>(
    conn: &mut C,
    key: &str,
    saved: &[String],
) -> Result<(), MigrateError> {
    for sql in saved {
        if let Err(e) = conn.execute(sql).await {
            return Err(MigrateError::Usage(format!(
                "migration {key} rebuilt a table, and a trigger or index of it could not be re-created, so nothing of the migration was kept:\n  {sql}\n  the database said: {e}\n  drop or change it in an earlier migration"
            )));
        }
    }
    Ok(())
}

/// The tables a SQLite table rebuild recreates (`CREATE TABLE "_chakra_new_<name>"`).
pub(super) fn rebuilt_tables(units: &[Unit]) -> Vec<String> {
    const PREFIX: &str = "CREATE TABLE \"_chakra_new_";
    units
        .iter()
        .filter_map(|u| match u {
            Unit::Sql(s) => s.sql.strip_prefix(PREFIX),
            Unit::Data(..) | Unit::Check(_) => None,
        })
        .map(|rest| {
            let mut name = String::new();
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                name.push(c);
            }
            name
        })
        .collect()
}

pub(super) async fn run_unit<C: Connection>(conn: &mut C, unit: &Unit) -> Result<(), sqlx::Error> {
    match unit {
        // A backfill in batches: each batch commits on its own, until none is left.
        Unit::Sql(s) if s.run == Run::Batches => {
            if let Some(walk) = &s.key_walk {
                walk_keys(conn, walk).await?;
            }
            while conn.execute_rows(&s.sql).await? > 0 {}
            Ok(())
        }
        Unit::Sql(s) => match &s.unchecked_key {
            Some(key) => super::mysql_keys::add_unchecked(conn, &s.sql, key).await,
            None => conn.execute(&s.sql).await,
        },
        Unit::Data(_, step) => step(conn.data()).await,
        // Run by `precheck` before the first statement.
        Unit::Check(_) => Ok(()),
    }
}

/// Runs a backfill one range of the table's keys at a time, from the smallest key to
/// the largest there when it starts, each range ending at the key [`live::BATCH_ROWS`] rows
/// on (read from the key's index, so sparse keys cost no empty ranges); each range
/// commits on its own.
async fn walk_keys<C: Connection>(conn: &mut C, walk: &live::KeyWalk) -> Result<(), sqlx::Error> {
    let dialect = conn.dialect();
    let (t, k) = (dialect.quote(&walk.table), dialect.quote(&walk.key));
    let text = if dialect == Dialect::MySql { "CHAR" } else { "TEXT" };
    // ('' for an empty table.)
    let bound = |f: &str| format!("SELECT COALESCE(CAST({f}({k}) AS {text}), '') FROM {t}");
    let read = |rows: Vec<String>| rows.first().and_then(|v| v.parse::<i64>().ok());
    let (Some(mut low), Some(high)) =
        (read(conn.query_text(&bound("MIN")).await?), read(conn.query_text(&bound("MAX")).await?))
    else {
        return Ok(());
    };
    loop {
        let end = format!(
            "SELECT CAST({k} AS {text}) FROM {t} WHERE {k} >= {low} ORDER BY {k} LIMIT 1 OFFSET {}",
            live::BATCH_ROWS - 1
        );
        let last = read(conn.query_text(&end).await?).map_or(high, |e| e.min(high));
        conn.execute_rows(&format!("{} AND {k} BETWEEN {low} AND {last}", walk.update)).await?;
        if last >= high {
            return Ok(());
        }
        low = last + 1;
    }
}

/// Runs `statements` in one round trip, inside a savepoint of the transaction they run
/// in. `Ok(false)` when one of them failed: the savepoint is undone, nothing of the batch
/// is left, and the caller runs them one at a time to name the one that fails. A batch
/// that gave up waiting for another session's lock is not run again one at a time (that
/// would wait again, with the table's users queued behind it): it is a
/// [`MigrateError::Statement`] of migration `key`, whose `state` says what is kept.
pub(super) async fn run_batch<'s, C: Connection>(
    conn: &mut C,
    key: &str,
    state: &str,
    statements: impl IntoIterator<Item = &'s str>,
) -> Result<bool, MigrateError> {
    let mut sql = String::from("SAVEPOINT chakra_batch;\n");
    let mut count = 0;
    for statement in statements {
        sql.push_str(statement);
        sql.push_str(";\n");
        count += 1;
    }
    sql.push_str("RELEASE chakra_batch");
    let failure = match conn.execute(&sql).await {
        Ok(()) => return Ok(true),
        Err(e) => e,
    };
    conn.execute("ROLLBACK TO chakra_batch").await.map_err(MigrateError::db("undoing a failed batch"))?;
    conn.execute("RELEASE chakra_batch").await.map_err(MigrateError::db("undoing a failed batch"))?;
    if conn.is_lock_conflict(&failure) {
        let body = sql.strip_prefix("SAVEPOINT chakra_batch;\n").unwrap_or(&sql);
        return Err(MigrateError::Statement {
            id: key.to_string(),
            index: 1,
            count,
            statement: body.strip_suffix("RELEASE chakra_batch").unwrap_or(body).trim_end().to_string(),
            source: Box::new(failure),
            state: state.to_string(),
        });
    }
    Ok(false)
}
