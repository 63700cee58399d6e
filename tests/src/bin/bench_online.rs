//! What each schema change the autodetector makes to a table that already holds rows
//! costs its other users (prints numbers; not a test). On PostgreSQL and MariaDB, an
//! `accounts` table of `--rows` rows (and as many `orders`; the tables of the
//! `0201_create_accounts` fixture), a writer (an `UPDATE` and two
//! `INSERT`s in a loop) and a reader (a point `SELECT` in a loop); then each operation
//! kind, once as plain SQL in one transaction (the forms every migration ran in before:
//! `apply --atomic` still runs them) and once in its online form (the default), each
//! undone before the next. Printed: the migration's wall time, and the writer's and the
//! reader's maximum and 99th-percentile latency while it ran.
//!
//! `cargo run --release -p chakra-tests --bin bench_online -- [--rows 1000000] [--backends postgres,mariadb]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chakra_tests::db::TestDb;
use chakra_tests::load::{worker, Seen};
use chakra_tests::runtime_fixture::{ACCOUNTS_DOWN, ACCOUNTS_UP};
use migrations_core::Dialect;
use migrations_runtime::schema::*;
use migrations_runtime::{AnyConnection, ApplyOptions, EmbeddedMigration, Migrations, Migrator, RollbackTarget};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn email(nullable: bool) -> Column {
    let c = Column::new("email", ColumnType::Varchar(100));
    if nullable {
        c.nullable()
    } else {
        c
    }
}

/// One operation kind as a migration after the base: its name, `up` and `down`.
macro_rules! kinds {
    ($($name:ident: $label:literal, |$m:ident| $up:expr, $down:expr;)*) => {
        $(
            mod $name {
                use super::*;
                pub fn up($m: &mut Migration) { $up; }
                pub fn down($m: &mut Migration) { $down; }
                pub static SET: Migrations = Migrations {
                    app: "bench",
                    migrations: &[
                        EmbeddedMigration { id: "0001_base", dependencies: &[], replaces: &[], checksum: "base", draft: false, up: ACCOUNTS_UP, down: ACCOUNTS_DOWN },
                        EmbeddedMigration { id: "0002_change", dependencies: &["0001_base"], replaces: &[], checksum: $label, draft: false, up, down },
                    ],
                    snapshot: "",
                };
            }
        )*
        const KINDS: &[(&str, &Migrations)] = &[$(($label, &$name::SET)),*];
    };
}

kinds! {
    create_index: "CreateIndex", |m| m.create_index("accounts", Index::new("ix_accounts_email", &["email"])), m.drop_index("accounts", "ix_accounts_email");
    drop_index: "DropIndex", |m| m.drop_index("orders", "ix_orders_amount"), m.create_index("orders", Index::new("ix_orders_amount", &["amount"]));
    add_unique: "AddConstraint unique", |m| m.add_constraint("accounts", Unique::new("uq_accounts_handle", &["handle"])), m.remove_constraint("accounts", "uq_accounts_handle");
    add_foreign_key: "AddConstraint foreign key", |m| m.add_constraint("orders", ForeignKey::new("fk_orders_account_id_accounts", &["account_id"], "accounts", &["id"])), m.remove_constraint("orders", "fk_orders_account_id_accounts");
    add_check: "AddConstraint check", |m| m.add_constraint("accounts", Check::new("ck_accounts_score", "score >= 0")), m.remove_constraint("accounts", "ck_accounts_score");
    set_not_null: "AlterField NOT NULL (fill)", |m| m.alter_field_filled("accounts", email(true), email(false), DefaultValue::text("unknown@example.com")), m.alter_field("accounts", email(false), email(true));
    add_volatile: "AddField NOT NULL uuid default", |m| m.add_field("accounts", Column::new("token", ColumnType::Uuid).default(DefaultValue::Expr("gen_uuid()".into()))), m.remove_field("accounts", "token");
    add_nullable: "AddField nullable", |m| m.add_field("accounts", Column::new("bio", ColumnType::Text).nullable()), m.remove_field("accounts", "bio");
    widen_type: "AlterField integer -> bigint (rewrite)", |m| m.alter_field("accounts", Column::new("score", ColumnType::Integer).default(DefaultValue::num("0")), Column::new("score", ColumnType::BigInt).default(DefaultValue::num("0"))), m.alter_field("accounts", Column::new("score", ColumnType::BigInt).default(DefaultValue::num("0")), Column::new("score", ColumnType::Integer).default(DefaultValue::num("0")));
}

async fn fill(db: &mut TestDb, rows: u64) {
    let series = match db.dialect {
        Dialect::Postgres => format!("generate_series(1, {rows}) AS s(n)"),
        _ => format!("(SELECT seq AS n FROM mysql.seq_1_to_{rows}) AS s"),
    };
    let accounts = format!(
        "INSERT INTO accounts (email, handle, score) SELECT CASE WHEN n % 10 = 0 THEN NULL ELSE CONCAT('user', n, '@example.com') END, CONCAT('user-', n), n FROM {series}"
    );
    let orders = format!("INSERT INTO orders (account_id, amount) SELECT n, n % 1000 FROM {series}");
    db.execute_all(&[accounts, orders]).await;
    if db.dialect == Dialect::Postgres {
        db.execute_all(&["VACUUM ANALYZE accounts".into(), "VACUUM ANALYZE orders".into()]).await;
    }
}

/// One measured migration: its wall time and the writer's and reader's latencies.
async fn measure(db: &TestDb, set: &'static Migrations, atomic: bool, rows: u64) -> (Duration, Seen, Seen) {
    let stop = AtomicBool::new(false);
    let writer = worker(
        db.dialect,
        db.url.clone(),
        vec![
            "UPDATE accounts SET score = score + 1 WHERE id = {n}",
            "INSERT INTO accounts (email, handle, score) VALUES ('w{u}@example.com', 'writer-{u}', 1)",
            "INSERT INTO orders (account_id, amount) VALUES ({n}, 7)",
        ],
        rows,
        &stop,
    );
    let reader = worker(db.dialect, db.url.clone(), vec!["SELECT email FROM accounts WHERE id = {n}"], rows, &stop);
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migration = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let options = ApplyOptions { atomic, ..ApplyOptions::default() };
        let result = Migrator::new(set).on_progress(|_| {}).apply_with(&mut conn, &options).await;
        let wall = started.elapsed();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.store(true, Ordering::Relaxed);
        if let Err(e) = result {
            println!("  (the migration failed: {})", e.to_string().lines().next().unwrap_or_default());
        }
        wall
    };
    let (wall, writes, reads) = tokio::join!(migration, writer, reader);
    Migrator::new(set)
        .rollback(&mut conn, &RollbackTarget::To("0001_base".into()), false)
        .await
        .expect("undo the change for the next measurement");
    // The emails a NOT NULL fill wrote are NULL again, for the next run to fill.
    let mut db_conn = AnyConnection::connect(&db.url).await.expect("connect");
    migrations_runtime::Connection::execute(
        &mut db_conn,
        "UPDATE accounts SET email = NULL WHERE email = 'unknown@example.com'",
    )
    .await
    .expect("reset the filled emails");
    (wall, writes, reads)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let rows: u64 = arg("--rows").and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let backends = arg("--backends").unwrap_or_else(|| "postgres,mariadb".into());
    println!("bench_online: {rows} rows in accounts and in orders; a writer and a reader run throughout");
    println!(
        "{:<9} {:<40} {:<7} {:>10}  {:>20}  {:>20}",
        "backend", "operation", "form", "migration", "writer max / p99", "reader max / p99"
    );
    for backend in backends.split(',') {
        let dialect = backend.parse::<Dialect>().ok().filter(|d| *d != Dialect::Sqlite);
        let dialect = dialect.unwrap_or_else(|| panic!("unknown backend `{backend}`: postgres or mariadb"));
        let Some(mut db) = TestDb::create(dialect, "benchonline").await else { continue };
        let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
        let first = ApplyOptions { target: Some("0001_base".into()), ..Default::default() };
        Migrator::new(KINDS[0].1).apply_with(&mut conn, &first).await.expect("base");
        drop(conn);
        fill(&mut db, rows).await;
        for (label, set) in KINDS {
            for (form, atomic) in [("plain", true), ("online", false)] {
                let (wall, writes, reads) = measure(&db, set, atomic, rows).await;
                println!(
                    "{:<9} {:<40} {:<7} {:>8.0} ms  {:>20}  {:>20}",
                    backend,
                    label,
                    form,
                    wall.as_secs_f64() * 1000.0,
                    writes.summary(),
                    reads.summary()
                );
                for failure in writes.failures.iter().chain(&reads.failures) {
                    println!("          a worker's statement failed: {}", failure.lines().next().unwrap_or_default());
                }
            }
        }
        db.destroy().await;
    }
}
