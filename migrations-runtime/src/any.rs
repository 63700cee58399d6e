//! A connection chosen by URL (`postgres://`, `mysql://`/`mariadb://`, `sqlite:`), for
//! the common case on boot and for the mounted CLI. Each backend needs its cargo feature.

use std::time::Duration;

use migrations_core::Dialect;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::Applied;

/// One connection to whichever backend the URL names.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyConnection {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgConnection),
    /// MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlConnection),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqliteConnection),
}

impl AnyConnection {
    /// Connects to `url`. A `sqlite:` URL naming a file that does not exist is refused
    /// unless it asks for the file to be created (`sqlite://app.db?mode=rwc`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), migrations_runtime::MigrateError> {
    /// use migrations_runtime::{AnyConnection, Connection as _, Dialect};
    ///
    /// let conn = AnyConnection::connect("sqlite::memory:").await?;
    /// assert_eq!(conn.dialect(), Dialect::Sqlite);
    /// // `postgres://user@host/db` and `mysql://user@host/db` choose the other backends.
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<AnyConnection, MigrateError> {
        let timeout = crate::lock_wait::connect_timeout(None)?;
        Self::connect_within(url, timeout).await
    }

    /// Connects to `url`, giving up when the server has not answered within `timeout`
    /// (a server that accepts the connection and then says nothing would otherwise
    /// keep a boot waiting forever). [`AnyConnection::connect`] takes the timeout from
    /// `CHAKRA_CONNECT_TIMEOUT`, else 10 s.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), migrations_runtime::MigrateError> {
    /// use std::time::Duration;
    /// use migrations_runtime::AnyConnection;
    ///
    /// let conn = AnyConnection::connect_within("sqlite::memory:", Duration::from_secs(5)).await?;
    /// # drop(conn);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_within(url: &str, timeout: Duration) -> Result<AnyConnection, MigrateError> {
        match tokio::time::timeout(timeout, Self::connect_unbounded(url)).await {
            Ok(result) => result,
            Err(_) => Err(MigrateError::ConnectTimeout { url: redact(url), seconds: timeout.as_secs_f64() }),
        }
    }

    async fn connect_unbounded(url: &str) -> Result<AnyConnection, MigrateError> {
        use sqlx::Connection as _;
        let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
        let doing = || format!("connecting to {}", redact(url));
        match scheme.as_str() {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                sqlx::PgConnection::connect(url).await.map(AnyConnection::Postgres).map_err(MigrateError::db(doing()))
            }
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                sqlx::MySqlConnection::connect(&url).await.map(AnyConnection::MySql).map_err(MigrateError::db(doing()))
            }
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                // A missing file is refused unless creating it is asked for: a typo in the
                // URL would otherwise boot on a new, empty database.
                if let Some(path) = sqlite_file(url).filter(|p| !std::path::Path::new(p).exists()) {
                    if !url.contains("mode=rwc") && !url.contains("mode=memory") {
                        return Err(MigrateError::Usage(format!(
                            "there is no SQLite database at `{path}` (from {}); to create it, ask for it with `?mode=rwc` in the URL",
                            redact(url)
                        )));
                    }
                }
                sqlx::SqliteConnection::connect(url).await.map(AnyConnection::Sqlite).map_err(MigrateError::db(doing()))
            }
            _ => Err(MigrateError::Usage(format!(
                "cannot connect to `{}`: this binary supports {}",
                redact(url),
                [
                    cfg!(feature = "postgres").then_some("postgres://"),
                    cfg!(feature = "mysql").then_some("mysql://"),
                    cfg!(feature = "sqlite").then_some("sqlite:"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
            ))),
        }
    }
}

/// The file a `sqlite:` URL names, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:") && !url.contains("mode=memory")).then(|| path.to_string())
}

/// The URL without its password, for messages: the password of the user part and any
/// `password=` (or `pass=`, `sslpassword=`) query parameter become `***`.
///
/// ```
/// use migrations_runtime::any::redact;
///
/// assert_eq!(redact("postgres://app:s3cret@db:5432/prod"), "postgres://app:***@db:5432/prod");
/// assert_eq!(redact("mysql://app@db/prod?password=s3cret&ssl-mode=REQUIRED"), "mysql://app@db/prod?password=***&ssl-mode=REQUIRED");
/// ```
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((creds, host)) => match creds.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let path = match path.split_once('?') {
        Some((before, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if matches!(k.to_ascii_lowercase().as_str(), "password" | "pass" | "sslpassword") => {
                        format!("{k}=***")
                    }
                    _ => p.to_string(),
                })
                .collect();
            format!("{before}?{}", params.join("&"))
        }
        None => path.to_string(),
    };
    format!("{}{authority}{path}", &url[..scheme_end])
}

macro_rules! delegate {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres($c) => $e,
            #[cfg(feature = "mysql")]
            AnyConnection::MySql($c) => $e,
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite($c) => $e,
        }
    };
}

impl Connection for AnyConnection {
    fn dialect(&self) -> Dialect {
        delegate!(self, c => c.dialect())
    }

    fn data(&mut self) -> crate::backend::DataConnection<'_> {
        delegate!(self, c => c.data())
    }

    fn is_lock_conflict(&self, error: &sqlx::Error) -> bool {
        delegate!(self, c => c.is_lock_conflict(error))
    }

    fn already_done(&self, error: &sqlx::Error) -> bool {
        delegate!(self, c => c.already_done(error))
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        delegate!(self, c => c.execute(sql).await)
    }

    async fn execute_rows(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        delegate!(self, c => c.execute_rows(sql).await)
    }

    async fn applied(&mut self) -> Result<Vec<Applied>, sqlx::Error> {
        delegate!(self, c => c.applied().await)
    }

    async fn applied_brief(&mut self) -> Result<Vec<Applied>, sqlx::Error> {
        delegate!(self, c => c.applied_brief().await)
    }

    async fn applied_summary(&mut self) -> Result<crate::history::Summary, sqlx::Error> {
        delegate!(self, c => c.applied_summary().await)
    }

    async fn query_text(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        delegate!(self, c => c.query_text(sql).await)
    }

    async fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        delegate!(self, c => c.query_rows(sql).await)
    }

    async fn is_applied(&mut self, app: &str, id: &str) -> Result<bool, sqlx::Error> {
        delegate!(self, c => c.is_applied(app, id).await)
    }

    async fn reverse_sql(&mut self, app: &str, id: &str) -> Result<Option<String>, sqlx::Error> {
        delegate!(self, c => c.reverse_sql(app, id).await)
    }

    async fn insert_applied(&mut self, row: &Applied) -> Result<(), sqlx::Error> {
        delegate!(self, c => c.insert_applied(row).await)
    }

    async fn insert_applied_many(&mut self, rows: &[Applied]) -> Result<(), sqlx::Error> {
        delegate!(self, c => c.insert_applied_many(rows).await)
    }

    async fn update_progress(
        &mut self,
        app: &str,
        id: &str,
        steps_done: Option<i64>,
        ms: i64,
    ) -> Result<(), sqlx::Error> {
        delegate!(self, c => c.update_progress(app, id, steps_done, ms).await)
    }

    async fn delete_applied(&mut self, app: &str, id: &str) -> Result<(), sqlx::Error> {
        delegate!(self, c => c.delete_applied(app, id).await)
    }

    async fn update_checksum(&mut self, app: &str, id: &str, checksum: &str) -> Result<(), sqlx::Error> {
        delegate!(self, c => c.update_checksum(app, id, checksum).await)
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), MigrateError> {
        delegate!(self, c => c.lock(timeout).await)
    }

    async fn unlock(&mut self) -> Result<(), MigrateError> {
        delegate!(self, c => c.unlock().await)
    }

    async fn foreign_key_problems(&mut self) -> Result<Vec<String>, sqlx::Error> {
        delegate!(self, c => c.foreign_key_problems().await)
    }

    async fn dependents_of(&mut self, table: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
        delegate!(self, c => c.dependents_of(table).await)
    }
}

/// The migrator's entry points for [`AnyConnection`], instantiated here, in this crate's
/// own code units. A generic `async fn` is otherwise compiled in the crate that calls
/// it: an application's `Migrator::apply(&mut AnyConnection)` would compile the whole
/// migrator (its SQL runner, its history table, sqlx's queries) into the application's
/// crate, again whenever the code unit holding `main` changes. In a debug build rustc
/// shares generic instances between crates, so the application reuses these instead.
/// Never called.
#[doc(hidden)]
pub fn __instances_for_any_connection(m: &crate::Migrator, c: &mut AnyConnection) {
    use std::future::Future;
    use std::pin::Pin;
    fn erase<'a, T>(f: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
        Box::pin(f)
    }
    drop(erase(AnyConnection::connect("")));
    drop(erase(m.apply(c)));
    drop(erase(m.apply_with(c, &crate::ApplyOptions::default())));
    drop(erase(m.rollback(c, &crate::RollbackTarget::Count(1), false)));
    drop(erase(m.status(c)));
    drop(erase(m.history(c)));
    #[cfg(feature = "cli")]
    {
        let cmd = crate::cli::MigrateCommand::Status;
        drop(erase(cmd.run(m, "")));
    }
}
