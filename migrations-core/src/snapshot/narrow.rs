//! The part of a schema change worth diffing. With a thousand tables and one of them
//! edited, reading the whole snapshot and diffing every table is most of a build's
//! work; the snapshot is canonical text, so the tables whose text is unchanged can be
//! told apart without reading them.

use std::collections::{BTreeMap, BTreeSet};

use super::read::from_toml;
use super::write::{header, table};
use crate::diff::Intent;
use crate::schema::{Schema, Table};

/// The old and new sides of the change from the snapshot `text` to the models'
/// `schema`: the tables whose canonical text differs (changed, created or removed), and,
/// unchanged on both sides, the tables they reference or are referenced by and those
/// the `intent` names. Diffing these two gives the operations that diffing the whole
/// schemas gives.
///
/// `None` when that cannot be told from the text alone (it is not in canonical form,
/// or the part does not read): read the whole snapshot then.
pub fn changed_part(text: &str, schema: &Schema, intent: &Intent) -> Option<(Schema, Schema)> {
    let body = text.strip_prefix(header().as_str())?;
    // Each table's text starts with "\n[tables.<name>]\n" (a value cannot hold a line
    // break); they are keyed by that line, which is compared, not hashed: hashing is
    // slow in an unoptimised build script.
    let mut chunks: BTreeMap<&str, &str> = BTreeMap::new();
    let mut rest = body;
    while !rest.is_empty() {
        if !rest.starts_with("\n[tables.") {
            return None;
        }
        let end = rest[1..].find("\n[tables.").map_or(rest.len(), |i| i + 1);
        let chunk = &rest[..end];
        chunks.insert(first_line(chunk)?, chunk);
        rest = &rest[end..];
    }
    let mut rendered: Vec<(&Table, String)> = Vec::with_capacity(schema.tables.len());
    for t in schema.tables.values() {
        let mut text = String::new();
        table(&mut text, t);
        rendered.push((t, text));
    }
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    for (t, r) in &rendered {
        let line = first_line(r)?;
        if chunks.get(line) == Some(&r.as_str()) {
            chunks.remove(line);
        } else {
            changed.insert(t.name.as_str());
        }
    }
    // What is left of the snapshot: the tables removed or changed.
    let stale: Vec<&str> = chunks.into_values().collect();

    // The unchanged tables that belong in the part, for context.
    let unchanged = |name: &str| schema.tables.contains_key(name) && !changed.contains(name);
    let mut context: BTreeSet<&str> = BTreeSet::new();
    for name in &changed {
        for fk in &schema.tables[*name].foreign_keys {
            context.insert(fk.ref_table.as_str());
        }
    }
    for t in schema.tables.values() {
        if t.foreign_keys.iter().any(|fk| changed.contains(fk.ref_table.as_str())) {
            context.insert(t.name.as_str());
        }
    }
    let named = intent
        .table_renames
        .iter()
        .flat_map(|(to, from)| [to.as_str(), from.as_str()])
        .chain(intent.column_renames.keys().map(|(t, _)| t.as_str()))
        .chain(intent.backfills.keys().map(|(t, _)| t.as_str()));
    context.extend(named);
    context.retain(|name| unchanged(name));

    // The old side: the stale tables as the snapshot has them, and the context. A stale
    // table may still refer to a table outside the part (a foreign key the models
    // dropped): the reader takes it as another app's table, and the autodetector needs
    // only its name to drop that key.
    let mut old_text = header();
    for chunk in &stale {
        old_text.push_str(chunk);
    }
    for (t, r) in &rendered {
        if context.contains(t.name.as_str()) {
            old_text.push_str(r);
        }
    }
    let old = from_toml(&old_text).ok()?;
    let mut new = Schema::new();
    for (t, _) in &rendered {
        if changed.contains(t.name.as_str()) || context.contains(t.name.as_str()) {
            new.tables.insert(t.name.clone(), (*t).clone());
        }
    }
    Some((old, new))
}

/// `"\n[tables.<name>]"`, the line a table's text starts with.
fn first_line(chunk: &str) -> Option<&str> {
    chunk.get(1..)?.find('\n').map(|i| &chunk[..i + 1])
}
