//! Apps across crates, end to end with real `cargo` on a temporary workspace:
//!
//! ```text
//! <tmp>/Cargo.toml          [workspace] members = ["auth", "billing", "server"]
//! <tmp>/auth/               library: User (table `users`)
//! <tmp>/billing/            library: Invoice, `references = auth::User`
//! <tmp>/server/             binary linking both: AuditEntry, `references = "billing.invoices(id)"`,
//!                           and the mounted `migrate` CLI
//! ```
//!
//! Each crate generates and owns its migrations; the generated files depend on the other
//! apps' migrations that created the referenced tables; the binary applies all three apps
//! in order on SQLite, PostgreSQL and MariaDB; rolling back an app another app depends on
//! is refused naming the dependent; a missing app and a cycle are refused at startup.

use chakra_tests::db::TestDb;
use chakra_tests::temp_crate::{Run, TempCrate};
use migrations_core::Dialect;

fn assert_ok(step: &str, run: &Run) {
    assert!(run.ok, "{step} failed:\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
}

fn manifest(name: &str, kind: &str, deps: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false
{kind}
[dependencies]
migrations-runtime = {{ path = {runtime}, features = ["postgres", "mysql", "sqlite"] }}
{deps}
[build-dependencies]
migrations-build = {{ path = {build} }}
"#,
        runtime = TempCrate::path_to("migrations-runtime"),
        build = TempCrate::path_to("migrations-build"),
    )
}

const AUTH_MODELS: &str = r#"use migrations_runtime::Model;

/// An account.
#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub email: String,
}
"#;

const BILLING_MODELS: &str = r#"use migrations_runtime::Model;

/// What a user owes.
#[derive(Model)]
pub struct Invoice {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = auth::User, on_delete = "cascade")]
    pub user_id: i64,
    pub amount_cents: i64,
}
"#;

const SERVER_MODELS: &str = r#"use migrations_runtime::Model;

/// Who looked at an invoice.
#[derive(Model)]
#[model(table = "audit_entries")]
pub struct AuditEntry {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = "billing.invoices(id)")]
    pub invoice_id: i64,
}
"#;

const SERVER_MAIN: &str = r#"mod models;

use clap::Parser;

static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();

#[derive(Parser)]
struct Cli {
    /// Leave this app out (to show the error a binary that does not link it gets).
    #[arg(long)]
    without: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    #[command(subcommand)]
    Migrate(migrations_runtime::cli::MigrateCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let apps = [&auth::MIGRATIONS, &billing::MIGRATIONS, &MIGRATIONS]
        .into_iter()
        .filter(|m| cli.without.as_deref() != Some(m.app));
    let migrator = migrations_runtime::Migrator::for_apps(apps);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let Command::Migrate(cmd) = cli.command;
    cmd.run(&migrator, &url).await
}
"#;

const LIB: &str = "mod models;\n\npub use models::*;\n\n/// This app's migrations.\npub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();\n";

fn workspace() -> TempCrate {
    let ws = TempCrate::workspace_folder("apps", "server");
    ws.write("Cargo.toml", "[workspace]\nmembers = [\"auth\", \"billing\", \"server\"]\nresolver = \"2\"\n");
    for (name, models, deps) in
        [("auth", AUTH_MODELS, ""), ("billing", BILLING_MODELS, "auth = { path = \"../auth\" }\n")]
    {
        ws.write(&format!("{name}/Cargo.toml"), &manifest(name, "", deps));
        ws.write(&format!("{name}/build.rs"), "fn main() {\n    migrations_build::run();\n}\n");
        ws.write(&format!("{name}/src/lib.rs"), LIB);
        ws.write(&format!("{name}/src/models.rs"), models);
    }
    let server_deps = "auth = { path = \"../auth\" }\nbilling = { path = \"../billing\" }\nclap = { version = \"4\", features = [\"derive\"] }\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n";
    ws.write("server/Cargo.toml", &manifest("server", "", server_deps));
    ws.write("server/build.rs", "fn main() {\n    migrations_build::run();\n}\n");
    ws.write("server/src/main.rs", SERVER_MAIN);
    ws.write("server/src/models.rs", SERVER_MODELS);
    ws
}

fn migrations_of(ws: &TempCrate, app: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(ws.dir.join(app).join("migrations"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn three_crates_generate_apply_and_roll_back_in_dependency_order() {
    let ws = workspace();

    // A crate referencing an app whose table is not sealed yet is told what to do.
    let early = ws.cargo(&["build", "-p", "billing"], &[]);
    assert!(!early.ok, "billing built before auth was sealed:\n{}", early.stderr);
    assert!(
        early.stderr.contains("table `users` of app `auth` is not in its sealed migrations yet"),
        "{}",
        early.stderr
    );
    assert!(early.stderr.contains("billing/src/models.rs:8:"), "no file:line:\n{}", early.stderr);

    // Each crate generates and owns its migrations; sealing one app at a time.
    for app in ["auth", "billing", "server"] {
        assert_ok(&format!("seal {app}"), &ws.cargo(&["build", "-p", app], &[("CHAKRA_SEAL", "initial")]));
        assert_eq!(migrations_of(&ws, app), ["0001_initial.rs"], "{app}");
        assert!(ws.read(&format!("{app}/.chakra/snapshot.toml")).contains("[tables."), "{app} snapshot");
    }
    assert!(ws.read("auth/migrations/0001_initial.rs").contains("pub const DEPENDENCIES: &[&str] = &[];"));
    let billing = ws.read("billing/migrations/0001_initial.rs");
    assert!(billing.contains(r#"pub const DEPENDENCIES: &[&str] = &["auth/0001_initial"];"#), "{billing}");
    let server = ws.read("server/migrations/0001_initial.rs");
    assert!(server.contains(r#"pub const DEPENDENCIES: &[&str] = &["billing/0001_initial"];"#), "{server}");
    assert_ok("build all", &ws.cargo(&["build"], &[]));

    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
        let Some(db) = TestDb::create(dialect, "apps").await else { continue };
        let url = db.url.clone();
        let env = [("DATABASE_URL", url.as_str())];
        let migrate = |args: &[&str]| {
            let mut all = vec!["migrate"];
            all.extend_from_slice(args);
            ws.run(&all, &env)
        };

        let applied = migrate(&["apply"]);
        assert_ok(&format!("{dialect}: apply"), &applied);
        let order: Vec<&str> = applied.stdout.lines().filter(|l| l.starts_with('→')).collect();
        assert_eq!(
            order.iter().map(|l| l.split('…').next().unwrap_or_default()).collect::<Vec<_>>(),
            ["→ auth/0001_initial", "→ billing/0001_initial", "→ server/0001_initial"],
            "{dialect}: {}",
            applied.stdout
        );
        let status = migrate(&["status"]);
        assert_ok(&format!("{dialect}: status"), &status);
        for key in ["auth/0001_initial", "billing/0001_initial", "server/0001_initial"] {
            assert!(status.stdout.contains(&format!("✓ {key} (applied ")), "{dialect}: {}", status.stdout);
        }
        println!("{dialect}: migrate status\n{}", status.stdout);
        let history = migrate(&["history"]);
        assert_ok(&format!("{dialect}: history"), &history);
        let apps: Vec<&str> =
            history.stdout.lines().filter_map(|l| l.split_whitespace().find(|w| w.contains("/0"))).collect();
        assert_eq!(apps, ["auth/0001_initial", "billing/0001_initial", "server/0001_initial"], "{}", history.stdout);

        // The live schema has the cross-app foreign keys.
        let sql = migrate(&["sql", "billing/0001_initial"]);
        assert_ok(&format!("{dialect}: sql"), &sql);
        assert!(sql.stdout.contains("REFERENCES") && sql.stdout.contains("users"), "{}", sql.stdout);

        // auth cannot go while billing, which depends on it, stays.
        let refused = migrate(&["rollback", "--app", "auth"]);
        assert!(!refused.ok, "{dialect}: rolling back auth under billing succeeded:\n{}", refused.stdout);
        assert!(
            refused.stderr.contains("cannot roll back auth/0001_initial: billing/0001_initial depends on it"),
            "{dialect}: {}",
            refused.stderr
        );
        assert!(migrate(&["status"]).stdout.contains("✓ auth/0001_initial"), "{dialect}: auth was touched");

        // Dependents first, one app at a time, then everything applies again.
        for app in ["server", "billing", "auth"] {
            let back = migrate(&["rollback", "--app", app]);
            assert_ok(&format!("{dialect}: rollback --app {app}"), &back);
            assert!(back.stdout.contains("rolled back 1 migration"), "{}", back.stdout);
        }
        let empty = migrate(&["status"]);
        assert_eq!(empty.stdout.matches("(pending)").count(), 3, "{dialect}: {}", empty.stdout);
        assert_ok(&format!("{dialect}: apply again"), &migrate(&["apply"]));

        // A binary that does not link an app another depends on refuses to start.
        let missing = ws.run(&["--without", "auth", "migrate", "apply"], &env);
        assert!(!missing.ok, "{dialect}: applied without auth");
        assert!(
            missing.stderr.contains(
                "migration `billing/0001_initial` depends on `auth/0001_initial`: this binary does not link app `auth`"
            ),
            "{dialect}: {}",
            missing.stderr
        );
        db.destroy().await;
    }

    // A cycle between apps is refused with the cycle named.
    ws.write(
        "auth/migrations/0002_after_billing.rs",
        "// Hand-written.\n\nuse migrations_runtime::schema::*;\n\npub const ID: &str = \"0002_after_billing\";\npub const DEPENDENCIES: &[&str] = &[\"0001_initial\", \"billing/0001_initial\"];\n\npub fn up(_m: &mut Migration) {}\n\npub fn down(_m: &mut Migration) {}\n",
    );
    let billing_cycle = billing.replace("\"auth/0001_initial\"", "\"auth/0002_after_billing\"");
    ws.write("billing/migrations/0001_initial.rs", &billing_cycle);
    assert_ok("build with a cycle", &ws.cargo(&["build"], &[]));
    let cycle = ws.run(&["migrate", "status"], &[("DATABASE_URL", "sqlite::memory:")]);
    assert!(!cycle.ok, "a cycle was accepted:\n{}", cycle.stdout);
    assert!(
        cycle.stderr.contains("auth/0002_after_billing → billing/0001_initial → auth/0002_after_billing")
            || cycle.stderr.contains("billing/0001_initial → auth/0002_after_billing → billing/0001_initial"),
        "cycle not named:\n{}",
        cycle.stderr
    );
}
