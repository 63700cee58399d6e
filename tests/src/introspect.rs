//! The live schema of a test database, read back by the runtime's own introspection
//! ([`migrations_runtime::introspect`]) and compared with what the IR says the database
//! should hold by the same comparison `migrate verify` uses
//! ([`migrations_core::catalog::compare`]), in strict mode: anything more is a
//! difference too.

use migrations_core::catalog::{compare, Scope};
use migrations_core::Schema;
use migrations_runtime::introspect::{inspect, InspectOptions, Inspected};

use crate::db::{Conn, TestDb};

/// Reads the live schema of `db`.
pub async fn live_schema(db: &mut TestDb) -> Inspected {
    let options = InspectOptions::default();
    let read = match &mut db.conn {
        Conn::Pg(c) => inspect(c, &options).await,
        Conn::My(c) => inspect(c, &options).await,
        Conn::Lite(c) => inspect(c, &options).await,
    };
    read.unwrap_or_else(|e| panic!("{}: reading the catalog: {e}", db.dialect))
}

/// Reads the live schema of `db` and describes how it differs from what `schema` says.
pub async fn check_live(db: &mut TestDb, schema: &Schema) -> Result<(), String> {
    check_live_ignoring(db, schema, &[]).await
}

/// [`check_live`], not looking at the tables named in `ignore` (bookkeeping tables).
pub async fn check_live_ignoring(db: &mut TestDb, schema: &Schema, ignore: &[&str]) -> Result<(), String> {
    let mut live = live_schema(db).await.schema;
    live.tables.retain(|name, _| !ignore.contains(&name.as_str()));
    let drift = compare(schema, &live, db.dialect, Scope { strict: true });
    if drift.is_empty() {
        Ok(())
    } else {
        Err(drift.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    }
}
