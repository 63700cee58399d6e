//! `migrate script`: the whole SQL of a range of migrations as one script, for a DBA who
//! reviews it and runs it by hand instead of letting the binary migrate itself. Running it
//! leaves the database exactly as `migrate apply` (or `rollback`) would: the same schema,
//! and the same rows in the history table, so the binary then finds nothing pending.

use migrations_core::dialect::quote_str;
use migrations_core::render::live::{phases, Forms, Run, Statement};
use std::time::Duration;

use migrations_core::apply::ApplyError;
use migrations_core::{Dialect, Operation, Schema};

use crate::error::MigrateError;
use crate::history::{self, STATEMENT_SEPARATOR};
use crate::schema::Steps;

use super::lock_wait::DEFAULT_LOCK_TIMEOUT;
use super::units::{render_error, statements_of, units_of, Unit};
use super::Migrator;

/// Which migrations a script covers: the database is at `from` before it runs and at `to`
/// after. Forward, `from` is the last migration already applied (`None`: none is) and
/// `to` the last one the script applies (`None`: the newest). Backward, `from` is the
/// newest migration applied (`None`: the newest there is) and `to` the last one that
/// stays (`None`: none does); the range is undone newest first. Also the options of
/// `migrate script` and `cargo chakra script`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ScriptRange {
    /// Where the database is before the script: the last migration applied, `id` or
    /// `app/id` (default: none; with --backward, the newest).
    #[cfg_attr(feature = "cli", arg(long))]
    pub from: Option<String>,
    /// Where it is after: the last migration applied (default: the newest; with
    /// --backward, none).
    #[cfg_attr(feature = "cli", arg(long))]
    pub to: Option<String>,
    /// Undo the range instead, newest first.
    #[cfg_attr(feature = "cli", arg(long))]
    pub backward: bool,
}

impl Migrator {
    /// The SQL script that takes a `dialect` database across `range`, history table
    /// statements included: running it leaves the database as `migrate apply` would. A migration with a
    /// Rust data step cannot be scripted (only the application can run it): the script is
    /// refused, naming it.
    ///
    /// ```
    /// # use migrations_runtime::{schema::*, EmbeddedMigration, Migrations, Migrator};
    /// # fn up(m: &mut Migration) {
    /// #     m.create_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # fn down(m: &mut Migration) {
    /// #     m.delete_model("notes");
    /// # }
    /// # static MIGRATIONS: Migrations = Migrations {
    /// #     app: "notes",
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// use migrations_runtime::{Dialect, ScriptRange};
    ///
    /// let script = Migrator::new(&MIGRATIONS).script(Dialect::Postgres, &ScriptRange::default())?;
    /// assert!(script.contains("CREATE TABLE \"notes\""));
    /// assert!(script.contains("INSERT INTO \"_chakra_migrations\""));
    /// # Ok::<(), migrations_runtime::MigrateError>(())
    /// ```
    pub fn script(&self, dialect: Dialect, range: &ScriptRange) -> Result<String, MigrateError> {
        let plan = self.plan()?;
        let names = |steps: Steps| (steps.0, steps.1.into_iter().map(|(_, name, _)| name.to_string()).collect());
        let scripted: Vec<Scripted<'_>> = plan
            .iter()
            .map(|p| Scripted {
                app: p.app,
                id: p.migration.id,
                checksum: p.migration.recorded_checksum(),
                up: Box::new(move |before: &Schema| p.migration.up_steps(before).map(names)),
                down: Box::new(move |after: &Schema| p.migration.down_steps(after).map(names)),
            })
            .collect();
        let lock_timeout = self.lock_waits().map(|w| w.lock_timeout).unwrap_or(DEFAULT_LOCK_TIMEOUT);
        script_of(dialect, &Schema::new(), &scripted, range, lock_timeout)
    }
}

/// One migration as a script reads it: which it is, what the history records for it, and
/// its steps met with a schema (the operations, and the names of its Rust data steps).
/// [`Migrator::script`] makes them from the embedded migrations; `cargo chakra script`
/// from the migration files, without a database or a build.
pub struct Scripted<'a> {
    /// Its app.
    pub app: &'a str,
    /// Its id.
    pub id: &'a str,
    /// The checksum the history records for it.
    pub checksum: &'a str,
    /// Its forward steps, met with the schema before it.
    pub up: StepsOf<'a>,
    /// Its backward steps, met with the schema after it.
    pub down: StepsOf<'a>,
}

/// The operations of one direction of a migration, and the names of its Rust data steps.
pub type ScriptSteps = (Vec<Operation>, Vec<String>);

/// One direction of a [`Scripted`] migration: its steps, met with a schema.
pub type StepsOf<'a> = Box<dyn Fn(&Schema) -> Result<ScriptSteps, ApplyError> + 'a>;

impl std::fmt::Debug for Scripted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripted").field("app", &self.app).field("id", &self.id).finish_non_exhaustive()
    }
}

impl Scripted<'_> {
    fn key(&self) -> String {
        format!("{}/{}", self.app, self.id)
    }
}

/// The SQL script that takes a `dialect` database across `range` of `migrations` (in the
/// order they apply, the first meeting `base`: empty, or the tables of other apps they
/// reference), history table statements included: what [`Migrator::script`] writes.
/// Statements wait at most `lock_timeout` for a lock.
pub fn script_of(
    dialect: Dialect,
    base: &Schema,
    migrations: &[Scripted<'_>],
    range: &ScriptRange,
    lock_timeout: Duration,
) -> Result<String, MigrateError> {
    let find = |id: &str| {
        migrations
            .iter()
            .position(|m| m.key() == id || m.id == id)
            .ok_or_else(|| MigrateError::Usage(format!("no migration `{id}` to script")))
    };
    // The lower end stays applied; the upper end is applied (or undone).
    let (lower, upper) = if range.backward { (&range.to, &range.from) } else { (&range.from, &range.to) };
    let start = match lower {
        Some(id) => find(id)? + 1,
        None => 0,
    };
    let end = match upper {
        Some(id) => find(id)? + 1,
        None => migrations.len(),
    };
    if end < start {
        return Err(MigrateError::Usage(format!(
            "the script's range is empty: `{}` comes before `{}`",
            upper.as_deref().unwrap_or_default(),
            lower.as_deref().unwrap_or_default()
        )));
    }
    let q = |s: &str| dialect.quote(s);
    let table = q(history::TABLE);
    let mut out = String::new();
    let direction = if range.backward { "undoes" } else { "applies" };
    let span = match migrations.get(start..end) {
        Some([first, .., last]) => format!("{} .. {}", first.key(), last.key()),
        Some([one]) => one.key(),
        _ => "no migration".to_string(),
    };
    out.push_str(&format!(
        "-- Chakra migrations: this script {direction} {span} on {dialect}, as `migrate {}` would,\n-- history table included. Run it in one session and stop at the first error\n-- (psql -v ON_ERROR_STOP=1 -f, mariadb < file, sqlite3 db < file).\n",
        if range.backward { "rollback" } else { "apply" }
    ));
    if dialect.transactional_ddl() {
        out.push_str("-- Each migration is one transaction; a failure keeps nothing of it.\n");
    } else {
        out.push_str("-- MySQL commits each DDL statement itself: after a failure, the statements before it stay.\n");
    }
    out.push('\n');
    out.push_str(&history::create_sql(dialect));
    out.push_str(";\n");
    let (begin, commit) = match dialect {
        Dialect::Postgres => {
            (format!("BEGIN;\nSET LOCAL lock_timeout = '{}ms';\n", lock_timeout.as_millis()), "COMMIT;\n")
        }
        Dialect::Sqlite => ("BEGIN IMMEDIATE;\n".to_string(), "COMMIT;\n"),
        Dialect::MySql => (
            format!(
                "SET SESSION lock_wait_timeout = {0}, SESSION innodb_lock_wait_timeout = {0};\n",
                lock_timeout.as_millis().div_ceil(1000).max(1)
            ),
            "",
        ),
    };
    match dialect {
        Dialect::MySql => out.push_str(&begin),
        // For what runs outside a transaction; each transaction sets its own as well.
        Dialect::Postgres => out.push_str(&format!("SET lock_timeout = '{}ms';\n", lock_timeout.as_millis())),
        Dialect::Sqlite => {}
    }
    // The schema before each migration of the range, and after the last.
    let mut schemas: Vec<Schema> = Vec::with_capacity(end + 1);
    schemas.push(base.clone());
    for m in &migrations[..end] {
        let before = schemas.last().cloned().unwrap_or_default();
        let (ops, _) = (m.up)(&before).map_err(render_error(m.key()))?;
        let mut after = before;
        after.apply_all(&ops).map_err(render_error(m.key()))?;
        schemas.push(after);
    }
    let order: Vec<usize> = if range.backward { (start..end).rev().collect() } else { (start..end).collect() };
    let mut first = true;
    for i in order {
        let p = &migrations[i];
        let key = p.key();
        let no_data_step = |(ops, data): ScriptSteps| -> Result<Vec<Operation>, MigrateError> {
            match data.first() {
                Some(name) => Err(MigrateError::Usage(format!(
                    "migration {key} has the Rust data step `{name}`, which only the application can run: a script cannot hold it; script up to the migration before it (`--to`), let the application apply {key}, then script on from it (`--from {key}`)"
                ))),
                None => Ok(ops),
            }
        };
        let (units, record) = if range.backward {
            let after = &schemas[i + 1];
            let down = no_data_step((p.down)(after).map_err(render_error(key.clone()))?)?;
            let units = units_of((down, Vec::new()), after, dialect, &key, Forms::Online)?;
            let delete = format!(
                "DELETE FROM {table} WHERE {} = {} AND {} = {}",
                q("app"),
                quote_str(dialect, p.app),
                q("id"),
                quote_str(dialect, p.id)
            );
            (units, delete)
        } else {
            let (before, after) = (&schemas[i], &schemas[i + 1]);
            let up = no_data_step((p.up)(before).map_err(render_error(key.clone()))?)?;
            let reverse = match (p.down)(after) {
                Ok((ops, data)) if data.is_empty() => statements_of(&ops, after, dialect, &key).ok(),
                _ => None,
            };
            let units = units_of((up, Vec::new()), before, dialect, &key, Forms::Online)?;
            (units, insert_row(dialect, p, reverse, first))
        };
        first = false;
        out.push_str(&format!("\n-- {key}\n"));
        let runs: Vec<Run> = units.iter().map(Unit::run).collect();
        let phased = dialect == Dialect::Postgres && runs.iter().any(|r| *r != Run::Transaction);
        if phased {
            out.push_str("-- In phases: what runs outside a transaction, or in one of its own, is marked.\n");
        }
        let all = phases(&runs);
        let mut recorded = false;
        for (n, range) in all.iter().enumerate() {
            let transaction =
                dialect.transactional_ddl() && !matches!(runs[range.start], Run::NoTransaction | Run::Batches);
            if transaction {
                out.push_str(&begin);
            }
            for unit in &units[range.clone()] {
                match unit {
                    Unit::Sql(s) => out.push_str(&script_statement(s, dialect)),
                    // A conversion check: what the runtime reads before the migration.
                    other => {
                        out.push_str(&other.to_string());
                        out.push_str(" (the runtime checks this first; check it by hand)\n");
                    }
                }
            }
            // The history row commits with the last phase, as `migrate apply` records it.
            if n + 1 == all.len() && (transaction || !dialect.transactional_ddl()) {
                out.push_str(&record);
                out.push_str(";\n");
                recorded = true;
            }
            if transaction {
                out.push_str(commit);
            }
        }
        if !recorded {
            // After a last phase that ran outside a transaction, or for a migration that
            // runs nothing here: a transaction of its own.
            if dialect.transactional_ddl() {
                out.push_str(&begin);
            }
            out.push_str(&record);
            out.push_str(";\n");
            out.push_str(commit);
        }
    }
    Ok(out)
}

/// One statement of a script. Outside a transaction it is marked; a backfill the runtime
/// runs in batches is, on PostgreSQL, a loop that commits after each batch, and on MySQL
/// (which has no such block outside a procedure) one statement over every row.
fn script_statement(s: &Statement, dialect: Dialect) -> String {
    if let Some(key) = &s.unchecked_key {
        return format!(
            "-- a foreign key added in place, which InnoDB does only with the checks off; the\n-- SELECT after it must return no row (a row references nothing: drop the key, fix\n-- the row, and add the key again):\nSET SESSION foreign_key_checks = 0;\n{};\nSET SESSION foreign_key_checks = 1;\n{};\n",
            s.sql, key.orphan
        );
    }
    match (s.run, dialect) {
        (Run::NoTransaction, Dialect::Postgres) => format!("-- outside a transaction:\n{};\n", s.sql),
        (Run::Batches, Dialect::Postgres) => format!(
            "-- a backfill in batches, each committed on its own:\nDO $chakra$\nBEGIN\n  LOOP\n    {};\n    EXIT WHEN NOT FOUND;\n    COMMIT;\n  END LOOP;\nEND\n$chakra$;\n",
            s.sql
        ),
        (Run::Batches, _) => {
            let all_rows = s.sql.rsplit_once(" LIMIT ").map_or(s.sql.as_str(), |(head, _)| head);
            format!("-- every row at once (the runtime fills them in batches):\n{all_rows};\n")
        }
        _ => format!("{};\n", s.sql),
    }
}

/// The history row `migrate apply` writes for `p`, as an `INSERT ... SELECT` from the
/// table itself, so the batch is the next one (the script's first migration) or the same
/// one (the others), and `applied_at` is the moment it runs, in the runtime's own format.
fn insert_row(dialect: Dialect, p: &Scripted<'_>, reverse: Option<Vec<String>>, first: bool) -> String {
    let q = |s: &str| dialect.quote(s);
    let now = match dialect {
        Dialect::Postgres => "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        Dialect::MySql => "CONCAT(LEFT(DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')",
        Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    };
    let batch = if first { "COALESCE(MAX(batch), 0) + 1" } else { "COALESCE(MAX(batch), 1)" };
    let reverse = match reverse {
        Some(r) => quote_str(dialect, &r.join(STATEMENT_SEPARATOR)),
        None => "NULL".to_string(),
    };
    format!(
        "INSERT INTO {} ({}, {}, {}, {}, {}, {}, {}, {}) SELECT {}, {}, {now}, {}, 0, {batch}, {reverse}, NULL FROM {}",
        q(history::TABLE),
        q("app"),
        q("id"),
        q("applied_at"),
        q("checksum"),
        q("execution_time_ms"),
        q("batch"),
        q("reverse_sql"),
        q("steps_done"),
        quote_str(dialect, p.app),
        quote_str(dialect, p.id),
        quote_str(dialect, p.checksum),
        q(history::TABLE),
    )
}
