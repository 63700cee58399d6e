//! Adopting a database that already exists, in one command, on real servers and with a
//! real `cargo build`: a 33-table application grown by hand as plain SQL (PostgreSQL:
//! `fixtures/adopt/postgres.sql` and `postgres_app.sql`; MariaDB: `mysql.sql`; SQLite:
//! `sqlite.sql`), with rows.
//!
//! `cargo chakra inspect --url` writes the models, the snapshot and a sealed baseline and
//! prints its coverage; the next build drafts nothing; `migrate baseline` refuses while a
//! view the baseline creates is missing, then records the baseline on that database, and
//! `verify --strict` finds nothing; two model changes (one to a foreign key the database
//! named its own way) are sealed, applied, verified and rolled back, and every row is
//! still there. On an empty database the baseline applies, verifies, and rolls back to
//! nothing.

use chakra_tests::db::TestDb;
use chakra_tests::temp_crate::{Run, TempCrate};
use migrations_core::Dialect;

const POSTGRES: &[&str] =
    &[include_str!("../fixtures/adopt/postgres.sql"), include_str!("../fixtures/adopt/postgres_app.sql")];
const MARIADB: &[&str] = &[include_str!("../fixtures/adopt/mysql.sql")];
const SQLITE: &[&str] = &[include_str!("../fixtures/adopt/sqlite.sql")];

/// An application crate with no model yet, mounting the `migrate` command.
fn application() -> TempCrate {
    TempCrate::application("adopt", "")
}

fn ok(run: Run, what: &str) -> String {
    assert!(run.ok, "{what} failed:\n{}\n{}", run.stdout, run.stderr);
    run.stdout
}

/// The rows of the tables every fixture fills, as one line.
async fn rows(db: &mut TestDb) -> String {
    let mut counts = Vec::new();
    for table in ["organizations", "users", "projects", "tasks", "invoices", "memberships", "comments"] {
        let sql = format!("SELECT CAST(count(*) AS CHAR(20)) FROM {}", db.dialect.quote(table));
        let sql = if db.dialect == Dialect::Postgres { sql.replace("CHAR(20)", "TEXT") } else { sql };
        counts.push(format!("{table}={}", db.query_strings(&sql).await.concat()));
    }
    counts.join(" ")
}

/// Adds `field` (with its attribute lines) at the end of the struct in `file`.
fn add_field(krate: &TempCrate, file: &str, field: &str) {
    let text = krate.read(file);
    let end = text.rfind("}\n").expect("the struct's end");
    krate.write(file, &format!("{}{field}\n{}", &text[..end], &text[end..]));
}

async fn adopt_in_one_command(dialect: Dialect, fixture: &[&str], raw_sql_kinds: &[&str]) {
    let Some(mut db) = TestDb::create(dialect, "adopt").await else { return };
    for sql in fixture {
        db.execute(sql).await.expect("the hand-grown schema");
    }
    let before = rows(&mut db).await;
    let krate = application();

    // One command: models, snapshot, sealed baseline, and what went into it as SQL.
    let inspected = ok(krate.chakra(&["inspect", "--url", &db.url]), "cargo chakra inspect");
    assert!(inspected.contains("(33 tables)"), "{inspected}");
    let coverage = inspected.lines().find(|l| l.starts_with("coverage: ")).expect("a coverage line");
    for kind in raw_sql_kinds {
        assert!(coverage.contains(kind), "{dialect}: no {kind} as raw SQL: {coverage}");
    }
    assert_eq!(krate.migrations(), ["0001_baseline.rs"]);
    let models = std::fs::read_dir(krate.dir.join("src/models")).expect("src/models").count();
    // PostgreSQL's `mood` and MariaDB's `ENUM` column are `DbEnum`s, in `enums.rs`.
    let enums = usize::from(dialect != Dialect::Sqlite);
    assert_eq!(models, 34 + enums, "a file per table, the enums and mod.rs");
    if dialect != Dialect::Sqlite {
        let source = krate.read("src/models/enums.rs");
        assert!(
            source.contains("#[derive(DbEnum)]") && source.contains("    Happy,\n    Sad,\n    Neutral,\n"),
            "{source}"
        );
        let users = krate.read("src/models/users.rs");
        assert!(users.contains("use super::enums::"), "{users}");
    }

    // The models compile, and the next build drafts nothing.
    ok(krate.build(&[]), "cargo build");
    if dialect == Dialect::Postgres {
        // PostgreSQL's own types (`text[]`) fit the one database the crate names; targeting
        // all three, the build refuses them at the field, before any deploy. (The enum
        // `mood` fits all three.)
        let manifest = krate.read("Cargo.toml");
        krate.write("Cargo.toml", &manifest.replace("dialects = [\"postgres\"]", ""));
        let refused = krate.build(&[]);
        assert!(!refused.ok, "a PostgreSQL type built for three databases");
        assert!(
            refused.stderr.contains("src/models/users.rs")
                && !refused.stderr.contains("mood")
                && refused.stderr.contains("mysql has no text[] type: a `Vec<T>` field is a PostgreSQL array"),
            "{}",
            refused.stderr
        );
        // `character varying` without a length is a model type, which MySQL lacks.
        let organizations = krate.read("src/models/organizations.rs");
        assert!(organizations.contains("#[model(column_type = \"varchar\")]"), "{organizations}");
        assert!(refused.stderr.contains("MySQL has no varchar without a length"), "{}", refused.stderr);
        krate.write("Cargo.toml", &manifest);
        ok(krate.build(&[]), "cargo build with the dialect back");
    }
    assert_eq!(krate.migrations(), ["0001_baseline.rs"], "the build drafted a change");

    // On the database it was read from: refused while it lacks what the baseline's SQL
    // creates, recorded after checking once it holds it, then no drift at all.
    let app = |args: &[&str], url: &str| krate.run(args, &[("DATABASE_URL", url)]);
    let view = fixture
        .iter()
        .flat_map(|sql| sql.lines())
        .find(|l| l.starts_with("CREATE VIEW open_tasks"))
        .expect("the fixture's view")
        .to_string();
    db.execute("DROP VIEW open_tasks").await.expect("drop the view");
    let refused = app(&["migrate", "baseline", "0001_baseline"], &db.url);
    assert!(!refused.ok && refused.stderr.contains("view open_tasks is missing"), "{}", refused.stderr);
    db.execute(&view).await.expect("the view back");
    let baseline = ok(app(&["migrate", "baseline", "0001_baseline"], &db.url), "migrate baseline");
    assert!(baseline.contains("recorded 1 migration as applied, ran none"), "{baseline}");
    ok(app(&["migrate", "verify", "--strict"], &db.url), "verify after the baseline");

    // Two model changes: a new column, and the `on_delete` of a foreign key the database
    // named its own way (`users_organization_id_fkey`), which is dropped and added again
    // under that name.
    add_field(&krate, "src/models/users.rs", "    pub nickname: Option<String>,");
    let users = krate.read("src/models/users.rs");
    assert!(users.contains(r#"references = "organizations(id)", on_delete = "cascade""#), "{users}");
    krate.write("src/models/users.rs", &users.replacen(r#"on_delete = "cascade""#, r#"on_delete = "restrict""#, 1));
    ok(krate.build(&[]), "the build after two model changes");
    assert_eq!(krate.migrations().len(), 2, "one draft: {:?}", krate.migrations());
    ok(krate.chakra(&["seal"]), "cargo chakra seal");
    ok(krate.build(&[]), "the build after sealing");
    ok(app(&["migrate", "apply"], &db.url), "migrate apply");
    ok(app(&["migrate", "verify", "--strict"], &db.url), "verify after the change");
    ok(app(&["migrate", "rollback", "--yes"], &db.url), "migrate rollback");
    ok(app(&["migrate", "verify", "--strict"], &db.url), "verify after the rollback");
    assert_eq!(rows(&mut db).await, before, "every row kept");

    // A hand-made drift of something only the baseline's SQL declares is found.
    db.execute("DROP VIEW open_tasks").await.expect("drop the view");
    let verify = app(&["migrate", "verify"], &db.url);
    assert!(!verify.ok && verify.stderr.contains("view open_tasks is missing"), "{}", verify.stderr);

    // On an empty database the baseline (and the change) applies, verifies and rolls back.
    let Some(empty) = TestDb::create(dialect, "adopt_empty").await else { return };
    ok(app(&["migrate", "apply"], &empty.url), "migrate apply on an empty database");
    ok(app(&["migrate", "verify", "--strict"], &empty.url), "verify on the new database");
    ok(app(&["migrate", "rollback", "--yes"], &empty.url), "roll everything back");
    ok(app(&["migrate", "verify", "--strict"], &empty.url), "verify after rolling everything back");
    let mut empty = empty;
    let left = chakra_tests::introspect::live_schema(&mut empty).await;
    assert!(left.schema.tables.is_empty() && left.objects.is_empty(), "{dialect}: left behind: {left:#?}");
    empty.destroy().await;
    db.destroy().await;
}

#[tokio::test]
async fn a_33_table_postgres_app_is_adopted_in_one_command() {
    let kinds = ["constraint", "function", "index", "materialized view", "trigger", "type", "view"];
    adopt_in_one_command(Dialect::Postgres, POSTGRES, &kinds).await;
}

#[tokio::test]
async fn a_33_table_mariadb_app_is_adopted_in_one_command() {
    // (Its descending indexes are models.)
    adopt_in_one_command(Dialect::MySql, MARIADB, &["function", "trigger", "view"]).await;
}

#[tokio::test]
async fn a_33_table_sqlite_app_is_adopted_in_one_command() {
    adopt_in_one_command(Dialect::Sqlite, SQLITE, &["index", "trigger", "view"]).await;
}

/// `--tables` reads those tables and what belongs to them (a foreign key to a table left
/// out goes into the baseline as SQL), `--schema` another PostgreSQL schema; a crate
/// that has migrations already is refused, and so is a database with no table.
#[tokio::test]
async fn inspect_reads_what_it_is_asked_and_refuses_what_it_cannot_adopt() {
    let Some(mut db) = TestDb::create(Dialect::Postgres, "adoptsome").await else { return };
    for sql in POSTGRES {
        db.execute(sql).await.expect("the hand-grown schema");
    }
    db.execute(
        "CREATE SCHEMA billing; CREATE TABLE billing.ledger (id bigint PRIMARY KEY, amount numeric(12, 2) NOT NULL)",
    )
    .await
    .expect("a second schema");

    let some = application();
    let out = ok(some.chakra(&["inspect", "--url", &db.url, "--tables", "users,projects"]), "inspect --tables");
    assert!(out.contains("(2 tables)"), "{out}");
    assert!(out.contains("constraint projects_org_fk on projects"), "a key to a table left out is SQL: {out}");
    assert!(!out.contains("view open_tasks"), "objects of no table come only with every table: {out}");
    let mut files: Vec<String> = std::fs::read_dir(some.dir.join("src/models"))
        .expect("models")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["enums.rs", "mod.rs", "projects.rs", "users.rs"], "users.current_mood is a `mood`");
    let again = some.chakra(&["inspect", "--url", &db.url]);
    assert!(!again.ok && again.stderr.contains("already holds migrations"), "{}", again.stderr);

    let billing = application();
    let out = ok(billing.chakra(&["inspect", "--url", &db.url, "--schema", "billing"]), "inspect --schema");
    assert!(out.contains("(1 table)"), "{out}");
    assert!(billing.read("src/models/ledger.rs").contains("pub struct Ledger {"));

    let nothing = application();
    let out = nothing.chakra(&["inspect", "--url", &db.url, "--schema", "nothing_here"]);
    assert!(!out.ok && out.stderr.contains("holds no table to adopt"), "{}", out.stderr);
    assert!(!nothing.dir.join("src/models").exists() && nothing.migrations().is_empty(), "nothing written");
    db.destroy().await;
}
