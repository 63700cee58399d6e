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

/// [`check_live`], not looking at the tables and indexes named in `ignore` (bookkeeping
/// tables, and what a test made by hand).
pub async fn check_live_ignoring(db: &mut TestDb, schema: &Schema, ignore: &[&str]) -> Result<(), String> {
    let mut live = live_schema(db).await.schema;
    live.tables.retain(|name, _| !ignore.contains(&name.as_str()));
    for t in live.tables.values_mut() {
        t.indexes.retain(|i| !ignore.contains(&i.name.as_str()));
    }
    let drift = compare(schema, &live, db.dialect, Scope { strict: true });
    if drift.is_empty() {
        Ok(())
    } else {
        Err(drift.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    }
}

/// Adopts what `db` holds into a new crate in a temporary folder (what `cargo chakra
/// inspect` does, without building the crate), and returns the snapshot it wrote and
/// what it reported. The folder is removed.
pub async fn adopt_in_fresh_crate(
    db: &mut TestDb,
) -> Result<(Schema, migrations_build::adopt::Adopted), migrations_build::Error> {
    let read = live_schema(db).await;
    let dir = std::env::temp_dir().join(crate::db::unique_name("adopted"));
    std::fs::create_dir_all(dir.join("src")).expect("create the crate");
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"adopted\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        .expect("write Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("write main.rs");
    let mut config = migrations_build::Config::new();
    config.manifest_dir(&dir).cargo_output(false);
    let adoption = migrations_build::adopt::Adoption::of(db.dialect, read);
    let adopted = config.adopt(&adoption);
    let snapshot = std::fs::read_to_string(dir.join(".chakra/snapshot.toml"));
    let _ = std::fs::remove_dir_all(&dir);
    let adopted = adopted?;
    let snapshot = migrations_core::snapshot::from_toml(&snapshot.expect("the snapshot")).expect("read the snapshot");
    Ok((snapshot, adopted))
}
