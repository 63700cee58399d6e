//! What the migrator needs of a database connection: run SQL, read and write the
//! history table, and take the run's lock. One implementation per sqlx backend, each on
//! one pinned connection (the lock is never taken on one pooled connection and released
//! on another).

use std::time::Duration;

use migrations_core::Dialect;

use crate::error::MigrateError;
use crate::history::{Applied, Summary, SummaryRow};

/// The migration's own connection, handed to a Rust data step: match on the backend to
/// use typed sqlx queries, or call [`DataConnection::execute`] for plain SQL.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataConnection<'c> {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'c mut sqlx::PgConnection),
    /// MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    MySql(&'c mut sqlx::MySqlConnection),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(&'c mut sqlx::SqliteConnection),
}

impl DataConnection<'_> {
    /// Runs one SQL statement.
    pub async fn execute(self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            DataConnection::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            #[cfg(feature = "mysql")]
            DataConnection::MySql(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            #[cfg(feature = "sqlite")]
            DataConnection::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
    }
}

/// A connection the migrator can work on: `PgConnection`, `MySqlConnection` or
/// `SqliteConnection` (cargo features `postgres`, `mysql`, `sqlite`), or a pooled one.
#[allow(async_fn_in_trait)]
pub trait Connection: Send {
    /// The SQL dialect of the connection.
    fn dialect(&self) -> Dialect;

    /// The connection as a data step sees it.
    fn data(&mut self) -> DataConnection<'_>;

    /// Runs one statement (no parameters).
    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error>;

    /// Runs one statement (no parameters) and says how many rows it changed.
    async fn execute_rows(&mut self, sql: &str) -> Result<u64, sqlx::Error>;

    /// Every row of the history table, without the stored reverse SQL (see
    /// [`Connection::reverse_sql`]): a boot reads this, and it should stay small.
    async fn applied(&mut self) -> Result<Vec<Applied>, sqlx::Error>;

    /// Every row of the history table with just what a run needs (app, id, checksum,
    /// batch, progress): what a boot with nothing to do reads.
    async fn applied_brief(&mut self) -> Result<Vec<Applied>, sqlx::Error>;

    /// What a run of `apply` needs of the history, and no more: what a boot with
    /// nothing to do reads.
    async fn applied_summary(&mut self) -> Result<Summary, sqlx::Error> {
        self.applied_brief().await.map(Summary::from_rows)
    }

    /// The first column of every row of `sql`, as text (bookkeeping queries).
    async fn query_text(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error>;

    /// Every row of `sql`, each column as text (`NULL` as `None`): catalog queries,
    /// which cast what is not text themselves.
    async fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, sqlx::Error>;

    /// Whether one migration is recorded.
    async fn is_applied(&mut self, app: &str, id: &str) -> Result<bool, sqlx::Error>;

    /// The reverse SQL stored with one migration.
    async fn reverse_sql(&mut self, app: &str, id: &str) -> Result<Option<String>, sqlx::Error>;

    /// Inserts a history row.
    async fn insert_applied(&mut self, row: &Applied) -> Result<(), sqlx::Error>;

    /// Records many applied migrations in as few statements as the database allows (an
    /// `--atomic` run records all of its migrations at the end, in its transaction).
    async fn insert_applied_many(&mut self, rows: &[Applied]) -> Result<(), sqlx::Error>;

    /// Records progress (MySQL) or completion (`steps_done = None`) of a migration.
    async fn update_progress(
        &mut self,
        app: &str,
        id: &str,
        steps_done: Option<i64>,
        ms: i64,
    ) -> Result<(), sqlx::Error>;

    /// Deletes a history row.
    async fn delete_applied(&mut self, app: &str, id: &str) -> Result<(), sqlx::Error>;

    /// Replaces the checksum recorded for a migration.
    async fn update_checksum(&mut self, app: &str, id: &str, checksum: &str) -> Result<(), sqlx::Error>;

    /// Takes the run's lock, waiting at most `timeout`.
    async fn lock(&mut self, timeout: Duration) -> Result<(), MigrateError>;

    /// Releases the run's lock.
    async fn unlock(&mut self) -> Result<(), MigrateError>;

    /// SQLite: the indexes and triggers of `table`, each as its name and its `CREATE`
    /// statement, indexes first (a table rebuild drops them with the table).
    async fn dependents_of(&mut self, table: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
        let _ = table;
        Ok(Vec::new())
    }

    /// Whether `error` says a statement gave up waiting for a lock another session holds
    /// (or was chosen as a deadlock's victim): nothing of the statement happened, and the
    /// same statement may succeed later.
    fn is_lock_conflict(&self, error: &sqlx::Error) -> bool;

    /// Whether `error` says the statement's effect is already there (a column, index or
    /// table that exists, or is already gone). Used only for the one statement an
    /// interrupted run may have completed without recording it: on MySQL any DDL, on
    /// PostgreSQL one run outside a transaction.
    fn already_done(&self, error: &sqlx::Error) -> bool {
        let _ = error;
        false
    }

    /// SQLite: rows that break a foreign key (`PRAGMA foreign_key_check`).
    async fn foreign_key_problems(&mut self) -> Result<Vec<String>, sqlx::Error> {
        Ok(Vec::new())
    }
}

/// The MySQL lock (`GET_LOCK`) of the current database: `chakra_migrations.<database>`.
/// MySQL's named locks are server-wide, so the database is part of the name (cut to
/// the 64 characters a lock name may have); two databases on one server do not wait on
/// each other.
#[cfg(feature = "mysql")]
pub const LOCK_NAME_SQL: &str = "LEFT(CONCAT('chakra_migrations.', COALESCE(DATABASE(), '')), 64)";

/// PostgreSQL advisory lock key: a fixed number ("chakramg" in ASCII).
#[cfg(feature = "postgres")]
pub const PG_LOCK_KEY: i64 = 0x6368_616b_7261_6d67;

/// The history-table SQL of one placeholder style.
#[allow(dead_code)]
struct HistoryQueries {
    applied: &'static str,
    brief: &'static str,
    is_applied: &'static str,
    reverse_sql: &'static str,
    insert: &'static str,
    update: &'static str,
    delete: &'static str,
    checksum: &'static str,
}

/// PostgreSQL numbers its placeholders.
#[cfg(feature = "postgres")]
const DOLLAR: HistoryQueries = HistoryQueries {
    applied: "SELECT app, id, applied_at, checksum, execution_time_ms, batch, NULL, steps_done FROM _chakra_migrations ORDER BY batch, applied_at, id",
    brief: "SELECT app, id, checksum, batch, steps_done FROM _chakra_migrations ORDER BY batch, applied_at, id",
    is_applied: "SELECT COUNT(*) FROM _chakra_migrations WHERE app = $1 AND id = $2",
    reverse_sql: "SELECT reverse_sql FROM _chakra_migrations WHERE app = $1 AND id = $2",
    insert: "INSERT INTO _chakra_migrations (app, id, applied_at, checksum, execution_time_ms, batch, reverse_sql, steps_done) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    update: "UPDATE _chakra_migrations SET steps_done = $1, execution_time_ms = $2 WHERE app = $3 AND id = $4",
    delete: "DELETE FROM _chakra_migrations WHERE app = $1 AND id = $2",
    checksum: "UPDATE _chakra_migrations SET checksum = $1 WHERE app = $2 AND id = $3",
};

/// MySQL and SQLite use `?`.
#[cfg(any(feature = "mysql", feature = "sqlite"))]
const QUESTION: HistoryQueries = HistoryQueries {
    applied: "SELECT app, id, applied_at, checksum, execution_time_ms, batch, NULL, steps_done FROM _chakra_migrations ORDER BY batch, applied_at, id",
    brief: "SELECT app, id, checksum, batch, steps_done FROM _chakra_migrations ORDER BY batch, applied_at, id",
    is_applied: "SELECT COUNT(*) FROM _chakra_migrations WHERE app = ? AND id = ?",
    reverse_sql: "SELECT reverse_sql FROM _chakra_migrations WHERE app = ? AND id = ?",
    insert: "INSERT INTO _chakra_migrations (app, id, applied_at, checksum, execution_time_ms, batch, reverse_sql, steps_done) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    update: "UPDATE _chakra_migrations SET steps_done = ?, execution_time_ms = ? WHERE app = ? AND id = ?",
    delete: "DELETE FROM _chakra_migrations WHERE app = ? AND id = ?",
    checksum: "UPDATE _chakra_migrations SET checksum = ? WHERE app = ? AND id = ?",
};

/// The brief history as text (a line per migration, fields separated by tabs): one
/// row to fetch instead of one per migration, which on a boot with a thousand
/// migrations and nothing to do is most of the read. (MySQL reads rows: its
/// `GROUP_CONCAT` is cut at `group_concat_max_len`.) Each row is `(app, lines)`; here
/// the app is in every line and the lines come in applied order.
#[cfg(feature = "postgres")]
const PG_BRIEF: &str = "SELECT NULL::text, string_agg(app || E'\\t' || id || E'\\t' || checksum || E'\\t' || batch::text || E'\\t' || coalesce(steps_done::text, ''), E'\\n' ORDER BY batch, applied_at, id) FROM _chakra_migrations";

/// See [`PG_BRIEF`]. SQLite would sort an aggregate's `ORDER BY` in a temporary b-tree,
/// which costs more than the rest of the query: here a row per app (grouped along the
/// primary key's index, so nothing is sorted), and each line ends with its `rowid`, the
/// order rows were inserted in, which is the order they were applied in;
/// [`parse_brief`] sorts by batch and then by it.
#[cfg(feature = "sqlite")]
const SQLITE_BRIEF: &str = "SELECT app, group_concat(id || char(9) || checksum || char(9) || batch || char(9) || coalesce(steps_done, '') || char(9) || rowid, char(10)) FROM _chakra_migrations GROUP BY app";

/// [`Connection::applied_summary`] as one row per app: its ids and checksums as two
/// lists (two aggregates over the same rows step through them together, so the
/// lists line up; [`Summary::from_joined`] checks they hold as many entries as the
/// app has rows), the last batch, and how many runs were interrupted. No ordering:
/// the summary sorts what it needs to.
#[cfg(feature = "postgres")]
const PG_SUMMARY: &str = "SELECT app, string_agg(id, ','), string_agg(checksum, ','), count(*), max(batch), count(steps_done) FROM _chakra_migrations GROUP BY app";

/// See [`PG_SUMMARY`]. Grouped along the primary key's index, so the lists come
/// sorted by id; `group_concat`'s own separator is `,`.
#[cfg(feature = "sqlite")]
const SQLITE_SUMMARY: &str = "SELECT app, group_concat(id), group_concat(checksum), count(*), max(batch), count(steps_done) FROM _chakra_migrations GROUP BY app";

/// Reads what [`PG_BRIEF`] and [`SQLITE_BRIEF`] return: rows of `(app, lines)`, where
/// a line holds its app when the row does not, and may end with the key to order by.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
fn parse_brief(rows: &[(Option<String>, Option<String>)]) -> Result<Vec<Applied>, sqlx::Error> {
    let count = rows.iter().filter_map(|(_, t)| t.as_deref()).map(|t| t.lines().count()).sum();
    let mut all: Vec<Applied> = Vec::with_capacity(count);
    let mut order: Vec<(i64, u64)> = Vec::with_capacity(count);
    for (row_app, text) in rows {
        for line in text.as_deref().unwrap_or_default().lines().filter(|l| !l.is_empty()) {
            let bad = || sqlx::Error::Protocol(format!("unexpected line in the history table: {line:?}"));
            let mut f = line.split('\t');
            let app = match row_app {
                Some(app) => Some(app.as_str()),
                None => f.next(),
            };
            let (id, checksum, batch, steps) = (f.next(), f.next(), f.next(), f.next());
            let (Some(app), Some(id), Some(checksum), Some(batch), Some(steps)) = (app, id, checksum, batch, steps)
            else {
                return Err(bad());
            };
            // Lines without their own order key come in order already.
            let key = match f.next() {
                Some(key) => key.parse().map_err(|_| bad())?,
                None => all.len() as u64,
            };
            let batch = batch.parse().map_err(|_| bad())?;
            order.push((batch, key));
            all.push(Applied {
                app: app.to_string(),
                id: id.to_string(),
                applied_at: String::new(),
                checksum: checksum.to_string(),
                execution_time_ms: 0,
                batch,
                reverse_sql: None,
                steps_done: if steps.is_empty() { None } else { Some(steps.parse().map_err(|_| bad())?) },
            });
        }
    }
    // Usually in order already (one app, applied in one go or in batches).
    if order.is_sorted() {
        return Ok(all);
    }
    let mut by_order: Vec<(i64, u64, Applied)> =
        order.into_iter().zip(all).map(|((batch, key), a)| (batch, key, a)).collect();
    by_order.sort_by_key(|(batch, key, _)| (*batch, *key));
    Ok(by_order.into_iter().map(|(_, _, a)| a).collect())
}

/// Column `i` of `row` as text: a catalog may answer with text, bytes (MySQL 8's
/// `information_schema` is partly binary), an integer or a boolean.
fn text_of<R: sqlx::Row>(row: &R, i: usize) -> Result<Option<String>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    if let Ok(text) = row.try_get::<Option<String>, _>(i) {
        return Ok(text);
    }
    if let Ok(bytes) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()));
    }
    if let Ok(n) = row.try_get::<Option<i64>, _>(i) {
        return Ok(n.map(|n| n.to_string()));
    }
    row.try_get::<Option<bool>, _>(i).map(|b| b.map(|b| b.to_string()))
}

/// The parts of [`Connection`] that are the same on every backend but for the
/// placeholder style: running SQL and reading and writing the history table.
macro_rules! history_methods {
    ($variant:ident, $q:ident, $brief:expr, $summary:expr) => {
        fn dialect(&self) -> Dialect {
            Dialect::$variant
        }

        fn data(&mut self) -> DataConnection<'_> {
            DataConnection::$variant(self)
        }

        async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
            sqlx::raw_sql(sql).execute(self).await.map(drop)
        }

        async fn execute_rows(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
            sqlx::raw_sql(sql).execute(self).await.map(|r| r.rows_affected())
        }

        async fn applied(&mut self) -> Result<Vec<Applied>, sqlx::Error> {
            let rows = sqlx::query($q.applied).fetch_all(self).await?;
            rows.iter()
                .map(|r| {
                    Ok(Applied {
                        app: r.try_get(0)?,
                        id: r.try_get(1)?,
                        applied_at: r.try_get(2)?,
                        checksum: r.try_get(3)?,
                        execution_time_ms: r.try_get(4)?,
                        batch: r.try_get(5)?,
                        reverse_sql: r.try_get(6)?,
                        steps_done: r.try_get(7)?,
                    })
                })
                .collect()
        }

        async fn applied_brief(&mut self) -> Result<Vec<Applied>, sqlx::Error> {
            if let Some(aggregate) = $brief {
                let rows: Vec<(Option<String>, Option<String>)> =
                    sqlx::query_as(aggregate).fetch_all(&mut *self).await?;
                return parse_brief(&rows);
            }
            let rows = sqlx::query($q.brief).fetch_all(self).await?;
            rows.iter()
                .map(|r| {
                    Ok(Applied {
                        app: r.try_get(0)?,
                        id: r.try_get(1)?,
                        applied_at: String::new(),
                        checksum: r.try_get(2)?,
                        execution_time_ms: 0,
                        batch: r.try_get(3)?,
                        reverse_sql: None,
                        steps_done: r.try_get(4)?,
                    })
                })
                .collect()
        }

        async fn applied_summary(&mut self) -> Result<Summary, sqlx::Error> {
            if let Some(aggregate) = $summary {
                let rows: Vec<SummaryRow> = sqlx::query_as(aggregate).fetch_all(&mut *self).await?;
                if let Some(summary) = Summary::from_joined(rows) {
                    return Ok(summary);
                }
            }
            self.applied_brief().await.map(Summary::from_rows)
        }

        async fn query_text(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
            let rows = sqlx::query(sql).fetch_all(self).await?;
            rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
        }

        async fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
            let rows = sqlx::query(sql).fetch_all(self).await?;
            rows.iter().map(|r| (0..r.len()).map(|i| text_of(r, i)).collect()).collect()
        }

        async fn is_applied(&mut self, app: &str, id: &str) -> Result<bool, sqlx::Error> {
            let n: i64 = sqlx::query_scalar($q.is_applied).bind(app).bind(id).fetch_one(self).await?;
            Ok(n > 0)
        }

        async fn reverse_sql(&mut self, app: &str, id: &str) -> Result<Option<String>, sqlx::Error> {
            let row: Option<Option<String>> =
                sqlx::query_scalar($q.reverse_sql).bind(app).bind(id).fetch_optional(self).await?;
            Ok(row.flatten())
        }

        async fn insert_applied(&mut self, row: &Applied) -> Result<(), sqlx::Error> {
            sqlx::query($q.insert)
                .bind(&row.app)
                .bind(&row.id)
                .bind(&row.applied_at)
                .bind(&row.checksum)
                .bind(row.execution_time_ms)
                .bind(row.batch)
                .bind(&row.reverse_sql)
                .bind(row.steps_done)
                .execute(self)
                .await
                .map(drop)
        }

        async fn insert_applied_many(&mut self, rows: &[Applied]) -> Result<(), sqlx::Error> {
            // 8 values a row; 500 rows stay under every backend's limit on bound values.
            for chunk in rows.chunks(500) {
                let mut q = sqlx::QueryBuilder::<sqlx::$variant>::new(
                    "INSERT INTO _chakra_migrations (app, id, applied_at, checksum, execution_time_ms, batch, reverse_sql, steps_done) ",
                );
                q.push_values(chunk, |mut b, row| {
                    b.push_bind(row.app.clone())
                        .push_bind(row.id.clone())
                        .push_bind(row.applied_at.clone())
                        .push_bind(row.checksum.clone())
                        .push_bind(row.execution_time_ms)
                        .push_bind(row.batch)
                        .push_bind(row.reverse_sql.clone())
                        .push_bind(row.steps_done);
                });
                q.build().execute(&mut *self).await?;
            }
            Ok(())
        }

        async fn update_progress(
            &mut self,
            app: &str,
            id: &str,
            steps_done: Option<i64>,
            ms: i64,
        ) -> Result<(), sqlx::Error> {
            sqlx::query($q.update).bind(steps_done).bind(ms).bind(app).bind(id).execute(self).await.map(drop)
        }

        async fn delete_applied(&mut self, app: &str, id: &str) -> Result<(), sqlx::Error> {
            sqlx::query($q.delete).bind(app).bind(id).execute(self).await.map(drop)
        }

        async fn update_checksum(&mut self, app: &str, id: &str, checksum: &str) -> Result<(), sqlx::Error> {
            sqlx::query($q.checksum).bind(checksum).bind(app).bind(id).execute(self).await.map(drop)
        }
    };
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sqlx::{PgConnection, Row};

    impl Connection for PgConnection {
        history_methods!(Postgres, DOLLAR, Some(PG_BRIEF), Some(PG_SUMMARY));

        fn is_lock_conflict(&self, error: &sqlx::Error) -> bool {
            // 55P03 lock_not_available (the lock timeout), 40P01 deadlock_detected.
            error.as_database_error().and_then(|e| e.code()).is_some_and(|c| c == "55P03" || c == "40P01")
        }

        fn already_done(&self, error: &sqlx::Error) -> bool {
            // 42P07 duplicate_table (an index that exists), 42704 undefined_object (an
            // index already dropped), 42710 duplicate_object (a constraint that exists).
            error.as_database_error().and_then(|e| e.code()).is_some_and(|c| matches!(&*c, "42P07" | "42704" | "42710"))
        }

        async fn lock(&mut self, timeout: Duration) -> Result<(), MigrateError> {
            // Usually free: one statement. Otherwise wait, bounded by `lock_timeout`.
            let free: Option<bool> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(PG_LOCK_KEY)
                .fetch_one(&mut *self)
                .await
                .map_err(MigrateError::db("taking the lock (pg_try_advisory_lock)"))?;
            if free == Some(true) {
                return Ok(());
            }
            // Wait bounded by `timeout`, then put the session's own setting back.
            let ms = timeout.as_millis().max(1);
            let was: String = sqlx::query_scalar("SELECT current_setting('lock_timeout')")
                .fetch_one(&mut *self)
                .await
                .map_err(MigrateError::db("reading the lock timeout"))?;
            sqlx::query("SELECT set_config('lock_timeout', $1, false)")
                .bind(format!("{ms}ms"))
                .execute(&mut *self)
                .await
                .map_err(MigrateError::db("setting the lock timeout"))?;
            let taken = sqlx::query("SELECT pg_advisory_lock($1)").bind(PG_LOCK_KEY).execute(&mut *self).await;
            let _ = sqlx::query("SELECT set_config('lock_timeout', $1, false)").bind(&was).execute(&mut *self).await;
            match taken {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                    let holder = sqlx::query(
                        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS'), '')
                         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
                    )
                    .bind(PG_LOCK_KEY)
                    .fetch_optional(&mut *self)
                    .await
                    .ok()
                    .flatten()
                    .map_or_else(
                        || "the holder could not be found (it may just have finished)".to_string(),
                        |r| {
                            format!(
                                "it is held by PostgreSQL backend pid {} (application `{}`, from {}, connected since {}); if that process is stuck, `SELECT pg_terminate_backend({})` frees it",
                                r.get::<i32, _>(0),
                                r.get::<String, _>(1),
                                r.get::<String, _>(2),
                                r.get::<String, _>(3),
                                r.get::<i32, _>(0)
                            )
                        },
                    );
                    Err(MigrateError::LockTimeout { seconds: timeout.as_secs(), holder })
                }
                Err(e) => Err(MigrateError::db("taking the advisory lock")(e)),
            }
        }

        async fn unlock(&mut self) -> Result<(), MigrateError> {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PG_LOCK_KEY)
                .execute(self)
                .await
                .map(drop)
                .map_err(MigrateError::db("releasing the advisory lock"))
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use sqlx::{MySqlConnection, Row};

    impl Connection for MySqlConnection {
        history_methods!(MySql, QUESTION, None::<&str>, None::<&str>);

        fn is_lock_conflict(&self, error: &sqlx::Error) -> bool {
            // 1205 lock wait timeout (metadata and row locks), 1213 deadlock.
            error
                .as_database_error()
                .and_then(|e| e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
                .is_some_and(|e| matches!(e.number(), 1205 | 1213))
        }

        fn already_done(&self, error: &sqlx::Error) -> bool {
            // 1050 table exists, 1051 unknown table, 1054 unknown column, 1060 duplicate
            // column, 1061 duplicate key name, 1068 multiple primary keys, 1091 cannot drop
            // (does not exist), 1826 duplicate foreign key.
            error
                .as_database_error()
                .and_then(|e| e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
                .is_some_and(|e| matches!(e.number(), 1050 | 1051 | 1054 | 1060 | 1061 | 1068 | 1091 | 1826))
        }

        async fn lock(&mut self, timeout: Duration) -> Result<(), MigrateError> {
            let seconds = timeout.as_secs().max(1);
            let got: Option<i64> = sqlx::query_scalar(&format!("SELECT GET_LOCK({LOCK_NAME_SQL}, ?)"))
                .bind(i64::try_from(seconds).unwrap_or(i64::MAX))
                .fetch_one(&mut *self)
                .await
                .map_err(MigrateError::db("taking the lock (GET_LOCK)"))?;
            if got == Some(1) {
                return Ok(());
            }
            // As text: MySQL's ID is BIGINT UNSIGNED, MariaDB's BIGINT.
            let holder = sqlx::query(&format!("SELECT CAST(p.ID AS CHAR), CAST(p.USER AS CHAR), CAST(p.HOST AS CHAR), CAST(p.TIME AS CHAR) FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK({LOCK_NAME_SQL})"))
                .fetch_optional(&mut *self)
                .await
                .ok()
                .flatten()
                .map_or_else(
                    || "the holder could not be found (it may just have finished)".to_string(),
                    |r| {
                        format!(
                            "it is held by MySQL connection {} (user `{}` from {}, busy for {} s); if that process is stuck, `KILL {}` frees it",
                            r.try_get::<String, _>(0).unwrap_or_default(),
                            r.try_get::<String, _>(1).unwrap_or_default(),
                            r.try_get::<String, _>(2).unwrap_or_default(),
                            r.try_get::<String, _>(3).unwrap_or_default(),
                            r.try_get::<String, _>(0).unwrap_or_default()
                        )
                    },
                );
            Err(MigrateError::LockTimeout { seconds, holder })
        }

        async fn unlock(&mut self) -> Result<(), MigrateError> {
            sqlx::query(&format!("SELECT RELEASE_LOCK({LOCK_NAME_SQL})"))
                .execute(self)
                .await
                .map(drop)
                .map_err(MigrateError::db("releasing the lock (RELEASE_LOCK)"))
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::{Row, SqliteConnection};

    impl Connection for SqliteConnection {
        history_methods!(Sqlite, QUESTION, Some(SQLITE_BRIEF), Some(SQLITE_SUMMARY));

        fn is_lock_conflict(&self, error: &sqlx::Error) -> bool {
            // SQLITE_BUSY (5, and its extended codes) and SQLITE_LOCKED (6).
            error
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|c| c.parse::<i32>().is_ok_and(|n| n & 0xff == 5 || n & 0xff == 6))
        }

        async fn lock(&mut self, timeout: Duration) -> Result<(), MigrateError> {
            let ms = timeout.as_millis().max(1);
            sqlx::raw_sql(&format!("PRAGMA busy_timeout = {ms}"))
                .execute(self)
                .await
                .map(drop)
                .map_err(MigrateError::db("setting the busy timeout"))
        }

        async fn unlock(&mut self) -> Result<(), MigrateError> {
            Ok(())
        }

        async fn dependents_of(&mut self, table: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'trigger', name",
            )
            .bind(table)
            .fetch_all(self)
            .await
        }

        async fn foreign_key_problems(&mut self) -> Result<Vec<String>, sqlx::Error> {
            let rows = sqlx::query("PRAGMA foreign_key_check").fetch_all(self).await?;
            Ok(rows
                .iter()
                .map(|r| {
                    format!(
                        "row {} of `{}` references a missing row of `{}`",
                        r.try_get::<i64, _>(1).unwrap_or_default(),
                        r.try_get::<String, _>(0).unwrap_or_default(),
                        r.try_get::<String, _>(2).unwrap_or_default()
                    )
                })
                .collect())
        }
    }
}
