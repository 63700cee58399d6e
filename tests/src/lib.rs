//! Shared pieces of the integration tests: fixture scenarios, real-database access and
//! live-schema introspection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod db;
pub mod fixtures;
pub mod introspect;
pub mod random_schema;
