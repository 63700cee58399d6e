//! A migration's statements as they run against a live database: the online form of
//! each change to a table that already holds rows, which statements must run outside a
//! transaction (or in one of their own), and what each one locks and reads.
//!
//! [`render`] gives the plain SQL of one operation: right for a table the
//! migration itself creates, and for running everything in one transaction. On a table
//! in use, PostgreSQL's plain `CREATE INDEX`, `ADD FOREIGN KEY` or `SET NOT NULL` block
//! writes (or reads) for as long as they scan the table; [`migration`] gives the forms
//! that do not (`CONCURRENTLY`, `NOT VALID` then `VALIDATE`, a validated check before
//! `SET NOT NULL`, backfills in short batches), and on MySQL asks for `LOCK=NONE` where
//! the server can give it and keeps foreign keys out of the way of a column change.

mod mysql;
mod postgres;

pub(crate) use postgres::binary_coercible;

use std::collections::BTreeSet;
use std::fmt;

use super::{render, RenderError};
use crate::dialect::Dialect;
use crate::operation::Operation;
use crate::schema::Schema;

/// How a statement runs with regard to transactions. Consecutive
/// [`Run::Transaction`] statements form one phase; each other statement is a phase of
/// its own, and progress is recorded after every phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// In a transaction with the statements around it.
    Transaction,
    /// After a commit, in a transaction of its own: `VALIDATE CONSTRAINT` scans the
    /// table under a lock that lets writes through, and must not inherit the stronger
    /// lock an earlier statement of the same transaction took.
    OwnTransaction,
    /// Outside any transaction (`CREATE INDEX CONCURRENTLY`): PostgreSQL refuses it in one.
    NoTransaction,
    /// Again and again, each time in a short transaction of its own, until it changes
    /// no row: a backfill in batches, which never holds many rows' locks at once.
    Batches,
}

/// What a statement does to the table while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Changes the catalog only: its lock is held for an instant.
    Catalog,
    /// Reads every row (to build an index or check a constraint).
    Scan,
    /// Rewrites every row into a new copy of the table.
    Rewrite,
    /// Changes rows (a backfill).
    Rows,
    /// Hand-written SQL: whatever it does.
    AsWritten,
}

/// One statement of a migration, with how it runs and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL.
    pub sql: String,
    /// How it runs with regard to transactions.
    pub run: Run,
    /// The lock it takes, in the database's words (`SHARE UPDATE EXCLUSIVE on "users"`).
    pub lock: String,
    /// What it does to the table while holding that lock.
    pub work: Work,
    /// Whether writes to the table wait while it works (not only for an instant).
    pub blocks_writes: bool,
    /// The index of the operation it belongs to, within the migration.
    pub operation: usize,
    /// The index a concurrent build creates: an interrupted build leaves it INVALID,
    /// and it is dropped before the build is tried again.
    pub builds_index: Option<String>,
}

impl Statement {
    fn new(sql: String, operation: usize, run: Run, lock: String, work: Work) -> Self {
        let blocks_writes = matches!(work, Work::Scan | Work::Rewrite) && run != Run::NoTransaction;
        Self { sql, run, lock, work, blocks_writes, operation, builds_index: None }
    }

    /// SQL that is run as it is, in the transaction: hand-written, or stored in the history.
    pub fn as_written(sql: String) -> Self {
        Self { blocks_writes: false, ..Self::new(sql, 0, Run::Transaction, "as written".into(), Work::AsWritten) }
    }

    /// A statement that changes the catalog only, under `lock`, in the transaction.
    fn brief(sql: String, operation: usize, lock: String) -> Self {
        Self::new(sql, operation, Run::Transaction, lock, Work::Catalog)
    }

    /// Whether it rewrites the table while writes wait: what a build asks a person to
    /// acknowledge.
    pub fn is_blocking_rewrite(&self) -> bool {
        self.work == Work::Rewrite && self.blocks_writes
    }

    /// One line that says how it runs and what it holds, for `sql` and `script` output.
    pub fn describe_for(&self, dialect: Dialect) -> String {
        let run = match self.run {
            Run::Transaction | Run::OwnTransaction if !dialect.transactional_ddl() => "commits on its own",
            Run::Transaction => "in the migration's transaction",
            Run::OwnTransaction => "in a transaction of its own",
            Run::NoTransaction => "outside a transaction",
            Run::Batches => "repeated in short transactions until no row changes",
        };
        let work = match (self.work, self.blocks_writes) {
            (Work::Catalog, _) => "catalog only, the lock is brief",
            (Work::Scan, false) => "reads every row; writes go on",
            (Work::Scan, true) => "reads every row; writes wait until it ends",
            (Work::Rewrite, true) => "REWRITES THE TABLE; writes wait until it ends",
            (Work::Rewrite, false) => "rewrites the table; writes go on",
            (Work::Rows, _) => "updates rows, a batch at a time",
            (Work::AsWritten, _) => "hand-written SQL",
        };
        format!("{run}; {}; {work}", self.lock)
    }
}

impl Statement {
    /// The statement after a comment line from [`Statement::describe_for`] (none for
    /// hand-written SQL, which says nothing about itself): what `sql` commands print.
    pub fn annotated(&self, dialect: Dialect) -> String {
        match self.work {
            Work::AsWritten => self.sql.clone(),
            _ => format!("-- {}\n{}", self.describe_for(dialect), self.sql),
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

/// What `op` does, in words, when it rewrites its table while writes wait on
/// PostgreSQL (and copies it on MySQL): most type changes, and an identity added to a
/// column. No online form avoids that; a build asks a person to acknowledge it, as it
/// does data loss.
pub fn blocking_rewrite(op: &Operation) -> Option<String> {
    match op {
        Operation::AlterField { table, old, new, .. } if old.ty != new.ty && !binary_coercible(&old.ty, &new.ty) => {
            Some(format!(
                "BLOCKING REWRITE: changes `{table}.{}` from {} to {}; PostgreSQL rewrites the table (MySQL copies it) while writes to it wait.",
                new.name, old.ty, new.ty
            ))
        }
        Operation::AlterField { table, old, new, .. } if new.auto_increment && !old.auto_increment => Some(format!(
            "BLOCKING REWRITE: numbers `{table}.{}` as an identity column; the table is rewritten while writes to it wait.",
            new.name
        )),
        Operation::AddField { table, column, .. } if column.auto_increment => Some(format!(
            "BLOCKING REWRITE: adds the identity column `{table}.{}`, which numbers every row; the table is rewritten while writes to it wait.",
            column.name
        )),
        _ => None,
    }
}

/// Whether the statements are run in their online forms (the default) or in the plain
/// forms that all fit in one transaction (`apply --atomic`, which trades the online forms
/// for all-or-nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forms {
    /// Changes to tables that hold rows do not block writes where the database allows.
    Online,
    /// Everything in one transaction; hand-written SQL that must run outside one is refused.
    OneTransaction,
}

/// The statements of a migration's operations `ops`, starting from the schema `before`,
/// as they run on a live `dialect` database (see the module's documentation).
///
/// A table the migration creates is empty: its statements keep their plain forms.
///
/// ```
/// use migrations_core::render::live::{migration, Forms, Run};
/// use migrations_core::schema::{Column, ColumnType, Index, Table};
/// use migrations_core::{Dialect, Operation, Schema};
///
/// let mut before = Schema::new();
/// let users = Table::new("users").field(Column::new("email", ColumnType::Text));
/// before.tables.insert("users".into(), users);
/// let index = Index { name: "ix_users_email".into(), columns: vec!["email".into()], unique: false, explicit_name: false };
/// let ops = [Operation::CreateIndex { table: "users".into(), index }];
/// let statements = migration(&ops, &before, Dialect::Postgres, Forms::Online)?;
/// assert_eq!(statements[0].sql, r#"CREATE INDEX CONCURRENTLY "ix_users_email" ON "users" ("email")"#);
/// assert_eq!(statements[0].run, Run::NoTransaction);
/// # Ok::<(), migrations_core::render::RenderError>(())
/// ```
pub fn migration(
    ops: &[Operation],
    before: &Schema,
    dialect: Dialect,
    forms: Forms,
) -> Result<Vec<Statement>, RenderError> {
    let mut schema = before.clone();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    // MySQL: the foreign keys a column change must move out of its way. Not a matter of
    // form: without it InnoDB refuses the change outright.
    let mut keys = mysql::KeysInTheWay::default();
    for (k, op) in ops.iter().enumerate() {
        match op {
            Operation::CreateModel { table } => {
                created.insert(table.name.clone());
            }
            Operation::RenameModel { old, new } if created.contains(old) => {
                created.insert(new.clone());
            }
            _ => {}
        }
        let fresh = op.table().is_none_or(|t| created.contains(t));
        let online = forms == Forms::Online && !fresh;
        let plain = render(op, &schema, dialect)?;
        let mut statements = match dialect {
            Dialect::Postgres => postgres::statements(op, k, plain, online),
            Dialect::MySql => mysql::statements(op, k, plain, online),
            Dialect::Sqlite => sqlite_statements(op, k, &schema, plain),
        };
        if fresh && !matches!(op, Operation::RunSql(_)) {
            // A table this migration creates holds no rows yet: nothing to scan or wait for.
            for s in &mut statements {
                s.work = Work::Catalog;
                s.blocks_writes = false;
            }
        }
        out.extend(statements);
        if dialect == Dialect::MySql {
            keys.note(k, op, &schema, &created);
        }
        schema.apply(op)?;
    }
    let out = keys.place(out);
    if forms == Forms::OneTransaction {
        if let Some(s) = out.iter().find(|s| s.run == Run::NoTransaction) {
            return Err(RenderError::Apply(crate::apply::ApplyError {
                operation: s.sql.clone(),
                reason: "it must run outside a transaction, and this run is one transaction (--atomic): apply without --atomic".into(),
            }));
        }
    }
    Ok(out)
}

/// SQLite: one writer at a time, so every statement holds the database's write lock; a
/// table rebuild copies every row.
fn sqlite_statements(op: &Operation, k: usize, before: &Schema, plain: Vec<String>) -> Vec<Statement> {
    let rebuild = super::sqlite_rebuilds_table(op, before);
    let work = match op {
        Operation::RunSql(_) => Work::AsWritten,
        _ if rebuild => Work::Rewrite,
        Operation::CreateIndex { .. } | Operation::AddConstraint { .. } => Work::Scan,
        _ => Work::Catalog,
    };
    plain
        .into_iter()
        .map(|sql| Statement::new(sql, k, Run::Transaction, "the database's write lock".into(), work))
        .collect()
}

/// The statements of hand-written SQL: outside a transaction when the migration says so,
/// or when PostgreSQL would refuse it inside one (`CONCURRENTLY`, `VACUUM`, ...).
fn run_sql_statements(sql: &crate::operation::RunSql, k: usize, dialect: Dialect) -> Vec<Statement> {
    sql.forward_sql(dialect)
        .iter()
        .map(|s| {
            let outside = dialect == Dialect::Postgres && (sql.outside_transaction || refuses_transaction(s));
            let run = if outside { Run::NoTransaction } else { Run::Transaction };
            Statement {
                blocks_writes: false,
                ..Statement::new(s.clone(), k, run, "as written".into(), Work::AsWritten)
            }
        })
        .collect()
}

/// Whether PostgreSQL refuses `sql` inside a transaction block, by its leading words.
pub fn refuses_transaction(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .take(5)
        .map(str::to_ascii_uppercase)
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
            | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
            | ["DROP", "INDEX", "CONCURRENTLY", ..]
            | ["REINDEX", .., "CONCURRENTLY", _]
            | ["REINDEX", _, "CONCURRENTLY", ..]
            | ["VACUUM", ..]
            | ["CREATE", "DATABASE", ..]
            | ["DROP", "DATABASE", ..]
            | ["ALTER", "SYSTEM", ..]
            | ["CREATE", "TABLESPACE", ..]
            | ["DROP", "TABLESPACE", ..]
    ) || (w.first() == Some(&"ALTER")
        && w.get(1) == Some(&"TABLE")
        && w.contains(&"DETACH")
        && w.contains(&"CONCURRENTLY"))
}

/// The phases of `statements`: ranges of indexes, each run in one transaction, or alone
/// outside one.
pub fn phases(runs: &[Run]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        match (run, out.last_mut()) {
            (Run::Transaction, Some(last)) if last.end == i && runs[last.start] == Run::Transaction => last.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_postgresql_refuses_in_a_transaction() {
        assert!(refuses_transaction("CREATE INDEX CONCURRENTLY ix ON t (a)"));
        assert!(refuses_transaction("create unique index concurrently ix on t (a)"));
        assert!(refuses_transaction("DROP INDEX CONCURRENTLY IF EXISTS ix"));
        assert!(refuses_transaction("REINDEX INDEX CONCURRENTLY ix"));
        assert!(refuses_transaction("VACUUM (ANALYZE) t"));
        assert!(!refuses_transaction("CREATE INDEX ix ON t (a)"));
        assert!(!refuses_transaction("UPDATE t SET note = 'CREATE INDEX CONCURRENTLY'"));
    }

    #[test]
    fn consecutive_transactional_statements_share_a_phase() {
        use Run::*;
        let runs = [Transaction, Transaction, NoTransaction, OwnTransaction, Transaction, Batches, Transaction];
        assert_eq!(phases(&runs), [0..2, 2..3, 3..4, 4..5, 5..6, 6..7]);
    }
}
