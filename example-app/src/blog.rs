//! What the blog does with its data, on whichever backend the URL chose.

use migrations_runtime::sqlx::{self, Row};
use migrations_runtime::AnyConnection;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// Runs a query with placeholders written `?` (turned into `$1`, `$2`… on PostgreSQL),
/// binding `args` as text, and returns every row as strings.
async fn query(conn: &mut AnyConnection, sql: &str, args: &[&str]) -> Result<Vec<Vec<String>>> {
    macro_rules! run {
        ($c:expr, $sql:expr) => {{
            let mut q = sqlx::query($sql);
            for a in args {
                q = q.bind(*a);
            }
            let rows = q.fetch_all($c).await?;
            rows.iter().map(|r| (0..r.len()).map(|i| r.try_get::<String, _>(i)).collect()).collect()
        }};
    }
    match conn {
        AnyConnection::Postgres(c) => {
            let mut n = 0;
            let numbered: String = sql
                .chars()
                .map(|ch| {
                    if ch == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        ch.to_string()
                    }
                })
                .collect();
            run!(c, &numbered)
        }
        AnyConnection::MySql(c) => run!(c, sql),
        AnyConnection::Sqlite(c) => run!(c, sql),
        _ => Err(sqlx::Error::Configuration("unsupported database".into())),
    }
}

/// How many posts there are.
pub async fn post_count(conn: &mut AnyConnection) -> Result<usize> {
    Ok(query(conn, "SELECT title FROM posts", &[]).await?.len())
}

/// Adds a published post by `author` (created if new), tagged `tag` (created if new).
pub async fn add_post(conn: &mut AnyConnection, author: &str, title: &str, tag: &str) -> Result<()> {
    if query(conn, "SELECT username FROM users WHERE username = ?", &[author]).await?.is_empty() {
        query(conn, "INSERT INTO users (username) VALUES (?)", &[author]).await?;
    }
    query(
        conn,
        "INSERT INTO posts (author_id, title, content, published) SELECT id, ?, ?, TRUE FROM users WHERE username = ?",
        &[title, "Written on boot by the example app.", author],
    )
    .await?;
    if query(conn, "SELECT name FROM tags WHERE name = ?", &[tag]).await?.is_empty() {
        query(conn, "INSERT INTO tags (name) VALUES (?)", &[tag]).await?;
    }
    query(
        conn,
        "INSERT INTO post_tags (post_id, tag_id) SELECT p.id, t.id FROM posts p JOIN users u ON u.id = p.author_id, tags t \
         WHERE u.username = ? AND p.title = ? AND t.name = ?",
        &[author, title, tag],
    )
    .await?;
    Ok(())
}

/// Every published post as (author, title, tags), oldest first.
pub async fn posts(conn: &mut AnyConnection) -> Result<Vec<(String, String, Vec<String>)>> {
    let rows = query(
        conn,
        "SELECT u.username, p.title FROM posts p JOIN users u ON u.id = p.author_id WHERE p.published ORDER BY p.id",
        &[],
    )
    .await?;
    let mut posts = Vec::new();
    for row in rows {
        let [author, title] = <[String; 2]>::try_from(row).map_err(|_| sqlx::Error::RowNotFound)?;
        // (author, title) is unique: 0005 made it so.
        let tags = query(
            conn,
            "SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id JOIN posts p ON p.id = pt.post_id \
             JOIN users u ON u.id = p.author_id WHERE u.username = ? AND p.title = ? ORDER BY t.name",
            &[&author, &title],
        )
        .await?;
        posts.push((author, title, tags.into_iter().flatten().collect()));
    }
    Ok(posts)
}
