//! Shared pieces of the integration tests: fixture scenarios, real-database access and
//! live-schema introspection.

pub mod bench_support;
pub mod db;
pub mod fixtures;
pub mod introspect;
pub mod items;
pub mod load;
pub mod random_schema;
pub mod runtime_fixture;
pub mod temp_crate;

/// One `#[tokio::test]` per backend (or per SQLite and PostgreSQL only), each calling
/// `$run(Dialect::…)`:
///
/// ```text
/// chakra_tests::on_each_backend!(round_trip: sqlite => round_trip_on_sqlite, postgres => round_trip_on_postgres, mariadb => round_trip_on_mariadb);
/// ```
#[macro_export]
macro_rules! on_each_backend {
    ($run:ident: sqlite => $sqlite:ident, postgres => $postgres:ident, mariadb => $mariadb:ident $(,)?) => {
        $crate::on_each_backend!($run: sqlite => $sqlite, postgres => $postgres);

        #[tokio::test]
        async fn $mariadb() {
            $run(migrations_core::Dialect::MySql).await;
        }
    };
    // For what MySQL cannot do (a transaction around DDL, say).
    ($run:ident: sqlite => $sqlite:ident, postgres => $postgres:ident $(,)?) => {
        #[tokio::test]
        async fn $sqlite() {
            $run(migrations_core::Dialect::Sqlite).await;
        }

        #[tokio::test]
        async fn $postgres() {
            $run(migrations_core::Dialect::Postgres).await;
        }
    };
}
