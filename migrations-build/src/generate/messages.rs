//! The build's messages about a change: notes in words, and an autodetector error placed
//! at the struct or field it concerns.

use std::path::PathBuf;

use migrations_core::diff::{DiffError, Note};
use migrations_core::model::ModelSet;

use crate::error::{Located, Location};

pub(super) fn note_text(note: &Note) -> String {
    match note {
        Note::InertRename { table, column: Some(c) } => {
            format!("chakra: `renamed_from` on `{table}.{c}` no longer applies (already migrated); it may be removed")
        }
        Note::InertRename { table, column: None } => {
            format!("chakra: `renamed_from` on table `{table}` no longer applies (already migrated); it may be removed")
        }
        Note::InertBackfill { table, column } => {
            format!("chakra: `backfill` on `{table}.{column}` is not needed by this change; it may be removed")
        }
        Note::PossibleRename { table, removed, added } if removed == table || added == table => {
            format!("chakra: table `{removed}` is dropped and `{added}` created with the same columns; if this is a rename, add `#[model(renamed_from = \"{removed}\")]` to the struct")
        }
        Note::PossibleRename { table, removed, added } => format!(
            "chakra: `{table}.{removed}` is dropped and `{table}.{added}` added with the same type; if this is a rename, add `#[model(renamed_from = \"{removed}\")]` to the field"
        ),
        Note::PossibleEnumRename { removed, added } => format!(
            "chakra: columns of enum `{removed}` now use enum `{added}`, which has the same values, so each is converted (PostgreSQL rewrites its table); if the type was renamed, add `renamed_from = \"{removed}\"` to its `#[db_enum(...)]`, which renames it in place"
        ),
    }
}

/// The place of a table (its struct) or a column (its field).
pub(super) fn place(files_of: &[PathBuf], set: &ModelSet, table: &str, column: Option<&str>) -> Location {
    let Some(i) = set.models.iter().position(|m| m.table.name == table) else {
        return Location { path: PathBuf::from(format!("<table {table}>")), line: 1, column: 1 };
    };
    let model = &set.models[i];
    let span = column.and_then(|c| model.fields.iter().find(|f| f.column == c)).map_or(model.span, |f| f.span);
    Location {
        path: files_of.get(i).cloned().unwrap_or_default(),
        line: span.start().line,
        column: span.start().column + 1,
    }
}

pub(super) fn locate_diff(files_of: &[PathBuf], set: &ModelSet, e: &DiffError) -> Located {
    let location = match e {
        DiffError::NeedsFill { table, column, .. }
        | DiffError::IncompatibleTypeChange { table, column, .. }
        | DiffError::SerialChanged { table, column, .. } => place(files_of, set, table, Some(column)),
        DiffError::PrimaryKeyChanged { table, .. }
        | DiffError::PrimaryKeyRenamed { table, .. }
        | DiffError::ViewInTheWay { table, .. } => place(files_of, set, table, None),
        _ => Location { path: PathBuf::from("<models>"), line: 1, column: 1 },
    };
    Located { location, message: e.to_string() }
}
