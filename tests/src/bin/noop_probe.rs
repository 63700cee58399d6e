//! Where a no-op boot's time goes: 1,000 empty migrations recorded as applied, then the
//! phases of a run that finds nothing to do, timed in-process (median of 50).
//! `cargo run --release -p chakra-tests --bin noop_probe -- <DATABASE_URL>`

use std::time::{Duration, Instant};

use migrations_runtime::schema::Migration;
use migrations_runtime::{AnyConnection, Connection, EmbeddedMigration, Migrations, Migrator};

fn nothing(_: &mut Migration) {}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).expect("url");
    let migrations: Vec<EmbeddedMigration> = (0..1000)
        .map(|i| EmbeddedMigration {
            id: Box::leak(format!("{i:04}_m").into_boxed_str()),
            dependencies: if i == 0 {
                &[]
            } else {
                Box::leak(vec![&*Box::leak(format!("{:04}_m", i - 1).into_boxed_str())].into_boxed_slice())
            },
            replaces: &[],
            checksum: "0000000000000000000000000000000000000000000000000000000000000000",
            draft: false,
            up: nothing,
            down: nothing,
        })
        .collect();
    let set: &'static Migrations = Box::leak(Box::new(Migrations {
        app: "probe",
        migrations: Box::leak(migrations.into_boxed_slice()),
        snapshot: "",
    }));
    let migrator = Migrator::new(set);
    if std::env::args().any(|a| a == "--once") {
        // One boot's worth, to look at with strace or perf.
        let mut conn = AnyConnection::connect(&url).await.expect("connect");
        migrator.apply(&mut conn).await.expect("apply");
        return;
    }
    let mut conn = AnyConnection::connect(&url).await.expect("connect");
    migrator.apply(&mut conn).await.expect("first apply");
    let (mut connect, mut lock, mut read, mut unlock, mut apply) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..50 {
        let t = Instant::now();
        let mut c = AnyConnection::connect(&url).await.expect("connect");
        connect.push(t.elapsed());
        let t = Instant::now();
        c.lock(Duration::from_secs(60)).await.expect("lock");
        lock.push(t.elapsed());
        let t = Instant::now();
        let _ = c.applied_brief().await.expect("read");
        read.push(t.elapsed());
        let t = Instant::now();
        c.unlock().await.expect("unlock");
        unlock.push(t.elapsed());
        let t = Instant::now();
        assert!(migrator.apply(&mut c).await.expect("no-op").is_empty());
        apply.push(t.elapsed());
    }
    println!(
        "connect {:.2} ms, lock {:.2} ms, read history {:.2} ms, unlock {:.2} ms; whole no-op apply {:.2} ms",
        median(connect),
        median(lock),
        median(read),
        median(unlock),
        median(apply)
    );
}
