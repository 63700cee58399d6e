//! The autodetector's core property executed on real databases: for random schema
//! pairs (a, b), the SQL of `diff(a, b)` takes a live database holding `a` to `b`, and
//! the reverse SQL takes it back — checked by introspection after each step.
//! Case count per backend: `CHAKRA_DB_CASES` (default 40).

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live;
use chakra_tests::random_schema::{backfills_for, schema_for, with_renames};
use migrations_core::diff::diff;
use migrations_core::{Dialect, Schema};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("CHAKRA_DB_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

fn run(dialect: Dialect) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let Some(db) = rt.block_on(TestDb::create(dialect, "prop")) else { return };
    let db = tokio::sync::Mutex::new(db);
    let mut runner = TestRunner::new(Config { cases: cases(), max_shrink_iters: 200, ..Config::default() });
    let result = runner.run(&(schema_for(dialect), schema_for(dialect), any::<bool>()), |(a, b, renames)| {
        let intent = if renames { with_renames(&a, &b) } else { backfills_for(&b) };
        let d = diff(&a, &b, &intent).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        rt.block_on(async {
            let mut db = db.lock().await;
            db.reset().await;
            let setup = diff(&Schema::new(), &a, &Default::default()).expect("setup").operations;
            db.apply(&setup, &Schema::new()).await;
            check_live(&mut db, &a).await.map_err(|e| TestCaseError::fail(format!("setup:\n{e}")))?;
            let after = db.apply(&d.operations, &a).await;
            let ops: Vec<String> = d.operations.iter().map(ToString::to_string).collect();
            check_live(&mut db, &after).await.map_err(|e| TestCaseError::fail(format!("forward {ops:#?}:\n{e}")))?;
            db.unapply(&d.operations, &a).await;
            check_live(&mut db, &a).await.map_err(|e| TestCaseError::fail(format!("reverse {ops:#?}:\n{e}")))?;
            Ok(())
        })
    });
    rt.block_on(db.into_inner().destroy());
    if let Err(e) = result {
        panic!("{dialect}: {e}");
    }
}

#[test]
fn random_diffs_round_trip_on_sqlite() {
    run(Dialect::Sqlite);
}

#[test]
fn random_diffs_round_trip_on_postgres() {
    run(Dialect::Postgres);
}

#[test]
fn random_diffs_round_trip_on_mariadb() {
    run(Dialect::MySql);
}
