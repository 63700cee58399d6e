//! The example blog: its models and its embedded migrations.

pub mod models;

/// Every migration of this crate, embedded at build time.
pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();
