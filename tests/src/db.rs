//! Real databases for tests: a fresh, uniquely named database (SQLite: file) per test,
//! dropped afterwards. A server that cannot be reached fails the test under `CI` and is
//! skipped, loudly, elsewhere.

use std::sync::atomic::{AtomicU32, Ordering};

use migrations_core::render::sqlite_rebuilds_table;
use migrations_core::{Dialect, Operation, Schema};
use sqlx::{Connection, MySqlConnection, PgConnection, SqliteConnection};

/// Default server URLs; override with `CHAKRA_TEST_POSTGRES_URL` / `CHAKRA_TEST_MYSQL_URL`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// See [`DEFAULT_POSTGRES_URL`].
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// The server URL for `dialect` (SQLite needs none).
pub fn server_url(dialect: Dialect) -> String {
    let (var, default) = match dialect {
        Dialect::Postgres => ("CHAKRA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        Dialect::MySql => ("CHAKRA_TEST_MYSQL_URL", DEFAULT_MYSQL_URL),
        Dialect::Sqlite => return String::new(),
    };
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// A unique name for a test database: process id, a counter and the time.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("chakra_{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// One open connection to a database of its own.
#[derive(Debug)]
pub enum Conn {
    /// PostgreSQL.
    Pg(PgConnection),
    /// MySQL / MariaDB.
    My(MySqlConnection),
    /// SQLite.
    Lite(SqliteConnection),
}

/// A database created for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Which backend.
    pub dialect: Dialect,
    /// The database's name (SQLite: the file path).
    pub name: String,
    /// URL of the database itself.
    pub url: String,
    /// The connection.
    pub conn: Conn,
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > base.find("//").map_or(0, |j| j + 1) => &base[..i],
        _ => base,
    };
    format!("{prefix}/{db}{query}")
}

fn unreachable(dialect: Dialect, url: &str, err: &dyn std::fmt::Display) -> Option<TestDb> {
    let msg = format!("{dialect} server at {url} cannot be reached: {err}");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}\n(CI is set, so a missing server is a failure: start it with `bash .ci/run`, which starts the services)");
    }
    eprintln!("\n=== SKIPPED: {msg} ===\n=== (set CI=1 to make this a failure) ===\n");
    None
}

impl TestDb {
    /// A fresh database for `dialect`, or `None` if its server is down and `CI` is unset.
    pub async fn create(dialect: Dialect, prefix: &str) -> Option<TestDb> {
        let name = unique_name(prefix);
        match dialect {
            Dialect::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let mut conn = SqliteConnection::connect(&url).await.expect("open sqlite file");
                sqlx::raw_sql("PRAGMA foreign_keys = ON").execute(&mut conn).await.expect("foreign keys on");
                Some(TestDb { dialect, name: path.display().to_string(), url, conn: Conn::Lite(conn) })
            }
            Dialect::Postgres => {
                let admin_url = server_url(dialect);
                let mut admin = match PgConnection::connect(&admin_url).await {
                    Ok(c) => c,
                    Err(e) => return unreachable(dialect, &admin_url, &e),
                };
                sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                let mut conn = PgConnection::connect(&url).await.expect("connect to new database");
                sqlx::raw_sql("SET client_min_messages = warning").execute(&mut conn).await.expect("quiet notices");
                Some(TestDb { dialect, name, url, conn: Conn::Pg(conn) })
            }
            Dialect::MySql => {
                let admin_url = server_url(dialect);
                let mut admin = match MySqlConnection::connect(&admin_url).await {
                    Ok(c) => c,
                    Err(e) => return unreachable(dialect, &admin_url, &e),
                };
                sqlx::raw_sql(&format!("CREATE DATABASE `{name}`")).execute(&mut admin).await.expect("create database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                let conn = MySqlConnection::connect(&url).await.expect("connect to new database");
                Some(TestDb { dialect, name, url, conn: Conn::My(conn) })
            }
        }
    }

    /// Runs one statement.
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match &mut self.conn {
            Conn::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Conn::My(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Conn::Lite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
    }

    /// Runs one statement and says how many rows it changed.
    pub async fn execute_rows(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        match &mut self.conn {
            Conn::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(|r| r.rows_affected()),
            Conn::My(c) => sqlx::raw_sql(sql).execute(c).await.map(|r| r.rows_affected()),
            Conn::Lite(c) => sqlx::raw_sql(sql).execute(c).await.map(|r| r.rows_affected()),
        }
    }

    /// Runs statements, panicking with the statement and the database's message on failure.
    pub async fn execute_all(&mut self, statements: &[String]) {
        for s in statements {
            if let Err(e) = self.execute(s).await {
                panic!("{} rejected:\n{s}\n--> {e}", self.dialect);
            }
        }
    }

    /// Applies `ops` to a database whose schema is `before`, the way the runtime does: in
    /// the online forms ([`migrations_core::render::live`]), one transaction per phase
    /// where DDL is transactional, what must run outside a transaction outside one, and
    /// backfills in batches, a MySQL foreign key in place with its rows checked after; on SQLite, `PRAGMA foreign_keys` off around a table rebuild
    /// and `PRAGMA foreign_key_check` before the commit.
    pub async fn apply(&mut self, ops: &[Operation], before: &Schema) -> Schema {
        use migrations_core::render::live::{migration, phases, Forms, Run};
        let mut schema = before.clone();
        let mut rebuild = false;
        for op in ops {
            rebuild |= self.dialect == Dialect::Sqlite && sqlite_rebuilds_table(op, &schema);
            schema.apply(op).expect("apply in memory");
        }
        let statements =
            migration(ops, before, self.dialect, Forms::Online).unwrap_or_else(|e| panic!("render {ops:?}: {e}"));
        if rebuild {
            self.execute_all(&["PRAGMA foreign_keys = OFF".into()]).await;
        }
        let runs: Vec<Run> = statements.iter().map(|s| s.run).collect();
        for phase in phases(&runs) {
            let transaction =
                self.dialect.transactional_ddl() && matches!(runs[phase.start], Run::Transaction | Run::OwnTransaction);
            if transaction {
                self.execute_all(&["BEGIN".into()]).await;
            }
            for s in &statements[phase.clone()] {
                if s.run == Run::Batches {
                    while self
                        .execute_rows(&s.sql)
                        .await
                        .unwrap_or_else(|e| panic!("{} rejected:\n{}\n--> {e}", self.dialect, s.sql))
                        > 0
                    {}
                } else if let Some(key) = &s.unchecked_key {
                    // As the runtime adds a MySQL foreign key in place: checks off for
                    // the statement, then the rows checked.
                    self.execute_all(&["SET SESSION foreign_key_checks = 0".into(), s.sql.clone()]).await;
                    self.execute_all(&["SET SESSION foreign_key_checks = 1".into()]).await;
                    let orphans = self.query_strings(&key.orphan).await;
                    assert!(orphans.is_empty(), "{} references nothing: {orphans:?}", key.table);
                } else {
                    self.execute_all(std::slice::from_ref(&s.sql)).await;
                }
            }
            if rebuild && phase.end == statements.len() {
                let problems = self.query_strings("PRAGMA foreign_key_check").await;
                assert!(problems.is_empty(), "foreign key check failed after rebuild: {problems:?}");
            }
            if transaction {
                self.execute_all(&["COMMIT".into()]).await;
            }
        }
        if rebuild {
            self.execute_all(&["PRAGMA foreign_keys = ON".into()]).await;
        }
        schema
    }

    /// Undoes `ops` (which took `before` to the returned schema of [`TestDb::apply`]).
    pub async fn unapply(&mut self, ops: &[Operation], before: &Schema) -> Schema {
        let mut after = before.clone();
        after.apply_all(ops).expect("apply in memory");
        let reversed: Vec<Operation> = ops.iter().rev().map(|op| op.reverse().expect("reversible")).collect();
        self.apply(&reversed, &after).await
    }

    /// The first column of every row of `sql`, as text.
    pub async fn query_strings(&mut self, sql: &str) -> Vec<String> {
        use sqlx::Row;
        match &mut self.conn {
            Conn::Pg(c) => {
                sqlx::query(sql).fetch_all(c).await.expect(sql).iter().map(|r| r.get::<String, _>(0)).collect()
            }
            Conn::My(c) => {
                sqlx::query(sql).fetch_all(c).await.expect(sql).iter().map(|r| r.get::<String, _>(0)).collect()
            }
            Conn::Lite(c) => sqlx::query(sql)
                .fetch_all(c)
                .await
                .expect(sql)
                .iter()
                .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
                .collect(),
        }
    }

    /// Drops everything in the database, keeping the database.
    pub async fn reset(&mut self) {
        if self.dialect.transactional_ddl() {
            // A failed test may have left a transaction open.
            let _ = self.execute("ROLLBACK").await;
        }
        match self.dialect {
            Dialect::Postgres => {
                self.execute_all(&["DROP SCHEMA public CASCADE".into(), "CREATE SCHEMA public".into()]).await;
            }
            Dialect::MySql => {
                let name = self.name.clone();
                self.execute_all(&[
                    format!("DROP DATABASE `{name}`"),
                    format!("CREATE DATABASE `{name}`"),
                    format!("USE `{name}`"),
                ])
                .await;
            }
            Dialect::Sqlite => {
                let tables = self
                    .query_strings("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                    .await;
                self.execute_all(&["PRAGMA foreign_keys = OFF".into()]).await;
                for t in tables {
                    self.execute_all(&[format!("DROP TABLE \"{}\"", t.replace('"', "\"\""))]).await;
                }
                self.execute_all(&["PRAGMA foreign_keys = ON".into()]).await;
            }
        }
    }

    /// Closes the connection and drops the database (SQLite: deletes the file).
    pub async fn destroy(self) {
        match self.conn {
            Conn::Pg(c) => {
                c.close().await.ok();
                if let Ok(mut admin) = PgConnection::connect(&server_url(Dialect::Postgres)).await {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                        .execute(&mut admin)
                        .await;
                }
            }
            Conn::My(mut c) => {
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{}`", self.name)).execute(&mut c).await;
                c.close().await.ok();
            }
            Conn::Lite(c) => {
                c.close().await.ok();
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
                }
            }
        }
    }
}
