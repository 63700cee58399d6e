//! The core property of the autodetector, over random schema pairs: applying
//! `diff(a, b)` to `a` gives `b`, and applying the reverse operations gives `a` back.

use std::collections::BTreeSet;

use chakra_tests::random_schema::{backfills_for, schema, schema_for, with_renames};
use migrations_core::diff::{diff, diff_from, Intent};
use migrations_core::render::render_all;
use migrations_core::snapshot::{changed_part, to_toml};
use migrations_core::{Dialect, Schema};
use proptest::prelude::*;
use proptest::strategy::{Strategy, ValueTree};

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
    fn diff_then_reverse_round_trips_with_what_only_postgres_has(
        a in schema_for(Dialect::Postgres),
        b in schema_for(Dialect::Postgres),
        renames in any::<bool>(),
    ) {
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
        "AlterEnum",
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// What a build diffs when it can (the tables whose snapshot text changed, with their
    /// neighbours) gives exactly the operations and notes of diffing everything.
    #[test]
    fn the_changed_part_diffs_like_the_whole(
        a in schema(),
        b in schema(),
        picks in proptest::collection::vec(any::<bool>(), 1..8),
        renames in any::<bool>(),
    ) {
        // Mostly `a`, with some of `b`'s tables put in: a few tables change.
        let mut mixed = a.clone();
        for (t, pick) in b.tables.values().zip(picks.iter().cycle()) {
            if *pick {
                mixed.tables.insert(t.name.clone(), t.clone());
            }
        }
        let intent = if renames { with_renames(&a, &mixed) } else { backfills_for(&mixed) };
        let Ok(whole) = diff(&a, &mixed, &intent) else { return Ok(()) };
        if let Some((old, new)) = changed_part(&to_toml(&a), &mixed, &intent) {
            let part = diff_from(old, &new, &intent).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(part.operations, whole.operations);
            prop_assert_eq!(part.notes, whole.notes);
        }
    }
}

#[test]
fn an_unchanged_schema_has_an_empty_part_and_one_change_a_small_one() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut parts = 0;
    for _ in 0..200 {
        let a = schema().new_tree(&mut runner).expect("schema").current();
        let text = to_toml(&a);
        let (old, new) = changed_part(&text, &a, &Intent::default()).expect("canonical text");
        assert!(old.tables.is_empty() && new.tables.is_empty(), "{old:?} {new:?}");
        // Drop one table that nothing references: the part is that table alone.
        let referenced: BTreeSet<&String> =
            a.tables.values().flat_map(|t| t.foreign_keys.iter().map(|f| &f.ref_table)).collect();
        let Some(gone) = a.tables.keys().find(|k| !referenced.contains(k)) else { continue };
        let mut b = a.clone();
        let removed = b.tables.remove(gone).expect("table");
        if removed.foreign_keys.is_empty() {
            let (old, new) = changed_part(&text, &b, &Intent::default()).expect("part");
            assert_eq!(old.tables.keys().collect::<Vec<_>>(), [gone]);
            assert!(new.tables.is_empty());
            parts += 1;
        }
    }
    assert!(parts > 20, "only {parts} schemas had a table to drop");
}
