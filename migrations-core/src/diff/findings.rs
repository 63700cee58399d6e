//! What the autodetector tells besides its operations: a finding that does not stop it
//! ([`Note`]) and one that does ([`DiffError`]).

use crate::apply::ApplyError;

/// A finding of the autodetector that does not stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A `renamed_from` that no longer applies (already sealed): it may be removed.
    InertRename {
        /// The table.
        table: String,
        /// The column, for a field rename.
        column: Option<String>,
    },
    /// A `backfill` on a column that needs none now: it may be removed.
    InertBackfill {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column removed and one of the same type added: maybe a rename.
    PossibleRename {
        /// The table.
        table: String,
        /// The removed column (or table, when `table` is the removed one).
        removed: String,
        /// The added column (or table).
        added: String,
    },
    /// An enumerated type gone and another with the same values new: perhaps a rename,
    /// which `renamed_from` on the enum makes one `RenameEnum` instead of converting
    /// every column of it.
    PossibleEnumRename {
        /// The type that is gone.
        removed: String,
        /// The new type.
        added: String,
    },
}

/// What stops the autodetector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// Existing rows need a value the model does not give.
    #[error("`{table}.{column}` {why}: existing rows need a value; add `default = ...` (kept) or `backfill = ...` / `backfill_expr = \"...\"` (one-off) to the field")]
    NeedsFill {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// "is added as NOT NULL" or "becomes NOT NULL".
        why: String,
    },
    /// The primary key of an existing table changed.
    #[error("the primary key of `{table}` changes from ({old}) to ({new}); changing a primary key is not supported: create a new table and copy the data with a hand-written migration")]
    PrimaryKeyChanged {
        /// The table.
        table: String,
        /// Old key columns.
        old: String,
        /// New key columns.
        new: String,
    },
    /// The primary key of an existing table is named otherwise.
    #[error("the primary key of `{table}` is renamed from {old} to {new}; renaming a primary key is not supported yet: keep the name it has (`#[model(primary_key(..., name = \"...\"))]` on the struct)")]
    PrimaryKeyRenamed {
        /// The table.
        table: String,
        /// The old name, or the database's default.
        old: String,
        /// The new name, or the database's default.
        new: String,
    },
    /// A column type change no backend can do in place.
    #[error("`{table}.{column}` changes type from {old} to {new}, which cannot be converted in place: add a new field, copy the data in a hand-written migration (`cargo chakra make --empty`), then remove the old field")]
    IncompatibleTypeChange {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Old type.
        old: String,
        /// New type.
        new: String,
    },
    /// A PostgreSQL serial column would change how it is numbered.
    #[error("`{table}.{column}` changes from {old} to {new}; a serial column's numbering is not changed by a generated migration yet: keep `auto_increment = \"serial\"`, or change it in a hand-written migration (`cargo chakra make --empty`, with `run_sql_for(Dialect::Postgres, ...)`)")]
    SerialChanged {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// How it is numbered now.
        old: String,
        /// How the model numbers it.
        new: String,
    },
    /// A view reads a table the models drop, rename, or drop or rename a column of.
    #[error("`{table}`: {reason}")]
    ViewInTheWay {
        /// The table.
        table: String,
        /// Which view, and what to do.
        reason: String,
    },
    /// A bug: the operations do not lead to the new schema.
    #[error("internal error in the autodetector (please report): {0}")]
    Internal(String),
}

impl From<ApplyError> for DiffError {
    fn from(e: ApplyError) -> Self {
        DiffError::Internal(e.to_string())
    }
}
