//! `migrate script`: the whole SQL of a range for a DBA. Run by hand with the database's
//! own client (`psql`, `mariadb`, `sqlite3`), it leaves the database exactly as
//! `migrate apply` does (schema introspected, history rows compared), after which the
//! binary finds nothing pending; the backward script leaves it as `migrate rollback` does.

use std::process::{Command, Stdio};

use chakra_tests::db::TestDb;
use chakra_tests::introspect::live_schema;
use chakra_tests::runtime_fixture::{BLOG, SLUGS};
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, Connection as _, Migrator, RollbackTarget, ScriptRange};

/// Runs `script` on `db` with the database's own command-line client, stopping at the
/// first error.
fn run_by_hand(db: &TestDb, script: &str) {
    let mut cmd = match db.dialect {
        Dialect::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url]);
            c
        }
        Dialect::MySql => {
            let mut c = Command::new("mariadb");
            c.args(["-h", "127.0.0.1", "-u", "root", &db.name]);
            c
        }
        Dialect::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.args(["-bail", &db.name]);
            c
        }
    };
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("client");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), script.as_bytes()).expect("write script");
    let out = child.wait_with_output().expect("client");
    assert!(
        out.status.success(),
        "{}: the script failed:\n{}\n{script}",
        db.dialect,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The history as comparable text: app, id, checksum, batch, progress and reverse SQL.
async fn history_of(conn: &mut AnyConnection) -> Vec<String> {
    let mut rows = Vec::new();
    for r in Migrator::new(&BLOG).history(conn).await.expect("history") {
        let reverse = conn.reverse_sql(&r.app, &r.id).await.expect("reverse");
        rows.push(format!("{}/{} {} batch {} {:?} {reverse:?}", r.app, r.id, r.checksum, r.batch, r.steps_done));
        assert!(r.applied_at.ends_with('Z') && r.applied_at.len() == 24, "{}", r.applied_at);
    }
    rows
}

async fn script_equals_apply(dialect: Dialect) {
    let Some(mut by_binary) = TestDb::create(dialect, "script_a").await else { return };
    let Some(mut by_hand) = TestDb::create(dialect, "script_b").await else { return };
    let migrator = Migrator::new(&BLOG);
    let mut a = AnyConnection::connect(&by_binary.url).await.expect("connect");
    let mut b = AnyConnection::connect(&by_hand.url).await.expect("connect");

    migrator.apply(&mut a).await.expect("apply");
    let script = migrator.script(dialect, &ScriptRange::default()).expect("script");
    run_by_hand(&by_hand, &script);
    assert_eq!(live_schema(&mut by_hand).await, live_schema(&mut by_binary).await, "{dialect}: the schemas differ");
    assert_eq!(history_of(&mut b).await, history_of(&mut a).await, "{dialect}: the histories differ");
    assert!(
        migrator.apply(&mut b).await.expect("boot after the script").is_empty(),
        "{dialect}: pending after the script"
    );

    // In two parts, then backward: the same as the binary's rollback.
    let back = migrator
        .script(dialect, &ScriptRange { from: None, to: Some("0001_create_users".into()), backward: true })
        .expect("backward script");
    assert!(back.contains("DELETE FROM"), "{back}");
    run_by_hand(&by_hand, &back);
    migrator.rollback(&mut a, &RollbackTarget::To("0001_create_users".into()), false).await.expect("rollback");
    assert_eq!(
        live_schema(&mut by_hand).await,
        live_schema(&mut by_binary).await,
        "{dialect}: after the backward script"
    );
    assert_eq!(history_of(&mut b).await.len(), 1, "{dialect}");
    let rest = migrator
        .script(dialect, &ScriptRange { from: Some("0001_create_users".into()), to: None, backward: false })
        .expect("the rest");
    run_by_hand(&by_hand, &rest);
    migrator.apply(&mut a).await.expect("apply the rest");
    assert_eq!(live_schema(&mut by_hand).await, live_schema(&mut by_binary).await, "{dialect}: after the rest");
    drop((a, b));
    by_binary.destroy().await;
    by_hand.destroy().await;
}

chakra_tests::on_each_backend!(script_equals_apply:
    sqlite => a_script_run_by_hand_equals_migrate_apply_on_sqlite,
    postgres => a_script_run_by_hand_equals_migrate_apply_on_postgres,
    mariadb => a_script_run_by_hand_equals_migrate_apply_on_mariadb,
);

/// A Rust data step cannot be in a script: refused, naming it and saying how to go round it.
#[test]
fn a_rust_data_step_cannot_be_scripted() {
    let err = Migrator::new(&SLUGS).script(Dialect::Postgres, &ScriptRange::default()).expect_err("a data step");
    let text = err.to_string();
    assert!(text.contains("blog/0005_user_slugs") && text.contains("Rust data step"), "{text}");
    assert!(text.contains("--to") && text.contains("--from"), "{text}");
}

/// `cargo chakra script` writes, from the migration files alone (no database, no build),
/// the very script the application's `migrate script` prints: for each dialect, forward,
/// from a migration on, and backward; through a rename, a new table with a foreign key,
/// and an index. Run by hand on SQLite, it leaves nothing pending for the binary.
#[test]
fn cargo_chakra_script_is_the_binarys_script_without_a_database() {
    use chakra_tests::temp_crate::TempCrate;
    const V1: &str = r#"
use migrations_runtime::Model;

#[derive(Model)]
pub struct Author {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 80)]
    pub name: String,
}
"#;
    let krate = TempCrate::application("offline", V1);
    assert!(krate.build(&[]).ok && krate.chakra(&["seal", "--name", "initial"]).ok, "the first migration");
    let v2 = V1
        .replace("    pub name: String,", "    #[model(renamed_from = \"name\", index)]\n    pub full_name: String,")
        + r#"
#[derive(Model)]
pub struct Book {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = Author, on_delete = "cascade")]
    pub author_id: i64,
    #[model(default = 0)]
    pub pages: i32,
}
"#;
    krate.write("src/models.rs", &v2);
    assert!(krate.build(&[]).ok && krate.chakra(&["seal", "--name", "books"]).ok, "the second migration");
    let built = krate.build(&[]);
    assert!(built.ok, "{}", built.stderr);
    assert_eq!(krate.migrations(), ["0001_initial.rs", "0002_books.rs"]);

    for dialect in ["postgres", "mysql", "sqlite"] {
        for range in
            [&[][..], &["--from", "0001_initial"][..], &["--backward"][..], &["--backward", "--to", "0001_initial"][..]]
        {
            let mut args = vec!["script", "--dialect", dialect];
            args.extend_from_slice(range);
            let offline = krate.chakra(&args);
            assert!(offline.ok, "cargo chakra {args:?}: {}", offline.stderr);
            let mut binary_args = vec!["migrate"];
            binary_args.extend_from_slice(&args);
            let binary = krate.run(&binary_args, &[]);
            assert!(binary.ok, "migrate {args:?}: {}", binary.stderr);
            assert_eq!(offline.stdout.trim_end(), binary.stdout.trim_end(), "{args:?}");
            assert!(offline.stdout.contains("INSERT INTO") || offline.stdout.contains("DELETE FROM"), "{args:?}");
        }
    }

    // By hand on SQLite: the binary then finds nothing to apply.
    let script = krate.chakra(&["script", "--dialect", "sqlite"]).stdout;
    let file = std::env::temp_dir().join(format!("{}.db", krate.name));
    let mut sqlite3 =
        Command::new("sqlite3").args(["-bail"]).arg(&file).stdin(Stdio::piped()).spawn().expect("sqlite3");
    use std::io::Write as _;
    sqlite3.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("write the script");
    assert!(sqlite3.wait().expect("sqlite3").success(), "the script runs");
    let url = format!("sqlite://{}", file.display());
    let status = krate.run(&["migrate", "status"], &[("DATABASE_URL", &url)]);
    assert!(status.ok && status.stdout.matches('✓').count() == 2 && !status.stdout.contains('○'), "{}", status.stdout);
    let _ = std::fs::remove_file(&file);
}
