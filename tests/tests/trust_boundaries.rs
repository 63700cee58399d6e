//! What the runner trusts and what it does not, on each backend: SQL read from the
//! database (the reverse SQL stored in the history table) is data, not code. A row
//! planted in `_chakra_migrations` is not executed by a plain rollback, which refuses,
//! before undoing anything, and shows what it would run; `run_stored_sql` runs it, shown
//! first.

use chakra_tests::db::TestDb;
use chakra_tests::runtime_fixture::BLOG;
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, Connection as _, MigrateError, Migrator, Progress, RollbackOptions};

/// The stored statements each rollback reported before running them.
static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn remember_stored(p: &Progress) {
    if let Progress::StoredSql { statements, .. } = p {
        SHOWN.lock().expect("lock").extend(statements.iter().cloned());
    }
}

async fn planted_reverse_sql(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "trust").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&BLOG).on_progress(remember_stored);
    migrator.apply(&mut conn).await.expect("apply");
    // Someone who can write the history table (the application's role, an SQL injection)
    // plants a row whose "reverse" is any SQL, in a batch of its own.
    // (Each backend's test plants a table of its own name: the tests share a process.)
    let planted = format!("planted_{}", dialect.to_string().to_lowercase());
    db.execute_all(&[format!(
        "INSERT INTO _chakra_migrations (app, id, applied_at, checksum, execution_time_ms, batch, reverse_sql, steps_done) VALUES ('blog', '0099_planted', '2026-01-01T00:00:00.000Z', 'x', 0, 2, 'CREATE TABLE {planted} (x INTEGER)', NULL)"
    )])
    .await;

    let err = migrator.rollback(&mut conn, &Default::default(), false).await.expect_err("refused");
    let text = err.to_string();
    assert!(matches!(err, MigrateError::StoredSql { .. }), "{dialect}: {text}");
    assert!(
        text.contains("blog/0099_planted") && text.contains(&format!("CREATE TABLE {planted} (x INTEGER)")),
        "{dialect}: {text}"
    );
    assert!(text.contains("--run-stored-sql"), "{dialect}: {text}");
    let row = "SELECT id FROM _chakra_migrations WHERE id = '0099_planted'";
    assert_eq!(db.query_strings(row).await, ["0099_planted"], "{dialect}: the row is still there");
    let select = format!("SELECT * FROM {planted}");
    assert!(db.execute(&select).await.is_err(), "{dialect}: the planted SQL ran");
    // Nothing else was undone either.
    assert_eq!(migrator.history(&mut conn).await.expect("history").len(), 4, "{dialect}");

    // Asked for explicitly: shown first, then run.
    let options = RollbackOptions { run_stored_sql: true, ..Default::default() };
    let steps = migrator.rollback_with(&mut conn, &options).await.expect("rollback with the stored SQL");
    assert_eq!(steps.len(), 1, "{dialect}");
    let shown = SHOWN.lock().expect("lock").iter().any(|s| s.contains(&planted));
    assert!(shown, "{dialect}: the stored SQL was not shown before it ran");
    assert!(db.execute(&select).await.is_ok(), "{dialect}: the stored SQL did not run");
    assert!(db.query_strings(row).await.is_empty(), "{dialect}");
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(planted_reverse_sql:
    sqlite => planted_reverse_sql_is_refused_then_run_only_when_asked_on_sqlite,
    postgres => planted_reverse_sql_is_refused_then_run_only_when_asked_on_postgres,
    mariadb => planted_reverse_sql_is_refused_then_run_only_when_asked_on_mariadb,
);

/// `url` with its user (and password) replaced.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a server URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let creds = if password.is_empty() { user.to_string() } else { format!("{user}:{password}") };
    format!("{scheme}://{creds}@{host}")
}

/// The usual production setup: a role that owns the schema runs the migrations, the
/// application's role may only read and write rows. The application's role cannot run
/// DDL; it can look at `status` and `history` (before and after the first migration);
/// after the migration role applies, the application reads and writes its tables.
async fn separate_roles(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "roles").await else { return };
    let tag = &db.name[db.name.len() - 8..];
    let (mig, app) = (format!("chakra_mig_{tag}"), format!("chakra_app_{tag}"));
    let password = "role-pw-7";
    let setup: Vec<String> = match dialect {
        Dialect::Postgres => vec![
            format!("CREATE ROLE {mig} LOGIN PASSWORD '{password}'"),
            format!("CREATE ROLE {app} LOGIN PASSWORD '{password}'"),
            format!("GRANT USAGE, CREATE ON SCHEMA public TO {mig}"),
            format!("GRANT USAGE ON SCHEMA public TO {app}"),
            format!("ALTER DEFAULT PRIVILEGES FOR ROLE {mig} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"),
            format!("ALTER DEFAULT PRIVILEGES FOR ROLE {mig} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}"),
        ],
        _ => {
            let mut s = Vec::new();
            for host in ["%", "localhost", "127.0.0.1"] {
                s.push(format!("CREATE USER '{mig}'@'{host}' IDENTIFIED BY '{password}'"));
                s.push(format!("CREATE USER '{app}'@'{host}' IDENTIFIED BY '{password}'"));
                s.push(format!("GRANT ALL PRIVILEGES ON `{}`.* TO '{mig}'@'{host}'", db.name));
                s.push(format!("GRANT SELECT, INSERT, UPDATE, DELETE ON `{}`.* TO '{app}'@'{host}'", db.name));
            }
            s
        }
    };
    db.execute_all(&setup).await;
    let (mig_url, app_url) = (as_user(&db.url, &mig, password), as_user(&db.url, &app, password));

    let migrator = Migrator::new(&BLOG);
    let mut as_app = AnyConnection::connect(&app_url).await.expect("connect as the application");
    // Read-only: status before anything was applied, without creating the history table.
    let status = migrator.status(&mut as_app).await.unwrap_or_else(|e| panic!("{dialect}: status as the app: {e}"));
    assert_eq!(status.len(), 3, "{dialect}");
    assert!(migrator.history(&mut as_app).await.expect("history as the app").is_empty(), "{dialect}");
    // No DDL for the application.
    assert!(as_app.execute("CREATE TABLE app_made (x INTEGER)").await.is_err(), "{dialect}: the app role ran DDL");
    let err = migrator.apply(&mut as_app).await.expect_err("the app role cannot migrate");
    println!("{dialect}: the app role applying: {err}");

    // The migration role applies; MIGRATION_DATABASE_URL's place is `migration_url`.
    let steps =
        migrator.clone().migration_url(&mig_url).apply_url(&app_url).await.expect("apply as the migration role");
    assert_eq!(steps.len(), 3, "{dialect}");

    // The application reads and writes its tables, and can look at the history.
    as_app.execute("INSERT INTO users (username) VALUES ('from_the_app')").await.expect("insert as the app");
    as_app.execute("UPDATE users SET username = 'changed' WHERE username = 'from_the_app'").await.expect("update");
    let count = as_app.query_text("SELECT username FROM users WHERE username = 'changed'").await.expect("select");
    assert_eq!(count, ["changed"], "{dialect}");
    assert_eq!(migrator.history(&mut as_app).await.expect("history as the app").len(), 3, "{dialect}");
    assert!(migrator
        .status(&mut as_app)
        .await
        .expect("status")
        .iter()
        .all(|l| matches!(l.state, migrations_runtime::State::Applied(_))));
    drop(as_app);

    let name = db.name.clone();
    let server = chakra_tests::db::server_url(dialect);
    db.destroy().await;
    let teardown: Vec<String> = match dialect {
        Dialect::Postgres => vec![format!("DROP ROLE IF EXISTS {mig}"), format!("DROP ROLE IF EXISTS {app}")],
        _ => ["%", "localhost", "127.0.0.1"]
            .iter()
            .flat_map(|h| [format!("DROP USER IF EXISTS '{mig}'@'{h}'"), format!("DROP USER IF EXISTS '{app}'@'{h}'")])
            .collect(),
    };
    let mut admin = AnyConnection::connect(&server).await.expect("admin");
    for s in teardown {
        as_admin(&mut admin, &s, &name).await;
    }
}

async fn as_admin(admin: &mut AnyConnection, sql: &str, db: &str) {
    if let Err(e) = admin.execute(sql).await {
        panic!("cleaning up after {db}: {sql}: {e}");
    }
}

#[tokio::test]
async fn separate_roles_migration_role_applies_app_role_reads_and_writes_on_postgres() {
    separate_roles(Dialect::Postgres).await;
}

#[tokio::test]
async fn separate_roles_migration_role_applies_app_role_reads_and_writes_on_mariadb() {
    separate_roles(Dialect::MySql).await;
}

/// No password in any output: every `migrate` command, run by an application whose URL
/// carries a password (and by one given the migration role's URL in
/// `MIGRATION_DATABASE_URL`), prints none, in success or failure, nor does the history.
async fn no_password_in_any_output(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "secrets").await else { return };
    let password = "Pw-never-shown-42";
    let user = format!("chakra_s_{}", &db.name[db.name.len() - 8..]);
    let url = match dialect {
        Dialect::Postgres => as_user(&db.url, "postgres", password),
        _ => {
            let mut setup = Vec::new();
            for host in ["%", "localhost", "127.0.0.1"] {
                setup.push(format!("CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'"));
                setup.push(format!("GRANT ALL PRIVILEGES ON *.* TO '{user}'@'{host}'"));
            }
            db.execute_all(&setup).await;
            as_user(&db.url, &user, password)
        }
    };
    let run = |url: &str, env: Option<&str>, args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fixture_app"));
        cmd.args(["blog", url, "migrate"]).args(args);
        if let Some(env) = env {
            cmd.env("MIGRATION_DATABASE_URL", env);
        }
        let out = cmd.output().expect("run fixture_app");
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let commands: &[&[&str]] = &[
        &["status"],
        &["apply", "--dry-run"],
        &["apply", "0001_create_users"],
        &["apply"],
        &["history"],
        &["sql", "0002_add_posts"],
        &["sql", "0002_add_posts", "--backward"],
        &["rollback", "--count", "1"],
        &["rollback", "--to", "no_such_migration"],
        &["resolve", "no_such_migration", "--rolled-back"],
        &["apply", "--lock-timeout", "soon"],
    ];
    let mut seen = String::new();
    for args in commands {
        seen.push_str(&run(&url, None, args));
    }
    // The migration role's URL from the environment; the application's URL is another.
    seen.push_str(&run("sqlite::memory:", Some(&url), &["status"]));
    // Failures to connect: a wrong password, a port nobody listens on.
    seen.push_str(&run(&url.replace(password, "Wrong-pw-also-secret"), None, &["status"]));
    let dead = url.replace(&format!(":{}", if dialect == Dialect::Postgres { 5432 } else { 3306 }), ":9");
    seen.push_str(&run(&dead, None, &["status"]));
    println!("{dialect}: everything the commands printed:\n{seen}");
    assert!(seen.contains("0001_create_users"), "{dialect}: the commands did not run: {seen}");
    for secret in [password, "Wrong-pw-also-secret"] {
        assert!(!seen.contains(secret), "{dialect}: a password was printed:\n{seen}");
    }
    let rows = db
        .query_strings(
            "SELECT CONCAT(app, id, applied_at, checksum, COALESCE(reverse_sql, '')) FROM _chakra_migrations",
        )
        .await;
    assert!(!rows.is_empty() && rows.iter().all(|r| !r.contains(password)), "{dialect}: {rows:?}");
    db.destroy().await;
    if dialect == Dialect::MySql {
        let mut admin = AnyConnection::connect(&chakra_tests::db::server_url(dialect)).await.expect("admin");
        for host in ["%", "localhost", "127.0.0.1"] {
            as_admin(&mut admin, &format!("DROP USER IF EXISTS '{user}'@'{host}'"), "secrets").await;
        }
    }
}

#[tokio::test]
async fn no_password_in_any_output_on_postgres() {
    no_password_in_any_output(Dialect::Postgres).await;
}

#[tokio::test]
async fn no_password_in_any_output_on_mariadb() {
    no_password_in_any_output(Dialect::MySql).await;
}
