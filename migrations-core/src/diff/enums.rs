//! Changes of enumerated types' lists. A type both schemas have, with another list,
//! changes in at most two steps around the rest of the diff:
//!
//! 1. first, renames and additions (PostgreSQL does them in place), so that a default,
//!    a backfill or a new column after it can use a new value;
//! 2. last, removals and moves (PostgreSQL builds the type again), once the defaults and
//!    columns that held a removed value have changed.
//!
//! Between the two the columns hold the middle list, the new values added and the
//! removed ones still there, and the rest of the diff compares columns with it.

use std::collections::BTreeMap;

use super::Intent;
use crate::operation::Operation;
use crate::schema::{Schema, ValueChanges};

/// The two steps of every enumerated type that changes between `cur` and `new`: the
/// first ones (to run before the rest of the diff), the last ones (after it), and the
/// middle list of each type that has one (see [`with_middle_lists`]).
#[allow(clippy::type_complexity)]
pub(super) fn enum_steps(
    cur: &Schema,
    new: &Schema,
    intent: &Intent,
) -> (Vec<Operation>, Vec<Operation>, BTreeMap<String, Vec<String>>) {
    let (mut first, mut last) = (Vec::new(), Vec::new());
    let mut middles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let new_enums = new.enums();
    for (name, old) in cur.enums() {
        let Some(target) = new_enums.get(&name) else { continue };
        if old.values == target.values {
            continue;
        }
        let renamed: Vec<(String, String)> = target
            .values
            .iter()
            .filter_map(|v| intent.enum_value_renames.get(&(name.clone(), v.clone())).map(|o| (o.clone(), v.clone())))
            .collect();
        let changes = ValueChanges::between(&old.values, &target.values, &renamed);
        let middle = middle_list(&old.values, &target.values, &changes);
        if middle != old.values {
            first.push(Operation::AlterEnum {
                name: name.clone(),
                from: old.values.clone(),
                to: middle.clone(),
                renamed: changes.renamed.clone(),
            });
        }
        if middle != target.values {
            last.push(Operation::AlterEnum {
                name: name.clone(),
                from: middle.clone(),
                to: target.values.clone(),
                renamed: Vec::new(),
            });
        }
        if middle != target.values {
            middles.insert(name, middle);
        }
    }
    (first, last, middles)
}

/// `new` with each type of `middles` holding its middle list, in every column of it.
pub(super) fn with_middle_lists(new: &Schema, middles: &BTreeMap<String, Vec<String>>) -> Schema {
    let mut out = new.clone();
    for table in out.tables.values_mut() {
        for column in &mut table.columns {
            if let Some(e) = column.ty.enum_type_mut() {
                if let Some(middle) = middles.get(&e.name) {
                    e.values.clone_from(middle);
                }
            }
        }
    }
    out
}

/// The old list with its renames, and each added value after the value the new list
/// puts before it (first, if none).
fn middle_list(old: &[String], new: &[String], changes: &ValueChanges) -> Vec<String> {
    let mut middle: Vec<String> = old
        .iter()
        .map(|v| changes.renamed.iter().find(|(o, _)| o == v).map_or(v.clone(), |(_, n)| n.clone()))
        .collect();
    for (i, value) in new.iter().enumerate() {
        if middle.contains(value) {
            continue;
        }
        let at = new[..i].iter().rev().find_map(|before| middle.iter().position(|m| m == before)).map_or(0, |p| p + 1);
        middle.insert(at, value.clone());
    }
    middle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn the_middle_list_adds_in_place_and_keeps_what_goes_until_the_end() {
        let (old, new) = (list(&["a", "b", "c"]), list(&["z", "a", "c", "d"]));
        let changes = ValueChanges::between(&old, &new, &[]);
        assert_eq!(middle_list(&old, &new, &changes), list(&["z", "a", "b", "c", "d"]));
        let renamed = [("b".to_string(), "bee".to_string())];
        let new = list(&["a", "bee", "c"]);
        let changes = ValueChanges::between(&old, &new, &renamed);
        assert_eq!(middle_list(&old, &new, &changes), new);
    }
}
