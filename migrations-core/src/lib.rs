//! The pure heart of Chakra migrations: the schema IR, parsing of `#[derive(Model)]`
//! structs, the autodetector, operations, SQL rendering per dialect and the snapshot
//! format. No sqlx, no file system, no network: everything here is unit-testable.
#![warn(missing_docs)]

pub mod apply;
pub mod builder;
pub mod catalog;
pub mod civil;
pub mod conversion;
pub mod dialect;
pub mod operation;
pub mod schema;

pub use dialect::Dialect;
pub use operation::Operation;
pub use schema::{Column, ColumnType, DefaultValue, Schema, Table};
pub mod diff;
#[cfg(feature = "build")]
pub mod model;
pub mod portability;
pub mod render;
#[cfg(feature = "build")]
pub mod snapshot;
pub mod squash;
