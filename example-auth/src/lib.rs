//! The example's accounts app. It owns the `users` table; `example-app` references it
//! (`references = example_auth::User`), and its build writes migrations that depend on
//! this app's (`"example_auth/0001_initial"`).

pub mod models;

pub use models::User;

/// Every migration of this app, embedded at build time.
pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();
