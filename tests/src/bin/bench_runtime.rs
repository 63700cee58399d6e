//! Benchmark of the runtime against `sqlx::migrate!` over the same SQL (prints numbers;
//! not a test). For 100 and 1,000 migrations (CREATE TABLE + index, and ALTER TABLE ADD
//! COLUMN + index, alternately), on a SQLite file, on PostgreSQL and on MySQL/MariaDB,
//! interleaved A B A B:
//!
//! - (a) boot with nothing pending, process start to exit;
//! - (b) apply all on an empty database, and with `--atomic`;
//! - (c) the floor: the raw SQL in one `sqlite3` / `psql` transaction, or one `mariadb`
//!   session (MySQL commits DDL as it goes, so `--atomic` is a plain apply there).
//!
//! `cargo run --release -p chakra-tests --bin bench_runtime -- [--counts 100,1000] [--runs 5] [--noops 5] [--backends sqlite,postgres,mysql] [--keep]`
//!
//! `--keep` only builds the two apps and prints their binaries, for profiling by hand.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chakra_tests::bench_support::generated;
use chakra_tests::temp_crate::{workspace, TempCrate};
use migrations_core::{Dialect, Schema};

struct Apps {
    ours: TempCrate,
    theirs: TempCrate,
    floor_sqlite: String,
    floor_postgres: String,
    floor_mysql: String,
}

fn build_apps(count: usize) -> Apps {
    let ws = workspace();
    let ours = TempCrate::new("rt_ours", "");
    ours.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nmigrations-runtime = {{ path = {:?}, features = [\"sqlite\", \"postgres\", \"mysql\"] }}\ntokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n\n[build-dependencies]\nmigrations-build = {{ path = {:?} }}\n\n[workspace]\n",
            ours.name,
            ws.join("migrations-runtime").display().to_string(),
            ws.join("migrations-build").display().to_string()
        ),
    );
    ours.write(
        "src/main.rs",
        "mod models;\npub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();\n\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let url = std::env::args().nth(1).expect(\"url\");\n    let atomic = std::env::args().any(|a| a == \"--atomic\");\n    let mut conn = migrations_runtime::AnyConnection::connect(&url).await.expect(\"connect\");\n    let options = migrations_runtime::ApplyOptions { atomic, ..Default::default() };\n    migrations_runtime::Migrator::new(&MIGRATIONS).apply_with(&mut conn, &options).await.expect(\"apply\");\n}\n",
    );
    let theirs = TempCrate::new("rt_sqlx", "");
    theirs.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nsqlx = {{ version = \"0.8\", default-features = false, features = [\"runtime-tokio\", \"migrate\", \"macros\", \"sqlite\", \"postgres\", \"mysql\"] }}\ntokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n\n[workspace]\n",
            theirs.name
        ),
    );
    let _ = std::fs::remove_file(theirs.dir.join("build.rs"));
    let _ = std::fs::remove_file(theirs.dir.join("src/models.rs"));
    theirs.write(
        "src/main.rs",
        "use sqlx::Connection;\n\nstatic SQLITE: sqlx::migrate::Migrator = sqlx::migrate!(\"./migrations_sqlite\");\nstatic POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!(\"./migrations_postgres\");\nstatic MYSQL: sqlx::migrate::Migrator = sqlx::migrate!(\"./migrations_mysql\");\n\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let url = std::env::args().nth(1).expect(\"url\");\n    if url.starts_with(\"sqlite\") {\n        let mut c = sqlx::SqliteConnection::connect(&url).await.expect(\"connect\");\n        SQLITE.run_direct(&mut c).await.expect(\"migrate\");\n    } else if url.starts_with(\"mysql\") {\n        let mut c = sqlx::MySqlConnection::connect(&url).await.expect(\"connect\");\n        MYSQL.run_direct(&mut c).await.expect(\"migrate\");\n    } else {\n        let mut c = sqlx::PgConnection::connect(&url).await.expect(\"connect\");\n        POSTGRES.run_direct(&mut c).await.expect(\"migrate\");\n    }\n}\n",
    );
    let mut schema = Schema::new();
    let (mut floor_sqlite, mut floor_postgres, mut floor_mysql) =
        (String::from("BEGIN;\n"), String::new(), String::new());
    for i in 0..count {
        let (id, ops, module) = generated(i);
        ours.write(&format!("migrations/{id}.rs"), &module);
        for (dialect, dir, floor) in [
            (Dialect::Sqlite, "migrations_sqlite", &mut floor_sqlite),
            (Dialect::Postgres, "migrations_postgres", &mut floor_postgres),
            (Dialect::MySql, "migrations_mysql", &mut floor_mysql),
        ] {
            let (sql, _) = migrations_core::render::render_all(&ops, &schema, dialect).expect("sql");
            let text = sql.join(";\n") + ";\n";
            theirs.write(&format!("{dir}/{:04}_step_{i}.sql", i + 1), &text);
            floor.push_str(&text);
        }
        schema.apply_all(&ops).expect("apply");
    }
    floor_sqlite.push_str("COMMIT;\n");
    ours.write(".chakra/snapshot.toml", &migrations_core::snapshot::to_toml(&schema));
    ours.write("src/models.rs", "");
    for (label, k, envs) in [("chakra", &ours, vec![("CHAKRA_MODE", "off")]), ("sqlx", &theirs, vec![])] {
        let run = k.cargo(&["build", "--release", "-q"], &envs);
        assert!(run.ok, "{label}: {}", run.stderr);
    }
    Apps { ours, theirs, floor_sqlite, floor_postgres, floor_mysql }
}

fn binary(k: &TempCrate) -> std::path::PathBuf {
    chakra_tests::temp_crate::shared_target().join("release").join(&k.name)
}

fn time_cmd(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().expect("run");
    let took = start.elapsed();
    assert!(out.status.success(), "{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    took
}

struct Series(Vec<Duration>);

impl Series {
    fn median(&self) -> f64 {
        let mut v: Vec<f64> = self.0.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn show(&self) -> String {
        let v: Vec<f64> = self.0.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        let (min, max) = v.iter().fold((f64::MAX, 0f64), |(a, b), x| (a.min(*x), b.max(*x)));
        format!("{:8.1} ms ({min:.1}–{max:.1})", self.median())
    }
}

/// Runs `sql` with the `mariadb` client as root on the local server.
fn mariadb(sql: &str) {
    let ok = Command::new("mariadb").args(["-h", "127.0.0.1", "-u", "root", "-e", sql]).output().expect("mariadb");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

/// A fresh, empty database: a new SQLite file, or a recreated PostgreSQL or MySQL database.
fn fresh(backend: &str, sqlite_path: &Path, pg_db: &str) -> String {
    match backend {
        "sqlite" => {
            let _ = std::fs::remove_file(sqlite_path);
            format!("sqlite://{}?mode=rwc", sqlite_path.display())
        }
        "mysql" => {
            mariadb(&format!("DROP DATABASE IF EXISTS {pg_db}; CREATE DATABASE {pg_db}"));
            format!("mysql://root@127.0.0.1:3306/{pg_db}")
        }
        _ => {
            for sql in [format!("DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"), format!("CREATE DATABASE {pg_db}")] {
                let ok = Command::new("psql")
                    .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", &sql])
                    .output()
                    .expect("psql");
                assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
            }
            format!("postgres://postgres@127.0.0.1:5432/{pg_db}")
        }
    }
}

/// The raw SQL in one `sqlite3` / `psql` transaction (one `mariadb` session).
fn floor_run(backend: &str, apps: &Apps, sqlite_path: &Path, pg_db: &str) -> Duration {
    match backend {
        "mysql" => {
            let file = std::env::temp_dir().join("chakra_bench_floor_my.sql");
            std::fs::write(&file, &apps.floor_mysql).expect("write");
            time_cmd(
                Command::new("sh").arg("-c").arg(format!("mariadb -h 127.0.0.1 -u root {pg_db} < {}", file.display())),
            )
        }
        "sqlite" => {
            let file = std::env::temp_dir().join("chakra_bench_floor.sql");
            std::fs::write(&file, &apps.floor_sqlite).expect("write");
            time_cmd(Command::new("sh").arg("-c").arg(format!(
                "sqlite3 {} < {}",
                sqlite_path.display(),
                file.display()
            )))
        }
        _ => {
            let file = std::env::temp_dir().join("chakra_bench_floor_pg.sql");
            std::fs::write(&file, &apps.floor_postgres).expect("write");
            time_cmd(
                Command::new("psql")
                    .args(["-q", "-1", "-h", "127.0.0.1", "-U", "postgres", "-d", pg_db, "-f"])
                    .arg(&file),
            )
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let counts: Vec<usize> =
        arg("--counts").unwrap_or_else(|| "100,1000".into()).split(',').filter_map(|s| s.parse().ok()).collect();
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(5);
    let backends: Vec<String> = arg("--backends")
        .unwrap_or_else(|| "sqlite,postgres".into())
        .split(',')
        .map(|b| match b {
            "sqlite" | "postgres" | "mysql" => b.to_string(),
            "mariadb" => "mysql".to_string(),
            other => {
                eprintln!("unknown backend `{other}`: sqlite, postgres or mysql (MariaDB)");
                std::process::exit(2)
            }
        })
        .collect();
    let noops: usize = arg("--noops").and_then(|r| r.parse().ok()).unwrap_or(5);
    let pg_db = format!("chakra_bench_rt_{}", std::process::id());
    let sqlx_pg_db = format!("chakra_bench_rt_sqlx_{}", std::process::id());
    let sqlite_path = std::env::temp_dir().join(format!("chakra_bench_rt_{}.db", std::process::id()));
    let sqlx_sqlite_path = std::env::temp_dir().join(format!("chakra_bench_rt_sqlx_{}.db", std::process::id()));
    println!("runtime vs sqlx::migrate! (release builds, median of {runs} runs ({noops} no-op boots each), min–max; interleaved A B A B)");
    for &count in &counts {
        let apps = build_apps(count);
        if args.iter().any(|a| a == "--keep") {
            // For profiling by hand: the two apps stay, their binaries printed.
            println!(
                "{count} migrations: chakra {}  sqlx {}",
                binary(&apps.ours).display(),
                binary(&apps.theirs).display()
            );
            println!("  sources: {}  {}", apps.ours.dir.display(), apps.theirs.dir.display());
            std::mem::forget(apps);
            continue;
        }
        for backend in &backends {
            let (mut ours_apply, mut sqlx_apply, mut ours_atomic, mut floor) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut ours_noop, mut sqlx_noop) = (Vec::new(), Vec::new());
            for run in 0..runs {
                // Each app applies to a fresh database of its own; who goes first alternates
                // from run to run, so neither always follows the other's writes. The
                // databases stay applied while the no-op boots alternate: a no-op boot takes
                // a few milliseconds, so it gets several samples per run.
                let ours_url = fresh(backend, &sqlite_path, &pg_db);
                let sqlx_url = fresh(backend, &sqlx_sqlite_path, &sqlx_pg_db);
                let ours_first = run % 2 == 0;
                for turn in [ours_first, !ours_first] {
                    if turn {
                        ours_apply.push(time_cmd(Command::new(binary(&apps.ours)).arg(&ours_url)));
                    } else {
                        sqlx_apply.push(time_cmd(Command::new(binary(&apps.theirs)).arg(&sqlx_url)));
                    }
                }
                for _ in 0..noops {
                    for turn in [ours_first, !ours_first] {
                        if turn {
                            ours_noop.push(time_cmd(Command::new(binary(&apps.ours)).arg(&ours_url)));
                        } else {
                            sqlx_noop.push(time_cmd(Command::new(binary(&apps.theirs)).arg(&sqlx_url)));
                        }
                    }
                }
                // `--atomic` and the floor alternate too, on the same fresh database.
                for turn in [ours_first, !ours_first] {
                    let url = fresh(backend, &sqlite_path, &pg_db);
                    if turn {
                        ours_atomic.push(time_cmd(Command::new(binary(&apps.ours)).arg(&url).arg("--atomic")));
                    } else {
                        floor.push(floor_run(backend, &apps, &sqlite_path, &pg_db));
                    }
                }
            }
            let (oa, sa, at, fl, on, sn) = (
                Series(ours_apply),
                Series(sqlx_apply),
                Series(ours_atomic),
                Series(floor),
                Series(ours_noop),
                Series(sqlx_noop),
            );
            println!("\n{backend}, {count} migrations:");
            println!(
                "  (a) no-op boot      chakra {}   sqlx {}   ratio {:.2}x",
                on.show(),
                sn.show(),
                on.median() / sn.median()
            );
            println!(
                "  (b) apply all       chakra {}   sqlx {}   ratio {:.2}x",
                oa.show(),
                sa.show(),
                oa.median() / sa.median()
            );
            println!(
                "      apply --atomic  chakra {}   floor {}  ratio {:.2}x",
                at.show(),
                fl.show(),
                at.median() / fl.median()
            );
            println!("  (c) raw SQL in one transaction {}", fl.show());
        }
    }
    for db in [&pg_db, &sqlx_pg_db] {
        drop_pg(db);
        if backends.iter().any(|b| b == "mysql") {
            mariadb(&format!("DROP DATABASE IF EXISTS {db}"));
        }
    }
    for path in [&sqlite_path, &sqlx_sqlite_path] {
        let _ = std::fs::remove_file(path);
    }
}

fn drop_pg(db: &str) {
    let _ = Command::new("psql")
        .args([
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        ])
        .output();
}
