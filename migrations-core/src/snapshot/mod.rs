//! `.chakra/snapshot.toml`: the whole schema after the newest sealed migration.
//!
//! Canonical and merge-friendly: tables sorted by name, each its own `[tables.<name>]`
//! section, one line per column, index and constraint, keys in a fixed order. Two
//! branches that change different tables merge without a conflict, and a diff of the
//! file reads like a schema review. Reading is strict: unknown keys, bad types and
//! dangling references are errors with line and column.

mod narrow;
mod read;
mod write;

pub use narrow::changed_part;
pub use read::from_toml;
pub use write::to_toml;

/// The format version written into every snapshot.
pub const FORMAT_VERSION: i64 = 1;

/// A snapshot that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SnapshotError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl SnapshotError {
    pub(crate) fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Self { line, column, message: message.into() }
    }
}
