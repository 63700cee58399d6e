//! The property of the squash, over random histories (three random schemas in a row,
//! each step the autodetector's operations with renames): the squashed operations build
//! the same schema from the same start, are never more, drop no more than the history
//! did, and roll back to the start.

use chakra_tests::random_schema::{schema, with_renames};
use migrations_core::diff::{diff, Intent};
use migrations_core::squash::squash;
use migrations_core::{Operation, Schema};
use proptest::prelude::*;

/// The tables and columns `ops` drop, by name.
fn drops(ops: &[Operation]) -> Vec<String> {
    let mut out: Vec<String> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::DeleteModel { table } => Some(table.name.clone()),
            Operation::RemoveField { table, column } => Some(format!("{table}.{}", column.name)),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn step(from: &Schema, to: &Schema, intent: &Intent) -> Option<Vec<Operation>> {
    diff(from, to, intent).ok().map(|d| d.operations)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn a_squashed_history_builds_the_same_schema_and_drops_no_more(a in schema(), b in schema(), c in schema()) {
        let empty = Schema::new();
        let first = step(&empty, &a, &Intent::default());
        let second = step(&a, &b, &with_renames(&a, &b));
        prop_assume!(first.is_some() && second.is_some());
        let mut after_b = a.clone();
        after_b.apply_all(second.as_ref().expect("second")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let third = step(&after_b, &c, &with_renames(&after_b, &c));
        prop_assume!(third.is_some());
        let (first, second, third) = (first.expect("first"), second.expect("second"), third.expect("third"));

        // From the start of the history, and from its middle (tables with rows there).
        for (start, ops) in [
            (empty.clone(), [first.clone(), second.clone(), third.clone()].concat()),
            (a.clone(), [second.clone(), third.clone()].concat()),
        ] {
            let mut end = start.clone();
            end.apply_all(&ops).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let squashed = squash(&start, &ops).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&squashed.schema, &end);
            let mut replayed = start.clone();
            replayed.apply_all(&squashed.operations).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&replayed, &end);
            prop_assert!(squashed.operations.len() <= ops.len());
            // It drops no more than the history did (a table created in the run and
            // dropped in it is no drop at all; a column renamed and then dropped is
            // dropped under its first name).
            let (theirs, ours) = (drops(&ops), drops(&squashed.operations));
            prop_assert!(
                ours.len() <= theirs.len(),
                "the squash drops more than the history:\nhistory:\n{}\nsquash:\n{}",
                ops.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
                squashed.operations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
            );
            // And it rolls back to the start.
            let mut back = replayed.clone();
            for op in squashed.operations.iter().rev() {
                let rev = op.reverse().map_err(|e| TestCaseError::fail(e.to_string()))?;
                back.apply(&rev).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            prop_assert_eq!(back.canonical(), start.canonical());
        }
    }
}
