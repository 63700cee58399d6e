//! Takes the migration lock the way a migrating process does, prints `locked <session>`
//! (the PostgreSQL backend pid or MySQL connection id; SQLite: `-`), and holds it until
//! killed: `lock_holder <DATABASE_URL>`. SQLite's lock is its write lock, taken with
//! `BEGIN IMMEDIATE`.

use std::io::Write;
use std::time::Duration;

use migrations_runtime::sqlx::{self, Row};
use migrations_runtime::{AnyConnection, Connection};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).expect("usage: lock_holder <DATABASE_URL>");
    let mut conn = AnyConnection::connect(&url).await.expect("connect");
    let session = match &mut conn {
        AnyConnection::Postgres(c) => {
            sqlx::query("SELECT pg_backend_pid()").fetch_one(&mut *c).await.expect("pid").get::<i32, _>(0).to_string()
        }
        AnyConnection::MySql(c) => sqlx::query("SELECT CAST(CONNECTION_ID() AS CHAR)")
            .fetch_one(&mut *c)
            .await
            .expect("connection id")
            .get::<String, _>(0),
        _ => "-".to_string(),
    };
    match conn.dialect() {
        migrations_runtime::Dialect::Sqlite => conn.execute("BEGIN IMMEDIATE").await.expect("write lock"),
        _ => conn.lock(Duration::from_secs(60)).await.expect("lock"),
    }
    println!("locked {session}");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
