//! The builder API migration modules are written in: the schema operations of
//! `migrations-core`, plus Rust data steps, which only the runtime can run.
//!
//! ```
//! use migrations_runtime::schema::*;
//!
//! /// Fills `users.slug` from `username`, with typed sqlx on each backend.
//! fn fill_slugs(db: DataConnection<'_>) -> DataFuture<'_> {
//!     Box::pin(async move {
//!         match db {
//!             DataConnection::Sqlite(c) => {
//!                 sqlx::query("UPDATE users SET slug = lower(username)").execute(c).await?;
//!             }
//!             other => other.execute("UPDATE users SET slug = lower(username)").await?,
//!         }
//!         Ok(())
//!     })
//! }
//!
//! pub fn up(m: &mut Migration) {
//!     m.add_field("users", Column::new("slug", ColumnType::Varchar(50)).nullable());
//!     m.run_rust("fill_slugs", fill_slugs);
//! }
//! # use migrations_runtime::sqlx;
//! ```

use std::future::Future;

use migrations_core::apply::ApplyError;
use migrations_core::Schema;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

pub use crate::backend::DataConnection;
pub use migrations_core::builder::{
    Check, Column, ColumnType, Constraint, DefaultValue, Deferrable, Dropped, FkAction, ForeignKey, ForeignKeyFrom,
    Index, IndexMethod, Operation, RawSql, RunSql, Table, Unique, View,
};
/// For `m.run_sql_for(Dialect::Postgres, ...)` in a hand-written migration.
pub use migrations_core::Dialect;

/// What a data step returns. It need not be `Send`: a boxed future borrowing a sqlx
/// connection cannot name the `Send` bound for every lifetime sqlx's executors ask for,
/// and the migrator awaits data steps on its own task.
pub type DataFuture<'c> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + 'c>>;

/// A Rust data step: an async function given the migration's connection (inside its
/// transaction where the backend has transactional DDL).
pub type DataStep = for<'c> fn(DataConnection<'c>) -> DataFuture<'c>;

/// The operations and Rust data steps of one direction of a migration, in order: each
/// data step with the number of operations that run before it.
pub(crate) type Steps = (Vec<Operation>, Vec<(usize, &'static str, DataStep)>);

/// One direction of one migration: schema operations and Rust data steps, in order.
#[derive(Default)]
pub struct Migration {
    operations: migrations_core::builder::Migration,
    /// (number of operations before the step, its name, the step).
    data: Vec<(usize, &'static str, DataStep)>,
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migration")
            .field("operations", &self.operations)
            .field("data_steps", &self.data.iter().map(|(at, name, _)| (at, name)).collect::<Vec<_>>())
            .finish()
    }
}

impl Migration {
    /// An empty migration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `step` here, between the operations recorded before and after it.
    pub fn run_rust(&mut self, name: &'static str, step: DataStep) -> &mut Self {
        let at = self.operations.operations().len();
        self.data.push((at, name, step));
        self
    }

    /// The schema operations (data steps left out), drops given by name looked up in
    /// `start`, the schema this direction of the migration meets.
    pub fn into_operations(self, start: &Schema) -> Result<Vec<Operation>, ApplyError> {
        self.into_steps(start).map(|(ops, _)| ops)
    }

    /// Operations and data steps in order, drops given by name looked up in `start`.
    pub(crate) fn into_steps(mut self, start: &Schema) -> Result<Steps, ApplyError> {
        self.operations.resolve(start)?;
        Ok((self.operations.into_operations(), self.data))
    }
}

// Every builder call in a generated `up`/`down` goes through these. Inline, they are
// copied into the application's crate instead of being linked from one of the
// runtime's code units, which would pull that unit and everything it reaches (the
// migrator, sqlx, clap) and their debug info into a binary that only lists its
// migrations (45 -> 20 MB for 1,000 migrations; ARCHITECTURE.md, "Cross-cutting concerns").
impl Deref for Migration {
    type Target = migrations_core::builder::Migration;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.operations
    }
}

impl DerefMut for Migration {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.operations
    }
}
