//! The migrate CLI as an application mounts it (`fixture_app`), and 16 separate
//! processes started together against one database: all exit 0, every migration is
//! applied exactly once (history, schema, and the data step's single row), on each of
//! the three backends.

use std::process::{Command, Output};

use chakra_tests::db::TestDb;
use chakra_tests::introspect::check_live_ignoring;
use chakra_tests::runtime_fixture::BLOG;
use migrations_core::{Dialect, Schema};

fn app(set: &str, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fixture_app"))
        .arg(set)
        .arg(url)
        .arg("migrate")
        .args(args)
        .output()
        .expect("run fixture_app")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn blog_schema() -> Schema {
    BLOG.schema_after(BLOG.migrations.len()).expect("replay")
}

async fn sixteen_processes(dialect: Dialect, table_lock: bool) {
    let Some(mut db) = TestDb::create(dialect, "race").await else { return };
    let lock_flag: &[&str] = if table_lock { &["--table-lock"] } else { &[] };
    let children: Vec<_> = (0..16)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_fixture_app"))
                .args(["blog", &db.url])
                .args(lock_flag)
                .args(["migrate", "apply"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    for (i, o) in outputs.iter().enumerate() {
        assert!(o.status.success(), "{dialect}: process {i} failed:\n{}", text(o));
    }
    let applied_by: usize = outputs.iter().map(|o| String::from_utf8_lossy(&o.stdout).matches("done (").count()).sum();
    let history = db.query_strings("SELECT id FROM _chakra_migrations").await;
    assert_eq!(history.len(), 3, "{dialect}: history {history:?}");
    let admins = db.query_strings("SELECT username FROM users WHERE username = 'admin'").await;
    assert_eq!(admins.len(), 1, "{dialect}: the data step ran {} times", admins.len());
    assert_eq!(applied_by, 3, "{dialect}: the processes together reported {applied_by} applies");
    check_live_ignoring(&mut db, &blog_schema(), &["_chakra_migrations", "_chakra_lock"])
        .await
        .unwrap_or_else(|e| panic!("{dialect}: {e}"));
    if table_lock {
        assert!(
            db.query_strings("SELECT owner FROM _chakra_lock").await.is_empty(),
            "{dialect}: the lock row was not released"
        );
    }
    db.destroy().await;
}

#[tokio::test]
async fn sixteen_processes_apply_exactly_once_on_sqlite() {
    sixteen_processes(Dialect::Sqlite, false).await;
}

#[tokio::test]
async fn sixteen_processes_with_the_lock_table_on_sqlite() {
    sixteen_processes(Dialect::Sqlite, true).await;
}

#[tokio::test]
async fn sixteen_processes_apply_exactly_once_on_postgres() {
    sixteen_processes(Dialect::Postgres, false).await;
}

#[tokio::test]
async fn sixteen_processes_with_the_lock_table_on_postgres() {
    sixteen_processes(Dialect::Postgres, true).await;
}

#[tokio::test]
async fn sixteen_processes_apply_exactly_once_on_mariadb() {
    sixteen_processes(Dialect::MySql, false).await;
}

#[tokio::test]
async fn sixteen_processes_with_the_lock_table_on_mariadb() {
    sixteen_processes(Dialect::MySql, true).await;
}

async fn every_command(dialect: Dialect) {
    let Some(db) = TestDb::create(dialect, "cli").await else { return };
    let url = db.url.clone();

    let status = app("blog", &url, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "○ 0001_create_users (pending)\n○ 0002_add_posts (pending)\n○ 0003_seed_admin (pending)\n"
    );

    let dry = app("blog", &url, &["apply", "--dry-run", "--lock-timeout", "2s"]);
    assert!(
        dry.status.success()
            && text(&dry).contains("-- blog/0001_create_users")
            && text(&dry).contains("would apply 3 migrations"),
        "{}",
        text(&dry)
    );
    // The session settings the run would use come first.
    let setting = match db.dialect {
        migrations_core::Dialect::Postgres => "SET lock_timeout = '2000ms';",
        migrations_core::Dialect::MySql => "SET SESSION lock_wait_timeout = 2, SESSION innodb_lock_wait_timeout = 2;",
        migrations_core::Dialect::Sqlite => "PRAGMA busy_timeout = 2000;",
    };
    assert!(text(&dry).contains(setting), "{}", text(&dry));
    assert!(text(&dry).contains("a statement waits at most 2 s for a lock another session holds"), "{}", text(&dry));

    let to = app("blog", &url, &["apply", "0002_add_posts"]);
    let out = text(&to);
    assert!(to.status.success(), "{out}");
    assert!(
        out.contains("→ blog/0001_create_users… done (")
            && out.contains("→ blog/0002_add_posts… done (")
            && out.contains("applied 2 migrations"),
        "{out}"
    );

    let status = String::from_utf8_lossy(&app("blog", &url, &["status"]).stdout).into_owned();
    assert!(status.starts_with("✓ 0001_create_users (applied 20"), "{status}");
    assert!(status.ends_with("○ 0003_seed_admin (pending)\n"), "{status}");

    let sql = app("blog", &url, &["sql", "0002_add_posts", "--dialect", "postgres"]);
    assert!(
        text(&sql).contains(r#"ALTER TABLE "users" ADD COLUMN "karma" INTEGER NOT NULL DEFAULT 0;"#),
        "{}",
        text(&sql)
    );
    let back = app("blog", &url, &["sql", "0002_add_posts", "--backward"]);
    assert!(back.status.success() && text(&back).contains("DROP TABLE"), "{}", text(&back));

    assert!(app("blog", &url, &["apply"]).status.success());
    let history = String::from_utf8_lossy(&app("blog", &url, &["history"]).stdout).into_owned();
    assert_eq!(history.lines().count(), 3, "{history}");
    assert!(
        history.lines().last().is_some_and(|l| l.contains("batch 2") && l.contains("blog/0003_seed_admin")),
        "{history}"
    );

    let rollback = app("blog", &url, &["rollback"]);
    assert!(rollback.status.success() && text(&rollback).contains("rolled back 1 migration"), "{}", text(&rollback));
    let zero = app("blog", &url, &["rollback", "zero"]);
    assert!(zero.status.success() && text(&zero).contains("rolled back 2 migrations"), "{}", text(&zero));

    // Failures exit non-zero with the reason.
    assert!(app("blog", &url, &["apply"]).status.success());
    let edited = app("edited", &url, &["apply"]);
    assert!(
        !edited.status.success() && text(&edited).contains("blog/0002_add_posts was changed after it was applied"),
        "{}",
        text(&edited)
    );
    let unknown = app("blog", &url, &["sql", "0009_nope"]);
    assert!(!unknown.status.success() && text(&unknown).contains("no migration `0009_nope`"), "{}", text(&unknown));
    db.destroy().await;
}

#[tokio::test]
async fn every_cli_command_on_sqlite() {
    every_command(Dialect::Sqlite).await;
}

#[tokio::test]
async fn every_cli_command_on_postgres() {
    every_command(Dialect::Postgres).await;
}

#[tokio::test]
async fn every_cli_command_on_mariadb() {
    every_command(Dialect::MySql).await;
}
