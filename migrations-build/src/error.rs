//! Build errors, typed; rendered for people by the build script and `cargo chakra`.

use std::fmt;
use std::path::PathBuf;

/// A place in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// A problem with a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Where.
    pub location: Location,
    /// What, and what to do.
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

fn list(items: &[Located]) -> String {
    items.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n")
}

/// Why the build helper stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("chakra: cannot {action} {}: {source}", path.display())]
    Io {
        /// "read" or "write" or similar.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A required environment variable is missing (the helper runs outside a build script?).
    #[error("chakra: environment variable {0} is not set; call migrations-build from build.rs, or give the path with the Config setters")]
    MissingEnv(&'static str),
    /// `Cargo.toml` could not be read.
    #[error("chakra: {} is not a valid Cargo.toml: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Models with errors (each at its place).
    #[error("chakra: the models have errors:\n{}", list(.0))]
    Models(Vec<Located>),
    /// The snapshot file is malformed.
    #[error("chakra: {}:{}:{}: {}\n  the snapshot is written by the build. After a merge that left git conflict markers in it (two branches changed models), rebuild it from the sealed migrations of both: `cargo chakra rebuild-snapshot` (it does not need this file), then build; otherwise restore it from version control (`git checkout -- .chakra/snapshot.toml`)", path.display(), .source.line, .source.column, .source.message)]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// The problem.
        source: migrations_core::snapshot::SnapshotError,
    },
    /// The snapshot does not hold what the sealed migrations build.
    #[error("chakra: {} does not hold what the sealed migrations build; from what they build, it takes:\n{differences}\n  a sealed migration was deleted (restore it from version control: `git checkout -- migrations/`), or the snapshot was edited or lost\n  to write the change again as a new migration instead, rebuild the snapshot from the migrations (`cargo chakra rebuild-snapshot`) and build", path.display())]
    SnapshotApart {
        /// The snapshot file.
        path: PathBuf,
        /// What turns the migrations' schema into the snapshot, in words, a line each.
        differences: String,
    },
    /// The models cannot be turned into a migration (needs a backfill, …).
    #[error("chakra: cannot write a migration for this change:\n{}", list(.0))]
    Diff(Vec<Located>),
    /// A target dialect cannot hold the models.
    #[error("chakra: the models do not fit every target database:\n{}", list(.0))]
    Portability(Vec<Located>),
    /// A migration file is not one the helper can read.
    #[error("chakra: {0}")]
    MigrationFile(Located),
    /// Two migrations have the same parent: a merge is needed.
    #[error("chakra: two heads in the migration graph: `{0}` and `{1}` both come after the same migration (a git merge of two branches?)\n  write a merge migration: cargo chakra merge")]
    TwoHeads(String, String),
    /// Check mode: the models and the migrations disagree.
    #[error("chakra: the models have changes that no sealed migration covers (check mode{}):\n{pending}\n  run `cargo build` locally to write the migration, seal it with `cargo chakra seal` (`--name <name>` to name it yourself), and commit it", if *.ci { ", because CI is set" } else { "" })]
    Pending {
        /// The pending operations, in words.
        pending: String,
        /// Whether check mode came from `CI`.
        ci: bool,
    },
    /// Check mode: a sealed migration loses data, or rewrites a table while writes to it
    /// wait, and no person has said that is intended.
    #[error("chakra: these migrations lose data or block a table while they rewrite it, and no person has acknowledged it (check mode):\n{0}  read each one; if it is intended, add to its file\n    pub const DATA_LOSS_ACKNOWLEDGED: &str = \"<why this is safe, and who checked>\";       (for DATA LOSS)\n    pub const BLOCKING_REWRITE_ACKNOWLEDGED: &str = \"<why the table may wait, and how long>\";  (for BLOCKING REWRITE)")]
    DataLoss(String),
    /// A command was given something it cannot use.
    #[error("chakra: {0}")]
    Usage(String),
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }
}

/// The helper's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
