//! A migration's statements as they run against a live database: the online form of
//! each change to a table that already holds rows, which statements must run outside a
//! transaction (or in one of their own), and what each one locks and reads.
//!
//! [`render`](super::render) gives the plain SQL of one operation: right for a table the
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

use super::RenderError;
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
    /// `LOCK TABLE`: takes, before anything else, the locks the transaction's
    /// statements take on more than one table, referencing tables first (see
    /// [`migration`]).
    Locks,
}

/// A table-level lock of PostgreSQL, weakest first (the ones a migration takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockMode {
    /// Taken by reads, and on the tables it reads by `CREATE VIEW`: conflicts only with
    /// `ACCESS EXCLUSIVE`.
    AccessShare,
    /// Taken by `UPDATE`: conflicts with `SHARE` and stronger.
    RowExclusive,
    /// Taken by `VALIDATE CONSTRAINT` and concurrent index builds: lets writes through.
    ShareUpdateExclusive,
    /// Taken by a plain `CREATE INDEX`: blocks writes, lets reads through.
    Share,
    /// Taken by `ADD FOREIGN KEY` on both tables: blocks writes, lets reads through.
    ShareRowExclusive,
    /// Taken by most of `ALTER TABLE`: blocks reads and writes.
    AccessExclusive,
}

impl LockMode {
    /// The mode as `LOCK TABLE ... IN <mode> MODE` and the documentation spell it.
    pub fn sql(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// The weakest mode that conflicts with everything either of the two does: the one
    /// to take first when a transaction takes both.
    pub fn with(self, other: LockMode) -> LockMode {
        use LockMode::*;
        match (self.min(other), self.max(other)) {
            // Neither covers the other: SHARE lets other SHAREs in, which ROW EXCLUSIVE
            // and SHARE UPDATE EXCLUSIVE do not.
            (RowExclusive | ShareUpdateExclusive, Share) => ShareRowExclusive,
            (_, stronger) => stronger,
        }
    }
}

/// A lock a statement takes on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLock {
    /// The mode.
    pub mode: LockMode,
    /// The table.
    pub table: String,
}

impl TableLock {
    /// `mode` on `table`.
    pub fn new(mode: LockMode, table: &str) -> Self {
        TableLock { mode, table: table.to_string() }
    }
}

/// The locks in the database's words: `SHARE ROW EXCLUSIVE on "orders" and "accounts"`.
fn describe_locks(locks: &[TableLock], dialect: Dialect) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut k = 0;
    while k < locks.len() {
        let mode = locks[k].mode;
        let tables: Vec<String> =
            locks[k..].iter().take_while(|l| l.mode == mode).map(|l| dialect.quote(&l.table)).collect();
        k += tables.len();
        parts.push(format!("{} on {}", mode.sql(), tables.join(" and ")));
    }
    parts.join(", ")
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
    /// PostgreSQL: the table locks it takes, in the order it takes them (the tables
    /// that reference others first). Empty elsewhere, and for hand-written SQL.
    pub locks: Vec<TableLock>,
    /// What it does to the table while holding that lock.
    pub work: Work,
    /// Whether writes to the table wait while it works (not only for an instant).
    pub blocks_writes: bool,
    /// The index of the operation it belongs to, within the migration.
    pub operation: usize,
    /// The index a concurrent build creates: an interrupted build leaves it INVALID,
    /// and it is dropped before the build is tried again.
    pub builds_index: Option<String>,
    /// MySQL: a foreign key added in place, whose rows the runtime checks itself.
    pub unchecked_key: Option<UncheckedKey>,
    /// A backfill in batches walked along the table's integer primary key first.
    pub key_walk: Option<KeyWalk>,
}

/// Rows a batch of a backfill changes, on every database (and a range of a
/// [`KeyWalk`] covers): small enough that a batch takes milliseconds.
pub const BATCH_ROWS: usize = 5000;

/// A backfill walked along the table's primary key, one range of keys at a time, each
/// in a short transaction of its own, before its batch statement runs until no row
/// changes (which catches the rows written meanwhile). A batch that looks for the next
/// rows to fill from the start of the table reads, by the end, the table again for every
/// batch (quadratic on a large table); a range of keys is found through the key's
/// index, and ends a batch of rows on (not a number of key values: keys may be far
/// apart). Only for a table whose primary key is one integer column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWalk {
    /// The table.
    pub table: String,
    /// Its key column.
    pub key: String,
    /// The `UPDATE ... WHERE <rows to fill>` that a range of keys is added to
    /// (`AND key BETWEEN lo AND hi`).
    pub update: String,
}

impl KeyWalk {
    /// A walk the renderer asks for, its key found by [`migration`] in the schema.
    fn wanted(table: &str, update: String) -> Option<KeyWalk> {
        Some(KeyWalk { table: table.to_string(), key: String::new(), update })
    }

    /// The walk for `update` (an `UPDATE ... WHERE ...` of `table`), when the table's
    /// primary key in `schema` is one integer column.
    fn along_key(schema: &Schema, table: &str, update: String) -> Option<KeyWalk> {
        let t = schema.table(table)?;
        let [key] = t.primary_key.as_slice() else { return None };
        let integer = matches!(
            t.column(key)?.ty,
            crate::schema::ColumnType::SmallInt
                | crate::schema::ColumnType::Integer
                | crate::schema::ColumnType::BigInt
        );
        integer.then(|| KeyWalk { table: table.to_string(), key: key.clone(), update })
    }
}

/// MySQL/MariaDB: a foreign key added without copying the table. InnoDB adds one in
/// place (writes go on) only with `foreign_key_checks` off, and then does not check the
/// rows already there; so the runtime runs the `ALTER` with the setting off for that
/// statement alone, then looks for a row that references nothing, and if it finds one
/// drops the key again and fails, naming the row. What is left is what was there before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncheckedKey {
    /// The table that holds the key.
    pub table: String,
    /// The key's name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<String>,
    /// The table it references.
    pub ref_table: String,
    /// The columns it references.
    pub ref_columns: Vec<String>,
    /// A `SELECT` of the first row that references nothing: its key columns as text.
    pub orphan: String,
}

impl UncheckedKey {
    /// The key `fk` of `table`, with the query that finds a row it does not hold for.
    /// A row with a NULL in any key column is not checked (MySQL's `MATCH SIMPLE`).
    pub fn new(table: &str, fk: &crate::schema::ForeignKey) -> Self {
        let d = Dialect::MySql;
        let cols: Vec<String> = fk.columns.iter().map(|c| format!("c.{}", d.quote(c))).collect();
        let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let joined: Vec<String> =
            fk.ref_columns.iter().zip(&cols).map(|(r, c)| format!("p.{} = {c}", d.quote(r))).collect();
        let orphan = format!(
            "SELECT CAST(CONCAT_WS(', ', {}) AS CHAR) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {}) LIMIT 1",
            cols.join(", "),
            d.quote(table),
            not_null.join(" AND "),
            d.quote(&fk.ref_table),
            joined.join(" AND ")
        );
        UncheckedKey {
            table: table.to_string(),
            name: fk.name.clone(),
            columns: fk.columns.clone(),
            ref_table: fk.ref_table.clone(),
            ref_columns: fk.ref_columns.clone(),
            orphan,
        }
    }
}

impl Statement {
    fn new(sql: String, operation: usize, run: Run, lock: String, work: Work) -> Self {
        let blocks_writes = matches!(work, Work::Scan | Work::Rewrite) && run != Run::NoTransaction;
        Self {
            sql,
            run,
            lock,
            locks: Vec::new(),
            work,
            blocks_writes,
            operation,
            builds_index: None,
            unchecked_key: None,
            key_walk: None,
        }
    }

    /// A PostgreSQL statement that takes `locks`.
    fn locking(sql: String, operation: usize, run: Run, locks: Vec<TableLock>, work: Work) -> Self {
        let lock = describe_locks(&locks, Dialect::Postgres);
        Self { locks, ..Self::new(sql, operation, run, lock, work) }
    }

    /// SQL that is run as it is, in the transaction: hand-written, or stored in the history.
    pub fn as_written(sql: String) -> Self {
        Self { blocks_writes: false, ..Self::new(sql, 0, Run::Transaction, "as written".into(), Work::AsWritten) }
    }

    /// A PostgreSQL statement on a type (`CREATE TYPE`, `ALTER TYPE`): it locks the type,
    /// not a table.
    fn on_type(sql: String, operation: usize, run: Run) -> Self {
        Self::new(sql, operation, run, "no table lock".into(), Work::Catalog)
    }

    /// A statement that changes the catalog only, under `lock`, in the transaction.
    fn brief(sql: String, operation: usize, locks: Vec<TableLock>) -> Self {
        Self::locking(sql, operation, Run::Transaction, locks, Work::Catalog)
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
            (Work::Locks, _) => {
                "held to the end of the transaction, taken first and tables that reference others first, so that writers are not deadlocked"
            }
        };
        if self.key_walk.is_some() {
            return format!(
                "a range of keys at a time, each in a short transaction, then repeated until no row changes; {}; {work}",
                self.lock
            );
        }
        match self.unchecked_key {
            Some(_) => format!(
                "{run}; {}; {work}; then the runtime looks for a row that references nothing, and drops the key again if it finds one",
                self.lock
            ),
            None => format!("{run}; {}; {work}", self.lock),
        }
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
        Operation::AlterEnum { name, from, to, renamed }
            if !crate::schema::ValueChanges::between(from, to, renamed).in_place() =>
        {
            Some(format!(
                "BLOCKING REWRITE: removes or reorders values of enum `{name}`; PostgreSQL builds the type again and rewrites every table with a column of it (MySQL copies them, SQLite rebuilds them) while writes to them wait. A row that still holds a removed value makes it fail, and nothing changes."
            ))
        }
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
/// A table the migration creates is empty: its statements keep their plain forms. On
/// PostgreSQL, a transaction whose statements lock more than one table starts with
/// `LOCK TABLE` for all of them, tables that reference others first, so that it never
/// holds one while it waits for another (and deadlocks a writer that holds that one).
///
/// ```
/// use migrations_core::render::live::{migration, Forms, Run};
/// use migrations_core::schema::{Column, ColumnType, Index, Table};
/// use migrations_core::{Dialect, Operation, Schema};
///
/// let mut before = Schema::new();
/// let users = Table::new("users").field(Column::new("email", ColumnType::Text));
/// before.tables.insert("users".into(), users);
/// let index = Index { name: "ix_users_email".into(), columns: vec!["email".into()], unique: false, explicit_name: false, ..Index::default() };
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
    // PostgreSQL: which tables reference which (at any point of the migration), and the
    // tables that are not there when it starts; see `lock_tables_first`.
    let mut references = references_of(before);
    let mut not_there_yet: BTreeSet<String> = BTreeSet::new();
    for (k, op) in ops.iter().enumerate() {
        match op {
            Operation::CreateModel { table } => {
                created.insert(table.name.clone());
                not_there_yet.insert(table.name.clone());
            }
            Operation::RenameModel { old, new } => {
                if created.contains(old) {
                    created.insert(new.clone());
                }
                not_there_yet.insert(new.clone());
            }
            // (A view over a view this migration creates is not there to lock first.)
            Operation::CreateView { view } => {
                not_there_yet.insert(view.name.clone());
            }
            _ => {}
        }
        let fresh = match op {
            // A change of an enumerated type's list changes the tables with a column of it.
            Operation::AlterEnum { name, .. } => {
                schema.enum_columns().all(|(table, _, e)| e.name != *name || created.contains(table))
            }
            _ => op.table().is_none_or(|t| created.contains(t)),
        };
        let online = forms == Forms::Online && !fresh;
        let plain = super::render_dialect(op, &schema, dialect)?;
        // PostgreSQL: the enumerated types the operation brings into use and leaves unused.
        let (create_types, drop_types) = super::enum_types_around(op, &schema, dialect);
        let type_statement = |sql: String| Statement::on_type(sql, k, Run::Transaction);
        let mut statements = match dialect {
            _ if matches!(op, Operation::CreateRaw { .. } | Operation::DropRaw { .. }) => {
                raw_statements(plain, k, dialect)
            }
            Dialect::Postgres => postgres::statements(op, k, plain, online, &schema),
            Dialect::MySql => mysql::statements(op, k, plain, online),
            Dialect::Sqlite => sqlite_statements(op, k, &schema, plain),
        };
        for s in &mut statements {
            if let Some(wanted) = s.key_walk.take() {
                s.key_walk = KeyWalk::along_key(&schema, &wanted.table, wanted.update);
            }
        }
        if fresh && !op.is_hand_written() {
            // A table this migration creates holds no rows yet: nothing to scan or wait for.
            for s in &mut statements {
                s.work = Work::Catalog;
                s.blocks_writes = false;
            }
        }
        // The views a change under them needs out of the way: dropped just before it and
        // created again just after, in its transaction.
        let views = super::views_in_the_way(op, &schema, dialect);
        // (On PostgreSQL the change holds its table's strongest lock already.)
        let view_statement = |sql: String| match dialect {
            Dialect::Postgres => {
                let table = op.table().unwrap_or_default();
                Statement::locking(
                    sql,
                    k,
                    Run::Transaction,
                    vec![TableLock::new(LockMode::AccessExclusive, table)],
                    Work::Catalog,
                )
            }
            _ => Statement::new(sql, k, Run::Transaction, "the database's write lock".into(), Work::Catalog),
        };
        out.extend(views.iter().rev().map(|v| view_statement(super::common::drop_view(v, dialect))));
        out.extend(create_types.into_iter().map(type_statement));
        out.extend(statements);
        out.extend(drop_types.into_iter().map(type_statement));
        out.extend(views.iter().map(|v| view_statement(super::common::create_view(v, dialect))));
        if dialect == Dialect::MySql {
            keys.note(k, op, &schema, &created);
        }
        schema.apply(op)?;
        if let Operation::AddConstraint { table, constraint: crate::schema::Constraint::ForeignKey(fk) } = op {
            references.insert((table.clone(), fk.ref_table.clone()));
        }
    }
    let mut out = keys.place(out);
    if dialect == Dialect::Postgres {
        out = lock_tables_first(out, &references, &not_there_yet);
    }
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

/// The pairs (referencing table, referenced table) of the foreign keys of `schema`.
fn references_of(schema: &Schema) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for table in schema.tables.values() {
        for fk in &table.foreign_keys {
            pairs.insert((table.name.clone(), fk.ref_table.clone()));
        }
    }
    pairs
}

/// PostgreSQL: each transaction whose statements lock more than one table takes all of
/// those locks first (`LOCK TABLE`), each table in the strongest mode the transaction
/// takes it in, tables that reference others before the tables they reference.
///
/// Taken one statement at a time, the locks of a transaction deadlock the application:
/// the migration holds `accounts` (it dropped a column) and waits for `orders` (to drop a
/// foreign key) while a writer's `INSERT INTO orders` holds `orders` and waits for
/// `accounts` (to check its key). Taken first, while the migration holds nothing yet,
/// and in the order the writers of a foreign key take them (the referencing table, then
/// the referenced one), they make the migration wait its turn instead.
fn lock_tables_first(
    statements: Vec<Statement>,
    references: &BTreeSet<(String, String)>,
    not_there_yet: &BTreeSet<String>,
) -> Vec<Statement> {
    let runs: Vec<Run> = statements.iter().map(|s| s.run).collect();
    let mut starts: Vec<(usize, Vec<Statement>)> = Vec::new();
    for range in phases(&runs) {
        if runs[range.start] != Run::Transaction {
            continue;
        }
        // A statement alone takes its own locks in the right order.
        if statements[range.clone()].iter().filter(|s| !s.locks.is_empty()).count() < 2 {
            continue;
        }
        let mut held: Vec<TableLock> = Vec::new();
        for lock in statements[range.clone()].iter().flat_map(|s| &s.locks) {
            if not_there_yet.contains(&lock.table) {
                continue;
            }
            match held.iter_mut().find(|h| h.table == lock.table) {
                Some(h) => h.mode = h.mode.with(lock.mode),
                None => held.push(lock.clone()),
            }
        }
        if held.len() < 2 {
            continue;
        }
        let held = referencing_first(held, references);
        let operation = statements[range.start].operation;
        let mut locks = Vec::new();
        let mut k = 0;
        while k < held.len() {
            let group: Vec<TableLock> = held[k..].iter().take_while(|l| l.mode == held[k].mode).cloned().collect();
            k += group.len();
            let tables: Vec<String> = group.iter().map(|l| Dialect::Postgres.quote(&l.table)).collect();
            let sql = format!("LOCK TABLE {} IN {} MODE", tables.join(", "), group[0].mode.sql());
            locks.push(Statement::locking(sql, operation, Run::Transaction, group, Work::Locks));
        }
        starts.push((range.start, locks));
    }
    let mut out = Vec::with_capacity(statements.len() + starts.len());
    let mut starts = starts.into_iter().peekable();
    for (i, statement) in statements.into_iter().enumerate() {
        if let Some((_, locks)) = starts.next_if(|(at, _)| *at == i) {
            out.extend(locks);
        }
        out.push(statement);
    }
    out
}

/// `held` ordered so that a table comes before every table it references (in the order
/// they were first locked, where that leaves a choice; a cycle of references keeps it).
fn referencing_first(held: Vec<TableLock>, references: &BTreeSet<(String, String)>) -> Vec<TableLock> {
    let mut left = held;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        // The first table that no table still left references.
        let referenced = |t: &str| {
            left.iter().any(|other| other.table != t && references.contains(&(other.table.clone(), t.to_string())))
        };
        let next = left.iter().position(|l| !referenced(&l.table)).unwrap_or(0);
        out.push(left.remove(next));
    }
    out
}

/// SQLite: one writer at a time, so every statement holds the database's write lock; a
/// table rebuild copies every row.
fn sqlite_statements(op: &Operation, k: usize, before: &Schema, plain: Vec<String>) -> Vec<Statement> {
    let rebuild = super::sqlite_rebuilds_table(op, before);
    let work = match op {
        _ if op.is_hand_written() => Work::AsWritten,
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

/// The statements of an object made by hand-written SQL (`m.create_raw`): as written,
/// outside a transaction where PostgreSQL refuses one (`CREATE INDEX CONCURRENTLY`).
fn raw_statements(plain: Vec<String>, k: usize, dialect: Dialect) -> Vec<Statement> {
    plain
        .into_iter()
        .map(|s| {
            let run = if dialect == Dialect::Postgres && refuses_transaction(&s) {
                Run::NoTransaction
            } else {
                Run::Transaction
            };
            Statement { blocks_writes: false, ..Statement::new(s, k, run, "as written".into(), Work::AsWritten) }
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
    fn lock_modes_combine_into_one_that_covers_both() {
        use LockMode::*;
        assert_eq!(Share.with(RowExclusive), ShareRowExclusive);
        assert_eq!(ShareUpdateExclusive.with(Share), ShareRowExclusive);
        assert_eq!(RowExclusive.with(ShareUpdateExclusive), ShareUpdateExclusive);
        assert_eq!(ShareRowExclusive.with(AccessExclusive), AccessExclusive);
        assert_eq!(Share.with(Share), Share);
    }

    /// The deadlock of a rollback seen under load: a column of `accounts` dropped, then
    /// the foreign key of `orders` to it. Both locks are taken first, `orders` before
    /// `accounts`, and the drop of the key says it locks both.
    #[test]
    fn a_transaction_on_two_tables_locks_the_referencing_one_first() {
        use crate::schema::{Column, ColumnType, ForeignKey, Table};
        let mut before = Schema::new();
        let accounts = Table::new("accounts")
            .field(Column::new("id", ColumnType::BigInt))
            .field(Column::new("token", ColumnType::Uuid).nullable())
            .primary_key(&["id"]);
        let fk = ForeignKey::new("fk_orders_account_id_accounts", &["account_id"], "accounts", &["id"]);
        let orders = Table::new("orders").field(Column::new("account_id", ColumnType::BigInt));
        let orders = Table { foreign_keys: vec![fk.clone()], ..orders };
        before.tables.insert("accounts".into(), accounts.clone());
        before.tables.insert("orders".into(), orders);
        let ops = [
            Operation::RemoveField { table: "accounts".into(), column: accounts.columns[1].clone() },
            Operation::RemoveConstraint {
                table: "orders".into(),
                constraint: crate::schema::Constraint::ForeignKey(fk),
            },
        ];
        let statements = migration(&ops, &before, Dialect::Postgres, Forms::Online).unwrap();
        let sql: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                r#"LOCK TABLE "orders", "accounts" IN ACCESS EXCLUSIVE MODE"#,
                r#"ALTER TABLE "accounts" DROP COLUMN "token""#,
                r#"ALTER TABLE "orders" DROP CONSTRAINT "fk_orders_account_id_accounts""#,
            ]
        );
        assert_eq!(statements[0].work, Work::Locks);
        assert_eq!(statements[2].lock, r#"ACCESS EXCLUSIVE on "orders" and "accounts""#);
    }

    #[test]
    fn tables_the_migration_creates_are_not_locked_first() {
        use crate::schema::{Column, ColumnType, Table};
        let mut before = Schema::new();
        before.tables.insert("a".into(), Table::new("a").field(Column::new("x", ColumnType::Text)));
        let ops = [
            Operation::CreateModel { table: Table::new("b").field(Column::new("y", ColumnType::Text)) },
            Operation::AddField {
                table: "a".into(),
                column: Column::new("z", ColumnType::Text).nullable(),
                fill: None,
            },
        ];
        let statements = migration(&ops, &before, Dialect::Postgres, Forms::Online).unwrap();
        assert!(statements.iter().all(|s| s.work != Work::Locks), "{statements:#?}");
    }

    #[test]
    fn consecutive_transactional_statements_share_a_phase() {
        use Run::*;
        let runs = [Transaction, Transaction, NoTransaction, OwnTransaction, Transaction, Batches, Transaction];
        assert_eq!(phases(&runs), [0..2, 2..3, 3..4, 4..5, 5..6, 6..7]);
    }
}
