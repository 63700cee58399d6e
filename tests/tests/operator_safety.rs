//! Traps an operating team falls into, each closed by a regression test: a SQLite URL
//! with a typo booting on a new empty database; a plain `migrate rollback` after a failed
//! deploy silently dropping the previous batch's tables; PostgreSQL's DETAIL and HINT
//! lost from a failed statement's report.

use std::process::Command;

use chakra_tests::db::TestDb;
use chakra_tests::runtime_fixture::{BLOG, BLOG_GUARDED};
use migrations_core::Dialect;
use migrations_runtime::{AnyConnection, MigrateError, Migrator};

fn app(set: &str, url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fixture_app"))
        .args([set, url, "migrate"])
        .args(args)
        .output()
        .expect("run fixture_app");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_sqlite_url_of_a_missing_file_is_refused_unless_creating_it_is_asked_for() {
    let path = std::env::temp_dir().join(format!("{}.db", chakra_tests::db::unique_name("typo")));
    let url = format!("sqlite://{}", path.display());
    let err = Migrator::new(&BLOG).apply_url(&url).await.expect_err("a missing file");
    let text = err.to_string();
    assert!(text.contains("there is no SQLite database at") && text.contains("?mode=rwc"), "{text}");
    assert!(!path.exists(), "the file was created");
    // Asked for: created and migrated.
    let steps = Migrator::new(&BLOG).apply_url(&format!("{url}?mode=rwc")).await.expect("created");
    assert_eq!(steps.len(), 3);
    // Now it exists, the plain URL opens it.
    assert!(Migrator::new(&BLOG).apply_url(&url).await.expect("exists").is_empty());
    let _ = std::fs::remove_file(&path);
}

/// After a failed deploy, `migrate rollback` would undo the last *successful* batch: it
/// says what it drops first, and will not drop data without `--yes` when nobody named
/// what to roll back (and stdin is not a terminal). `--fake` only forgets.
#[tokio::test]
async fn rollback_without_a_target_shows_what_it_drops_and_needs_yes_to_lose_data() {
    let Some(mut db) = TestDb::create(Dialect::Sqlite, "rbyes").await else { return };
    let url = db.url.clone();
    let (ok, out) = app("blog", &url, &["apply", "0002_add_posts"]);
    assert!(ok, "{out}");
    db.execute_all(&[
        "INSERT INTO users (username) VALUES ('ada'), ('grace')".into(),
        "INSERT INTO posts (author_id, title) VALUES (1, 'hello')".into(),
    ])
    .await;

    let (ok, out) = app("blog", &url, &["rollback"]);
    assert!(!ok, "a rollback that drops data went ahead without --yes:\n{out}");
    assert!(out.contains("blog/0002_add_posts") && out.contains("drops table posts (1 row)"), "{out}");
    assert!(out.contains("drops table users (2 rows)") && out.contains("pass --yes"), "{out}");
    assert_eq!(db.query_strings("SELECT title FROM posts").await, ["hello"], "something was dropped");

    // Named, or with --yes: it goes ahead (the list is still shown).
    let (ok, out) = app("blog", &url, &["rollback", "--count", "1"]);
    assert!(ok && out.contains("drops table posts (1 row)") && out.contains("rolled back 1 migration"), "{out}");
    let (ok, out) = app("blog", &url, &["rollback", "--yes"]);
    assert!(ok && out.contains("rolled back 1 migration"), "{out}");

    // --fake forgets without running anything.
    let (ok, out) = app("blog", &url, &["apply"]);
    assert!(ok, "{out}");
    let (ok, out) = app("blog", &url, &["rollback", "--fake", "--count", "1"]);
    assert!(ok && out.contains("forget (running nothing)") && out.contains("forgot 1 migration"), "{out}");
    assert_eq!(
        db.query_strings("SELECT username FROM users WHERE username = 'admin'").await,
        ["admin"],
        "--fake ran the down"
    );
    let (_, status) = app("blog", &url, &["status"]);
    assert!(status.contains("○ 0003_seed_admin (pending)"), "{status}");
    db.destroy().await;
}

/// A failed statement's report keeps what PostgreSQL adds to its message: DETAIL (the
/// row that broke the constraint) and HINT.
#[tokio::test]
async fn a_failed_statement_on_postgres_reports_detail_and_hint() {
    let Some(mut db) = TestDb::create(Dialect::Postgres, "detail").await else { return };
    db.execute_all(&[
        "CREATE TABLE chakra_gate (ok INTEGER NOT NULL CHECK (ok = 1))".into(),
        "CREATE TABLE chakra_switch (v INTEGER NOT NULL)".into(),
        "INSERT INTO chakra_switch (v) VALUES (0)".into(),
    ])
    .await;
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let err = Migrator::new(&BLOG_GUARDED).apply(&mut conn).await.expect_err("statement 3 fails");
    let text = err.to_string();
    assert!(matches!(err, MigrateError::Statement { index: 3, .. }), "{text}");
    assert!(text.contains("DETAIL: Failing row contains"), "{text}");
    // 0004 builds its index concurrently, so it runs in phases: the error says which
    // are kept, and where the next run goes on.
    assert!(text.contains("statements 1..2 of it are committed"), "{text}");
    assert!(text.contains("the next run goes on from statement 3"), "{text}");
    // A HINT, from a statement PostgreSQL answers with one.
    let hinted = migrations_runtime::Connection::execute(&mut conn, "SELECT nosuchfunction(1)").await;
    let hinted = MigrateError::Statement {
        id: "x".into(),
        index: 1,
        count: 1,
        statement: "SELECT ...".into(),
        source: Box::new(hinted.expect_err("no such function")),
        state: String::new(),
    };
    assert!(hinted.to_string().contains("HINT: No function matches"), "{hinted}");
    drop(conn);
    db.destroy().await;
}

/// Two migrations: `books` with a foreign key to `authors`; then its foreign-key column
/// dropped, whose `down` (as generated) re-adds it NOT NULL filled with 0 and re-adds the
/// foreign key.
mod dropped_fk_column {
    use migrations_runtime::schema::*;
    use migrations_runtime::{EmbeddedMigration, Migrations};

    const FK: &str = "fk_books_author_id_authors";

    fn up1(m: &mut Migration) {
        m.create_model(Table::new("authors").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
        m.create_model(
            Table::new("books")
                .field(Column::new("id", ColumnType::BigInt))
                .field(Column::new("author_id", ColumnType::BigInt))
                .primary_key(&["id"])
                .foreign_key(ForeignKey::new(FK, &["author_id"], "authors", &["id"])),
        );
    }
    fn down1(m: &mut Migration) {
        m.delete_model("books");
        m.delete_model("authors");
    }
    fn up2(m: &mut Migration) {
        m.remove_constraint("books", FK);
        m.remove_field("books", "author_id");
    }
    fn down2(m: &mut Migration) {
        m.add_field_filled("books", Column::new("author_id", ColumnType::BigInt), DefaultValue::num("0"));
        m.add_constraint("books", ForeignKey::new(FK, &["author_id"], "authors", &["id"]));
    }

    pub static BOOKS: Migrations = Migrations {
        app: "shelf",
        migrations: &[
            EmbeddedMigration {
                id: "0001_books",
                dependencies: &[],
                replaces: &[],
                checksum: "b1",
                draft: false,
                up: up1,
                down: down1,
            },
            EmbeddedMigration {
                id: "0002_drop_author",
                dependencies: &["0001_books"],
                replaces: &[],
                checksum: "b2",
                draft: false,
                up: up2,
                down: down2,
            },
        ],
        snapshot: "",
    };
}

/// Rolling back the drop of a foreign-key column from a table with rows is refused
/// before the first statement, naming the column (the zero fill would break the foreign
/// key part-way, leaving MariaDB half rolled back); on an empty table it goes ahead.
async fn down_readding_a_foreign_key_column(dialect: Dialect) {
    let Some(mut db) = TestDb::create(dialect, "fkdown").await else { return };
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    let migrator = Migrator::new(&dropped_fk_column::BOOKS);
    migrator.apply(&mut conn).await.expect("apply");
    db.execute_all(&["INSERT INTO authors (id) VALUES (7)".into(), "INSERT INTO books (id) VALUES (1), (2)".into()])
        .await;
    let err =
        migrator.rollback(&mut conn, &migrations_runtime::RollbackTarget::Count(1), false).await.expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("books.author_id") && text.contains("fk_books_author_id_authors") && text.contains("2 rows"),
        "{dialect}: {text}"
    );
    assert!(text.contains("Nothing was rolled back"), "{text}");
    let columns = db.query_strings("SELECT CAST(COUNT(*) AS CHAR(10)) FROM books").await;
    assert_eq!(columns.len(), 1, "{dialect}");
    assert_eq!(migrator.history(&mut conn).await.expect("history").len(), 2, "{dialect}: something was undone");
    // Without rows there is nothing to lose or break.
    db.execute_all(&["DELETE FROM books".into()]).await;
    migrator.rollback(&mut conn, &migrations_runtime::RollbackTarget::Count(1), false).await.expect("empty table");
    drop(conn);
    db.destroy().await;
}

chakra_tests::on_each_backend!(down_readding_a_foreign_key_column:
    sqlite => a_down_readding_a_foreign_key_column_to_rows_is_refused_first_on_sqlite,
    postgres => a_down_readding_a_foreign_key_column_to_rows_is_refused_first_on_postgres,
    mariadb => a_down_readding_a_foreign_key_column_to_rows_is_refused_first_on_mariadb,
);
