//! Foreign-key order for creating and dropping tables, with cycles broken by deferring
//! the fewest foreign keys.

use std::collections::{BTreeMap, BTreeSet};

use crate::schema::Table;

/// A foreign key identified by its table and name.
pub type FkId = (String, String);

/// The order to create `tables` in (a referenced table before the tables that reference
/// it; among the valid orders the alphabetically smallest), and the foreign keys to add
/// after all of them because they close a cycle. A self-reference is no cycle.
pub fn creation_order(tables: &[&Table]) -> (Vec<String>, BTreeSet<FkId>) {
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    // Every foreign key between two different tables of the set: (from, to, id).
    let edges: Vec<(String, String, FkId)> = tables
        .iter()
        .flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| fk.ref_table != t.name && names.contains(fk.ref_table.as_str()))
                .map(|fk| (t.name.clone(), fk.ref_table.clone(), (t.name.clone(), fk.name.clone())))
        })
        .collect();
    let deferred = fewest_to_defer(&names, &edges);
    let kept: Vec<&(String, String, FkId)> = edges.iter().filter(|e| !deferred.contains(&e.2)).collect();
    let order = topological(&names, &kept).unwrap_or_else(|| names.iter().map(|s| s.to_string()).collect());
    (order, deferred)
}

/// Kahn's algorithm taking the smallest ready name first; `None` on a cycle.
fn topological(names: &BTreeSet<&str>, edges: &[&(String, String, FkId)]) -> Option<Vec<String>> {
    let mut waits_on: BTreeMap<&str, BTreeSet<&str>> = names.iter().map(|n| (*n, BTreeSet::new())).collect();
    for (from, to, _) in edges {
        if let Some(w) = waits_on.get_mut(from.as_str()) {
            w.insert(to.as_str());
        }
    }
    let mut order = Vec::with_capacity(names.len());
    while !waits_on.is_empty() {
        let next = *waits_on.iter().find(|(_, deps)| deps.is_empty())?.0;
        waits_on.remove(next);
        for deps in waits_on.values_mut() {
            deps.remove(next);
        }
        order.push(next.to_string());
    }
    Some(order)
}

/// The smallest set of foreign keys whose removal leaves no cycle; among sets of equal
/// size, the first in sorted order. Exact for up to 16 foreign keys on cycles, greedy beyond.
fn fewest_to_defer(names: &BTreeSet<&str>, edges: &[(String, String, FkId)]) -> BTreeSet<FkId> {
    let all: Vec<&(String, String, FkId)> = edges.iter().collect();
    if topological(names, &all).is_some() {
        return BTreeSet::new();
    }
    let mut candidates: Vec<&FkId> = edges.iter().filter(|e| on_cycle(edges, e)).map(|e| &e.2).collect();
    candidates.sort();
    candidates.dedup();
    let acyclic_without = |removed: &BTreeSet<FkId>| {
        let kept: Vec<&(String, String, FkId)> = edges.iter().filter(|e| !removed.contains(&e.2)).collect();
        topological(names, &kept).is_some()
    };
    if candidates.len() <= 16 {
        for k in 1..=candidates.len() {
            let mut found = None;
            for_each_combination(candidates.len(), k, &mut |pick| {
                let set: BTreeSet<FkId> = pick.iter().map(|i| candidates[*i].clone()).collect();
                if acyclic_without(&set) {
                    found = Some(set);
                    return true;
                }
                false
            });
            if let Some(set) = found {
                return set;
            }
        }
    }
    let mut removed = BTreeSet::new();
    for c in candidates {
        if acyclic_without(&removed) {
            break;
        }
        removed.insert(c.clone());
    }
    removed
}

/// Whether the edge's target can reach its source.
fn on_cycle(edges: &[(String, String, FkId)], edge: &(String, String, FkId)) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![edge.1.as_str()];
    while let Some(n) = stack.pop() {
        if n == edge.0 {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.iter().filter(|e| e.0 == n).map(|e| e.1.as_str()));
        }
    }
    false
}

/// Calls `f` with each `k`-combination of `0..n` in lexicographic order until it returns true.
fn for_each_combination(n: usize, k: usize, f: &mut dyn FnMut(&[usize]) -> bool) {
    let mut pick: Vec<usize> = (0..k).collect();
    loop {
        if f(&pick) {
            return;
        }
        let Some(i) = (0..k).rev().find(|&i| pick[i] < n - k + i) else { return };
        pick[i] += 1;
        for j in i + 1..k {
            pick[j] = pick[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ForeignKey, Table};

    fn table(name: &str, refs: &[&str]) -> Table {
        let mut t = Table::new(name);
        for r in refs {
            t.foreign_keys.push(ForeignKey {
                name: format!("fk_{name}_{r}"),
                columns: vec![format!("{r}_id")],
                ref_table: r.to_string(),
                ref_columns: vec!["id".into()],
                on_delete: Default::default(),
                on_update: Default::default(),
                deferrable: Default::default(),
                not_valid: false,
                explicit_name: false,
            });
        }
        t
    }

    #[test]
    fn referenced_tables_come_first_then_alphabetical() {
        let (a, b, c) = (table("a", &["c"]), table("b", &[]), table("c", &[]));
        let (order, deferred) = creation_order(&[&a, &b, &c]);
        assert_eq!(order, ["b", "c", "a"]);
        assert!(deferred.is_empty());
    }

    #[test]
    fn a_two_table_cycle_defers_one_foreign_key() {
        let (a, b) = (table("a", &["b"]), table("b", &["a"]));
        let (order, deferred) = creation_order(&[&a, &b]);
        assert_eq!(deferred, BTreeSet::from([("a".to_string(), "fk_a_b".to_string())]));
        assert_eq!(order, ["a", "b"]);
    }

    #[test]
    fn a_self_reference_is_no_cycle() {
        let a = table("a", &["a"]);
        let (order, deferred) = creation_order(&[&a]);
        assert_eq!(order, ["a"]);
        assert!(deferred.is_empty());
    }

    #[test]
    fn two_cycles_sharing_an_edge_defer_only_that_edge() {
        // a -> b -> a and a -> b -> c -> a: removing a->b breaks both.
        let (a, b, c) = (table("a", &["b"]), table("b", &["a", "c"]), table("c", &["a"]));
        let (_, deferred) = creation_order(&[&a, &b, &c]);
        assert_eq!(deferred, BTreeSet::from([("a".to_string(), "fk_a_b".to_string())]));
    }
}
