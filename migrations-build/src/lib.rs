//! The build-script helper of Chakra migrations.
//!
//! The whole of `build.rs`'s `fn main`:
//!
//! ```no_run
//! migrations_build::run();
//! ```
//!
//! Each build scans the crate's `#[derive(Model)]` structs (following the module tree
//! from the lib and bin roots), compares them with `.chakra/snapshot.toml`, and:
//!
//! - in `auto` mode (the default on a developer machine) writes the change as the draft
//!   migration `migrations/NNNN_<name>.rs`, rewriting that one draft on every build
//!   until it is sealed (`cargo chakra seal`, or `CHAKRA_SEAL=<name> cargo build`), and
//!   removing it if the change is undone;
//! - in `check` mode (the default when `CI` is set) writes nothing and fails the build if
//!   the models have changes that no sealed migration covers;
//! - in `off` mode does neither.
//!
//! It always writes `OUT_DIR/chakra_migrations.rs`, which
//! `migrations_runtime::embed_migrations!()` includes, and prints
//! `cargo:rerun-if-changed` for exactly the files it read, so a build without a model
//! change does not run it again. Nothing is written when the sources do not parse, under
//! rust-analyzer, during `cargo package` verification, or when the bytes on disk are
//! already right.
#![warn(missing_docs)]

pub mod adopt;
mod apps;
mod cache;
mod codegen;
mod commands;
mod config;
mod data_loss;
mod error;
mod generate;
pub mod interpret;
pub mod migration_files;
mod naming;
mod parallel;
mod registry;
mod replay;
#[cfg(feature = "cli")]
mod script;
mod settings;
mod sources;
mod squash;

pub use codegen::{module, ModuleSpec};
pub use commands::describe;
pub use config::{Config, Mode};
pub use error::{Error, Located, Location, Result};
pub use generate::Report;
pub use migrations_core::Dialect;
pub use registry::{checksum, semantic_checksum};
pub use squash::Squashed;

/// Runs the helper with the defaults and returns what it did, for a `build.rs` that
/// wants to act on the [`Report`].
///
/// ```no_run
/// // in build.rs's `fn main`
/// match migrations_build::generate() {
///     Ok(report) if !report.pending.is_empty() => println!("cargo:warning={} pending", report.pending.len()),
///     Ok(_) => {}
///     Err(e) => panic!("{e}"),
/// }
/// ```
pub fn generate() -> Result<Report> {
    Config::new().generate()
}

/// Runs the helper with the defaults; on failure prints the error and exits the build
/// script with status 1. The one line a `build.rs` needs.
///
/// ```no_run
/// // the whole of build.rs's `fn main`
/// migrations_build::run();
/// ```
pub fn run() {
    Config::new().run();
}
