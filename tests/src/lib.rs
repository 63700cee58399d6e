//! Shared pieces of the integration tests: fixture scenarios, real-database access and
//! live-schema introspection.

pub mod bench_support;
pub mod db;
pub mod fixtures;
pub mod introspect;
pub mod items;
pub mod random_schema;
pub mod runtime_fixture;
pub mod temp_crate;
