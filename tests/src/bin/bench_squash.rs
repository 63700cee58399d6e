//! Benchmark of a long history before and after `cargo chakra squash` (prints numbers;
//! not a test). One crate with 1,000 generated migrations (the `bench_build` ones: a
//! table with an index, then a column and an index on it, by turns), squashed three ways:
//!
//! - `1,000`: the history as it is;
//! - `squash + 1,000`: the squash written, the replaced files kept (every database not
//!   yet past it);
//! - `squash`: the replaced files deleted;
//!
//! next to `sqlx::migrate!` over the same 1,000 migrations as SQLite files. For each:
//! the rebuild after touching `main.rs` (debug, median of `--runs`, crates taking turns),
//! the size of the release binary, and with it the time to apply everything to a new
//! SQLite file and the time of a boot with nothing to do (median of `--runs`, measured
//! inside the binary around the migrate call).
//!
//! `cargo run --release -p chakra-tests --bin bench_squash -- [--count 1000] [--runs 5]`

use std::process::Command;
use std::time::{Duration, Instant};

use chakra_tests::temp_crate::{shared_target, workspace, TempCrate};

const OURS_MAIN: &str = r#"pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = migrations_runtime::AnyConnection::connect(&url).await.expect("connect");
    let started = std::time::Instant::now();
    let steps = migrations_runtime::Migrator::new(&MIGRATIONS).apply(&mut conn).await.expect("apply");
    println!("{} {}", steps.len(), started.elapsed().as_micros());
}
"#;

const SQLX_MAIN: &str = r#"use sqlx::Connection;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    let started = std::time::Instant::now();
    MIGRATOR.run_direct(&mut conn).await.expect("migrate");
    println!("{} {}", MIGRATOR.iter().count(), started.elapsed().as_micros());
}
"#;

/// The environment a crate's builds take.
type Env = &'static [(&'static str, &'static str)];

const TOKIO: &str = "tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n";

fn ours(count: usize) -> TempCrate {
    let krate = TempCrate::new("bench_squash", "");
    krate.write("src/main.rs", OURS_MAIN);
    krate.write("src/models.rs", "");
    let runtime = format!(
        "migrations-runtime = {{ default-features = false, features = [\"sqlite\"], path = {:?} }}\n",
        workspace().join("migrations-runtime").display().to_string()
    );
    let manifest: String = krate
        .read("Cargo.toml")
        .lines()
        .map(|line| if line.starts_with("migrations-runtime = ") { runtime.clone() } else { format!("{line}\n") })
        .collect::<String>()
        .replace("[build-dependencies]", &format!("{TOKIO}\n[build-dependencies]"));
    krate.write("Cargo.toml", &manifest);
    let mut schema = migrations_core::Schema::new();
    for i in 0..count {
        let (id, ops, module) = chakra_tests::bench_support::generated(i);
        krate.write(&format!("migrations/{id}.rs"), &module);
        schema.apply_all(&ops).expect("replay");
    }
    krate.write(".chakra/snapshot.toml", &migrations_core::snapshot::to_toml(&schema));
    krate
}

fn sqlx(count: usize) -> TempCrate {
    let krate = TempCrate::new("bench_squash_sqlx", "");
    let manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nsqlx = {{ version = \"0.8\", default-features = false, features = [\"migrate\", \"macros\", \"sqlite\", \"runtime-tokio\"] }}\n{TOKIO}\n[workspace]\n",
        krate.name
    );
    krate.write("Cargo.toml", &manifest);
    let _ = std::fs::remove_file(krate.dir.join("build.rs"));
    krate.write("src/main.rs", SQLX_MAIN);
    let mut schema = migrations_core::Schema::new();
    for i in 0..count {
        let (id, ops, _) = chakra_tests::bench_support::generated(i);
        let (sql, after) =
            migrations_core::render::render_all(&ops, &schema, migrations_core::Dialect::Sqlite).expect("sql");
        schema = after;
        krate.write(&format!("migrations/{id}.sql"), &(sql.join(";\n") + ";\n"));
    }
    krate
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the release binary of `krate` on `url`: (migrations it reported, time inside).
fn boot(krate: &TempCrate, url: &str) -> (usize, Duration) {
    let out = Command::new(shared_target().join("release").join(&krate.name))
        .env("DATABASE_URL", url)
        .output()
        .expect("run the benchmark binary");
    assert!(out.status.success(), "{}: {}", krate.name, String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace().map(|w| w.parse::<u64>().unwrap_or_default());
    let n = words.next().unwrap_or_default();
    (usize::try_from(n).unwrap_or_default(), Duration::from_micros(words.next().unwrap_or_default()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let count: usize = arg("--count").and_then(|c| c.parse().ok()).unwrap_or(1000);
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(5);
    const OFF: &[(&str, &str)] = &[("CHAKRA_MODE", "off")];

    let long = ours(count);
    let with_squash = ours(count);
    let squash_only = ours(count);
    let last = chakra_tests::bench_support::generated(count - 1).0;
    let mut config = migrations_build::Config::new();
    let started = Instant::now();
    for krate in [&with_squash, &squash_only] {
        config.manifest_dir(&krate.dir).cargo_output(false);
        let squashed = config.squash(None, &last, None).expect("squash");
        println!("{}", squashed.summary().lines().next().unwrap_or_default());
    }
    println!("cargo chakra squash of {count} migrations: {} (twice)", ms(started.elapsed()));
    for entry in std::fs::read_dir(squash_only.dir.join("migrations")).expect("migrations").flatten() {
        if !entry.file_name().to_string_lossy().contains("squashed") {
            std::fs::remove_file(entry.path()).expect("delete a replaced file");
        }
    }
    let theirs = sqlx(count);
    let crates: [(&str, &TempCrate, Env); 4] = [
        ("1,000 migrations", &long, OFF),
        ("squash + the 1,000 it replaces", &with_squash, OFF),
        ("squash alone", &squash_only, OFF),
        ("sqlx::migrate!, 1,000 files", &theirs, &[]),
    ];

    // Compile cost: the rebuild after touching main.rs, crates taking turns.
    for (_, k, envs) in &crates {
        for _ in 0..2 {
            let warm = k.cargo(&["build", "-q"], envs);
            assert!(warm.ok, "{}: {}", k.name, warm.stderr);
        }
    }
    let mut rebuilds = vec![Vec::new(); crates.len()];
    for _ in 0..runs {
        for (i, (_, k, envs)) in crates.iter().enumerate() {
            let main = k.read("src/main.rs");
            k.write("src/main.rs", &main);
            let started = Instant::now();
            assert!(k.cargo(&["build", "-q"], envs).ok);
            rebuilds[i].push(started.elapsed());
        }
    }

    println!("\n{count} migrations on SQLite (release binaries; times inside the binary; median of {runs})");
    println!("{:<34} {:>16} {:>14} {:>14} {:>14}", "", "rebuild (debug)", "binary size", "apply all", "no-op boot");
    for (i, (label, k, envs)) in crates.iter().enumerate() {
        let built = k.cargo(&["build", "-q", "--release"], envs);
        assert!(built.ok, "{}: {}", k.name, built.stderr);
        let size = std::fs::metadata(shared_target().join("release").join(&k.name)).map_or(0, |m| m.len());
        let mut apply = Vec::new();
        let mut noop = Vec::new();
        for run in 0..runs {
            let file = std::env::temp_dir().join(format!("bench_squash_{}_{run}.db", k.name));
            let _ = std::fs::remove_file(&file);
            let url = format!("sqlite://{}?mode=rwc", file.display());
            let (applied, t) = boot(k, &url);
            assert!(applied > 0, "{label}: nothing applied");
            apply.push(t);
            noop.push(boot(k, &url).1);
            let _ = std::fs::remove_file(&file);
        }
        println!(
            "{label:<34} {:>16} {:>11.1} MB {:>14} {:>14}",
            ms(median(rebuilds[i].clone())),
            size as f64 / 1e6,
            ms(median(apply)),
            ms(median(noop))
        );
    }
}
