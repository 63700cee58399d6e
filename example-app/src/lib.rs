//! The example blog: its models, its embedded migrations, and what it does with its data.

pub mod blog;
pub mod models;

/// Every migration of this crate, embedded at build time.
pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();
