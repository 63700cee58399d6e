//! `cargo chakra squash`, end to end with real `cargo` on a temporary workspace and real
//! databases:
//!
//! ```text
//! <tmp>/auth/     library: users, four migrations to squash (a create, an added column,
//!                 a rename, a hand-written SQL data step), then one after them
//! <tmp>/server/   binary: posts, whose first migration depends on auth/0001_initial
//!                 (a migration the squash replaces), and the `migrate` CLI
//! ```
//!
//! On SQLite, PostgreSQL and MariaDB, databases that applied none, some and all of the
//! replaced migrations (with rows in them) boot with the squashed binary and end with the
//! same introspected schema and every row; then the replaced files are deleted, and the
//! binary without them still boots all of them, refuses one left half way with what to
//! do, and rolls back across the squash whole (never part way).

use chakra_tests::db::TestDb;
use chakra_tests::introspect::live_schema;
use chakra_tests::temp_crate::{Run, TempCrate};
use migrations_core::catalog::{compare, Scope};
use migrations_core::Dialect;

fn assert_ok(step: &str, run: &Run) {
    assert!(run.ok, "{step} failed:\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
}

fn manifest(name: &str, deps: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n\
         migrations-runtime = {{ path = {runtime}, features = [\"postgres\", \"mysql\", \"sqlite\"] }}\n{deps}\n\
         [build-dependencies]\nmigrations-build = {{ path = {build} }}\n",
        runtime = TempCrate::path_to("migrations-runtime"),
        build = TempCrate::path_to("migrations-build"),
    )
}

/// The `users` model at each step of auth's history.
fn users(step: u32) -> String {
    let email = if step >= 3 {
        "#[model(max_length = 100, unique, renamed_from = \"email\")]\n    pub login: String,"
    } else {
        "#[model(max_length = 100, unique)]\n    pub email: String,"
    };
    let nickname = if step >= 2 { "\n    #[model(max_length = 40)]\n    pub nickname: Option<String>," } else { "" };
    let active = if step >= 5 { "\n    #[model(default = true)]\n    pub active: bool," } else { "" };
    format!(
        "use migrations_runtime::Model;\n\n/// An account.\n#[derive(Model)]\n#[model(table = \"users\")]\npub struct User {{\n    \
         #[model(primary_key, auto_increment)]\n    pub id: i64,\n    {email}{nickname}{active}\n}}\n"
    )
}

const DATA_STEP: &str = r#"// Written by a person: accounts without a nickname get their login.

use migrations_runtime::schema::*;

pub const ID: &str = "0004_nickname_from_login";
pub const DEPENDENCIES: &[&str] = &["0003_rename_user_email_to_login"];

pub fn up(m: &mut Migration) {
    m.run_sql(
        "UPDATE users SET nickname = login WHERE nickname IS NULL",
        Some("UPDATE users SET nickname = NULL WHERE nickname = login"),
    );
}

pub fn down(m: &mut Migration) {
    m.run_sql(
        "UPDATE users SET nickname = NULL WHERE nickname = login",
        Some("UPDATE users SET nickname = login WHERE nickname IS NULL"),
    );
}
"#;

const SERVER_MODELS: &str = r#"use migrations_runtime::Model;

/// A post by a user.
#[derive(Model)]
pub struct Post {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = auth::User, on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
}
"#;

const SERVER_MAIN: &str = r#"mod models;

static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();

#[derive(clap::Parser)]
enum Cli {
    #[command(subcommand)]
    Migrate(migrations_runtime::cli::MigrateCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Cli::Migrate(cmd) = <Cli as clap::Parser>::parse();
    let migrator = migrations_runtime::Migrator::for_apps([&auth::MIGRATIONS, &MIGRATIONS]);
    cmd.run(&migrator, &std::env::var("DATABASE_URL").expect("DATABASE_URL")).await
}
"#;

fn workspace() -> TempCrate {
    let ws = TempCrate::workspace_folder("squash", "server");
    ws.write("Cargo.toml", "[workspace]\nmembers = [\"auth\", \"server\"]\nresolver = \"2\"\n");
    ws.write("auth/Cargo.toml", &manifest("auth", ""));
    ws.write("auth/build.rs", "fn main() {\n    migrations_build::run();\n}\n");
    ws.write(
        "auth/src/lib.rs",
        "mod models;\n\npub use models::*;\n\n/// This app's migrations.\npub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();\n",
    );
    let deps = "auth = { path = \"../auth\" }\nclap = { version = \"4\", features = [\"derive\"] }\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n";
    ws.write("server/Cargo.toml", &manifest("server", deps));
    ws.write("server/build.rs", "fn main() {\n    migrations_build::run();\n}\n");
    ws.write("server/src/main.rs", SERVER_MAIN);
    ws.write("server/src/models.rs", SERVER_MODELS);
    ws
}

/// Auth's history, sealed step by step, with server's first migration after auth's first.
fn history(ws: &TempCrate) {
    let seal = |app: &str, name: &str| {
        assert_ok(&format!("seal {app} {name}"), &ws.cargo(&["build", "-p", app], &[("CHAKRA_SEAL", name)]));
    };
    ws.write("auth/src/models.rs", &users(1));
    seal("auth", "initial");
    seal("server", "initial");
    ws.write("auth/src/models.rs", &users(2));
    seal("auth", "add_user_nickname");
    ws.write("auth/src/models.rs", &users(3));
    seal("auth", "rename_user_email_to_login");
    ws.write("auth/migrations/0004_nickname_from_login.rs", DATA_STEP);
    ws.write("auth/src/models.rs", &users(5));
    seal("auth", "add_user_active");
    let files: Vec<String> = std::fs::read_dir(ws.dir.join("auth/migrations"))
        .expect("migrations")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 5, "{files:?}");
    assert!(ws.read("server/migrations/0001_initial.rs").contains("\"auth/0001_initial\""));
}

const REPLACED: [&str; 4] =
    ["0001_initial", "0002_add_user_nickname", "0003_rename_user_email_to_login", "0004_nickname_from_login"];

/// A database at one point of auth's history, with a row written there.
struct Point {
    name: &'static str,
    db: TestDb,
}

#[tokio::test]
async fn a_squashed_history_boots_databases_at_every_point_of_it() {
    let ws = workspace();
    history(&ws);
    assert_ok("build before the squash", &ws.cargo(&["build"], &[]));

    // Databases at every point of the run the squash will replace, built by the binary
    // without it, each with a user written where it stands.
    let mut points: Vec<(Dialect, Vec<Point>)> = Vec::new();
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
        let mut here = Vec::new();
        let nickname = Some("auth/0002_add_user_nickname");
        for (name, to) in
            [("none", None), ("some", nickname), ("all", Some("auth/0004_nickname_from_login")), ("late", nickname)]
        {
            let Some(mut db) = TestDb::create(dialect, &format!("squash_{name}")).await else { continue };
            if let Some(to) = to {
                let applied = ws.run(&["migrate", "apply", to], &[("DATABASE_URL", db.url.as_str())]);
                assert_ok(&format!("{dialect} {name}: apply {to}"), &applied);
                let insert = if Some(to) == nickname {
                    "INSERT INTO users (email, nickname) VALUES ('ana@example.com', NULL)"
                } else {
                    // (The data step ran before this row: it is written as the step leaves rows.)
                    "INSERT INTO users (login, nickname) VALUES ('ana@example.com', 'ana@example.com')"
                };
                db.execute(insert).await.expect(insert);
            }
            here.push(Point { name, db });
        }
        points.push((dialect, here));
    }

    // The squash: four migrations, the data step kept in order.
    let squashed = ws.chakra(&["--manifest-path", "auth/Cargo.toml", "squash", "--to", "0004_nickname_from_login"]);
    assert_ok("cargo chakra squash", &squashed);
    assert!(squashed.stdout.contains("replaces 4 migrations"), "{}", squashed.stdout);
    let squash = ws.read("auth/migrations/0001_squashed_0004.rs");
    assert!(squash.contains("pub const REPLACES: &[&str]"), "{squash}");
    for id in REPLACED {
        assert!(squash.contains(&format!("\"{id}\"")), "{id} not replaced:\n{squash}");
    }
    assert!(squash.contains("UPDATE users SET nickname = login"), "the data step is gone:\n{squash}");
    assert!(!squash.contains("rename_field"), "a column created and renamed in the run is created renamed:\n{squash}");
    assert!(squash.find("create_model").unwrap() < squash.find("run_sql").unwrap(), "{squash}");
    // The build goes on: nothing to seal, the snapshot agrees, the next draft follows the squash.
    let check = ws.cargo(&["build", "-p", "auth"], &[("CHAKRA_MODE", "check")]);
    assert_ok("check mode after the squash", &check);
    assert_ok("build with the squash", &ws.cargo(&["build"], &[]));

    for (dialect, here) in &mut points {
        let dialect = *dialect;
        let mut schemas = Vec::new();
        // (`late` stays where it is: it boots with the binary without the replaced files.)
        for p in here.iter_mut().filter(|p| p.name != "late") {
            let env = [("DATABASE_URL", p.db.url.as_str())];
            let applied = ws.run(&["migrate", "apply"], &env);
            assert_ok(&format!("{dialect} {}: apply with the squash", p.name), &applied);
            let ran: Vec<&str> = applied.stdout.lines().filter(|l| l.starts_with('→')).collect();
            let expected: &[&str] = match p.name {
                "none" => &["→ auth/0001_squashed_0004", "→ auth/0005_add_user_active", "→ server/0001_initial"],
                "some" => &[
                    "→ auth/0003_rename_user_email_to_login",
                    "→ auth/0004_nickname_from_login",
                    "→ auth/0005_add_user_active",
                    "→ server/0001_initial",
                ],
                _ => &["→ auth/0005_add_user_active", "→ server/0001_initial"],
            };
            let ids: Vec<&str> = ran.iter().map(|l| l.split('…').next().unwrap_or_default().trim_end()).collect();
            assert_eq!(ids, expected, "{dialect} {}:\n{}", p.name, applied.stdout);
            let status = ws.run(&["migrate", "status"], &env);
            assert_ok("status", &status);
            assert!(!status.stdout.contains("pending"), "{dialect} {}: {}", p.name, status.stdout);
            assert_ok(&format!("{dialect} {}: verify", p.name), &ws.run(&["migrate", "verify"], &env));
            if p.name != "none" {
                let rows = p.db.query_strings("SELECT login || '/' || nickname FROM users").await;
                let rows = if dialect == Dialect::MySql {
                    p.db.query_strings("SELECT CONCAT(login, '/', nickname) FROM users").await
                } else {
                    rows
                };
                assert_eq!(rows, ["ana@example.com/ana@example.com"], "{dialect} {}", p.name);
            }
            let mut live = live_schema(&mut p.db).await.schema;
            live.tables.retain(|t, _| !t.starts_with("_chakra"));
            schemas.push((p.name, live));
        }
        for (name, schema) in &schemas[1..] {
            let drift = compare(&schemas[0].1, schema, dialect, Scope { strict: true });
            assert!(drift.is_empty(), "{dialect}: `{name}` differs from `none`: {drift:?}");
        }
    }

    // Every database has the squash: the replaced files go, and the build and the
    // binary go on without them.
    for id in REPLACED {
        std::fs::remove_file(ws.dir.join(format!("auth/migrations/{id}.rs"))).expect("delete replaced");
    }
    assert_ok(
        "check mode without the replaced files",
        &ws.cargo(&["build", "-p", "auth"], &[("CHAKRA_MODE", "check")]),
    );
    assert_ok("build without the replaced files", &ws.cargo(&["build"], &[]));
    for (dialect, here) in &mut points {
        for p in here.iter_mut().filter(|p| p.name != "late") {
            let env = [("DATABASE_URL", p.db.url.as_str())];
            let again = ws.run(&["migrate", "apply"], &env);
            assert_ok(&format!("{dialect} {}: apply without the replaced files", p.name), &again);
            assert!(!again.stdout.contains('→'), "{dialect} {}: ran again:\n{}", p.name, again.stdout);
            let status = ws.run(&["migrate", "status"], &env);
            assert!(status.stdout.contains("✓ auth/0001_squashed_0004"), "{dialect} {}: {}", p.name, status.stdout);
            assert!(!status.stdout.contains("not in this binary"), "{dialect} {}: {}", p.name, status.stdout);
        }
        // Rolling back into the squash is refused; across it, whole, works.
        let none = &mut here.iter_mut().find(|p| p.name == "none").expect("none").db;
        let env = [("DATABASE_URL", none.url.as_str())];
        let part = ws.run(&["migrate", "rollback", "--to", "auth/0002_add_user_nickname", "--yes"], &env);
        assert!(!part.ok, "{dialect}: rolled back into the squash:\n{}", part.stdout);
        assert!(part.stderr.contains("the squash `auth/0001_squashed_0004` replaces"), "{dialect}: {}", part.stderr);
        let all = ws.run(&["migrate", "rollback", "zero", "--yes"], &env);
        assert_ok(&format!("{dialect}: rollback across the squash"), &all);
        let status = ws.run(&["migrate", "status"], &env);
        assert_eq!(status.stdout.matches("pending").count(), 3, "{dialect}: {}", status.stdout);
        assert_ok(&format!("{dialect}: apply after the rollback"), &ws.run(&["migrate", "apply"], &env));

        // A database left part way through the replaced run cannot be finished by a
        // binary that no longer has those migrations: it says which, and what to do.
        let late = &here.iter().find(|p| p.name == "late").expect("late").db;
        let refused = ws.run(&["migrate", "apply"], &[("DATABASE_URL", late.url.as_str())]);
        assert!(!refused.ok, "{dialect}: a database part way through the squash booted:\n{}", refused.stdout);
        assert!(
            refused.stderr.contains("applied 2 of the 4 migrations that the squash auth/0001_squashed_0004 replaces")
                && refused.stderr.contains("0003_rename_user_email_to_login, 0004_nickname_from_login")
                && refused.stderr.contains("deploy a binary that still has them first"),
            "{dialect}: {}",
            refused.stderr
        );
    }
    for (_, here) in points {
        for p in here {
            p.db.destroy().await;
        }
    }
}
