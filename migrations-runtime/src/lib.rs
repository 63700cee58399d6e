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
