//! Every scenario's SQL executed on real SQLite, PostgreSQL and MariaDB databases: the
//! live schema after the forward SQL equals the IR, and after the reverse SQL equals
//! the schema before.

use chakra_tests::db::TestDb;
use chakra_tests::fixtures;
use chakra_tests::introspect::check_live;
use migrations_core::Dialect;

async fn every_scenario_round_trips(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "ops").await else { return };
    for s in fixtures::all().into_iter().filter(|s| s.dialects.contains(&dialect)) {
        db.reset().await;
        let setup = migrations_core::diff::diff(&migrations_core::Schema::new(), &s.before, &Default::default())
            .expect("setup diff")
            .operations;
        db.apply(&setup, &migrations_core::Schema::new()).await;
        check_live(&mut db, &s.before).await.unwrap_or_else(|e| panic!("{}: {dialect}: setup:\n{e}", s.name));

        let after = db.apply(&s.operations, &s.before).await;
        check_live(&mut db, &after).await.unwrap_or_else(|e| panic!("{}: {dialect}: forward:\n{e}", s.name));

        let back = db.unapply(&s.operations, &s.before).await;
        assert_eq!(back.canonical(), s.before.canonical(), "{}: reverse in memory", s.name);
        check_live(&mut db, &s.before).await.unwrap_or_else(|e| panic!("{}: {dialect}: reverse:\n{e}", s.name));
    }
    db.destroy().await;
}

#[tokio::test]
async fn every_operation_round_trips_on_sqlite() {
    every_scenario_round_trips(Dialect::Sqlite).await;
}

#[tokio::test]
async fn every_operation_round_trips_on_postgres() {
    every_scenario_round_trips(Dialect::Postgres).await;
}

#[tokio::test]
async fn every_operation_round_trips_on_mariadb() {
    every_scenario_round_trips(Dialect::MySql).await;
}
