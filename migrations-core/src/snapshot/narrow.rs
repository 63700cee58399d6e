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
    // Views read tables, and the autodetector checks every change against them: a
    // snapshot with views is compared whole.
    if body.contains("\n[views.") || body.contains("\n[raw.") {
        return None;
    }
    // Each table's text starts with "\n[tables.<name>]\n" (a value cannot hold a line
    // break).
    let mut chunks: Vec<&str> = Vec::with_capacity(schema.tables.len());
    let mut rest = body;
    while !rest.is_empty() {
        if !rest.starts_with("\n[tables.") {
            return None;
        }
        let end = rest[1..].find("\n[tables.").map_or(rest.len(), |i| i + 1);
        chunks.push(&rest[..end]);
        rest = &rest[end..];
    }
    // The models' tables, written the same way.
    let (all, spans) = render(schema, text.len());
    let rendered = |r: &std::ops::Range<usize>| &all[r.clone()];
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    // The snapshot's tables that are removed or changed.
    let mut stale: Vec<&str> = Vec::new();
    // Both are sorted by table name: with the same tables on both sides (the common
    // case) they pair up in order, and no lookup is needed.
    let paired = chunks.len() == spans.len()
        && chunks
            .iter()
            .zip(&spans)
            .all(|(c, (_, r))| first_line(c).is_some() && first_line(c) == first_line(rendered(r)));
    if paired {
        for (chunk, (t, r)) in chunks.iter().zip(&spans) {
            if *chunk != rendered(r) {
                changed.insert(t.name.as_str());
                stale.push(chunk);
            }
        }
    } else {
        // Keyed by the first line, which is compared, not hashed: hashing is slow in an
        // unoptimised build script.
        let mut by_line: BTreeMap<&str, &str> = BTreeMap::new();
        for chunk in chunks {
            by_line.insert(first_line(chunk)?, chunk);
        }
        for (t, r) in &spans {
            let text = rendered(r);
            let line = first_line(text)?;
            if by_line.get(line) == Some(&text) {
                by_line.remove(line);
            } else {
                changed.insert(t.name.as_str());
            }
        }
        stale = by_line.into_values().collect();
    }

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
    for (t, r) in &spans {
        if context.contains(t.name.as_str()) {
            old_text.push_str(rendered(r));
        }
    }
    // Nothing on the old side (the common build, where nothing changed): no need to
    // read it back (reading TOML is slow in an unoptimised build script).
    let old = if stale.is_empty() && context.is_empty() { Schema::new() } else { from_toml(&old_text).ok()? };
    let mut new = Schema::new();
    for (t, _) in &spans {
        if changed.contains(t.name.as_str()) || context.contains(t.name.as_str()) {
            new.tables.insert(t.name.clone(), (*t).clone());
        }
    }
    Some((old, new))
}

/// Every table of `schema` written as the snapshot writes it, into one buffer, with
/// each table's place in it. Writing a thousand tables is most of a build's work at
/// opt-level 0, so a large schema is written in two halves on two threads.
#[allow(clippy::type_complexity)]
fn render(schema: &Schema, size: usize) -> (String, Vec<(&Table, std::ops::Range<usize>)>) {
    fn write<'t>(tables: &[&'t Table], size: usize) -> (String, Vec<(&'t Table, std::ops::Range<usize>)>) {
        let mut out = String::with_capacity(size);
        let mut spans = Vec::with_capacity(tables.len());
        for t in tables {
            let start = out.len();
            table(&mut out, t);
            spans.push((*t, start..out.len()));
        }
        (out, spans)
    }
    let tables: Vec<&Table> = schema.tables.values().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if tables.len() < 200 || threads < 2 {
        return write(&tables, size + 4096);
    }
    let (first, second) = tables.split_at(tables.len() / 2);
    let ((mut all, mut spans), (rest, rest_spans)) = std::thread::scope(|scope| {
        let other = scope.spawn(|| write(second, size / 2 + 4096));
        let mine = write(first, size / 2 + 4096);
        (mine, other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let offset = all.len();
    all.push_str(&rest);
    spans.extend(rest_spans.into_iter().map(|(t, r)| (t, r.start + offset..r.end + offset)));
    (all, spans)
}

/// `"\n[tables.<name>]"`, the line a table's text starts with.
fn first_line(chunk: &str) -> Option<&str> {
    chunk.get(1..)?.find('\n').map(|i| &chunk[..i + 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `changed_part` takes without reading when the old side holds no table.
    #[test]
    fn the_header_alone_reads_as_the_empty_schema() {
        assert_eq!(from_toml(&header()).expect("header"), Schema::new());
    }
}
