//! What an application links to run Chakra migrations: the `Model` trait and derive,
//! and (from the runtime issue on) the embedded registry and the migrator.
#![warn(missing_docs)]

pub use migrations_macros::Model;

/// A struct declared as a table with `#[derive(Model)]`.
pub trait Model {
    /// The SQL name of the table.
    const TABLE: &'static str;
    /// The SQL names of its columns, in field order (skipped fields excluded).
    const COLUMNS: &'static [&'static str];
}

pub mod schema;

/// Embeds the migrations the build script registered (`OUT_DIR/chakra_migrations.rs`),
/// as a `const` expression of type [`Migrations`]:
///
/// ```text
/// pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();
/// ```
///
/// The crate's `build.rs` must call `migrations_build::run()` (or a `Config`).
#[macro_export]
macro_rules! embed_migrations {
    () => {
        include!(concat!(env!("OUT_DIR"), "/chakra_migrations.rs"))
    };
}

pub mod any;
mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod error;
pub mod history;
mod migrator;
mod registry;
pub mod table_lock;

pub use any::AnyConnection;
pub use backend::Connection;
pub use error::{LockConflict, MigrateError};
pub use migrations_core::Dialect;
pub use migrator::{
    lock_wait, parse_duration, ApplyOptions, LockRetry, LockStrategy, LockWaits, Loss, Migrator, Progress,
    RollbackOptions, RollbackTarget, State, StatusLine, Step, Undo, MIGRATION_URL_VAR,
};
pub use registry::{EmbeddedMigration, Migrations};
pub use sqlx;
