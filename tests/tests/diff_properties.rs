//! The core property of the autodetector, over random schema pairs: applying
//! `diff(a, b)` to `a` gives `b`, and applying the reverse operations gives `a` back.

use std::collections::BTreeSet;

use chakra_tests::random_schema::{backfills_for, schema, with_renames};
use migrations_core::diff::diff;
use migrations_core::diff::Intent;
use migrations_core::render::render_all;
use migrations_core::{Dialect, Schema};
use proptest::prelude::*;

fn round_trip(a: &Schema, b: &Schema, intent: &Intent) -> Result<(), TestCaseError> {
    let d = diff(a, b, intent).map_err(|e| TestCaseError::fail(format!("diff failed: {e:?}")))?;
    let mut forward = a.clone();
    forward.apply_all(&d.operations).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(forward.canonical(), d.schema.canonical());
    // The resolved schema is b up to generated names kept from a.
    prop_assert_eq!(d.schema.tables.keys().collect::<Vec<_>>(), b.tables.keys().collect::<Vec<_>>());
    let mut back = forward.clone();
    for op in d.operations.iter().rev() {
        let rev = op.reverse().map_err(|e| TestCaseError::fail(e.to_string()))?;
        back.apply(&rev).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    prop_assert_eq!(back.canonical(), a.canonical());
    // Diffing the result again finds nothing: generation is idempotent.
    let again = diff(&forward, b, intent).map_err(|e| TestCaseError::fail(format!("second diff failed: {e:?}")))?;
    prop_assert!(again.operations.is_empty(), "second diff not empty: {:?}", again.operations);
    for dialect in Dialect::ALL {
        render_all(&d.operations, a, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn diff_then_reverse_round_trips_in_memory(a in schema(), b in schema(), renames in any::<bool>()) {
        let intent = if renames { with_renames(&a, &b) } else { backfills_for(&b) };
        round_trip(&a, &b, &intent)?;
    }

    #[test]
    fn diff_is_deterministic(a in schema(), b in schema()) {
        let one = diff(&a, &b, &backfills_for(&b));
        let two = diff(&a, &b, &backfills_for(&b));
        prop_assert_eq!(one, two);
    }
}

/// The generator is only as good as what it reaches: over a fixed seed, the random pairs
/// produce every kind of operation the autodetector emits.
#[test]
fn random_pairs_cover_every_operation_kind() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let mut kinds = BTreeSet::new();
    for i in 0..3000 {
        let a = schema().new_tree(&mut runner).expect("tree").current();
        let b = schema().new_tree(&mut runner).expect("tree").current();
        let intent = if i % 2 == 0 { with_renames(&a, &b) } else { backfills_for(&b) };
        for op in diff(&a, &b, &intent).expect("diff").operations {
            kinds.insert(op.to_string().split(' ').next().unwrap_or_default().to_string());
        }
    }
    let expected = [
        "AddConstraint",
        "AddField",
        "AlterField",
        "AlterModelComment",
        "CreateIndex",
        "CreateModel",
        "DeleteModel",
        "DropIndex",
        "RemoveConstraint",
        "RemoveField",
        "RenameField",
        "RenameModel",
    ];
    for kind in expected {
        assert!(kinds.contains(kind), "random pairs never produce {kind}; got {kinds:?}");
    }
}

proptest! {
    #[test]
    fn random_schemas_are_portable(a in schema()) {
        prop_assert_eq!(migrations_core::portability::check(&a, &Dialect::ALL), vec![]);
    }
}
