//! The history table `_chakra_migrations`: one row per applied migration.

use migrations_core::Dialect;

/// The history table's name.
pub const TABLE: &str = "_chakra_migrations";

/// One applied migration, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The app (crate) the migration belongs to.
    pub app: String,
    /// The migration id.
    pub id: String,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: String,
    /// Its checksum then.
    pub checksum: String,
    /// How long it took.
    pub execution_time_ms: i64,
    /// The run that applied it; rollback undoes the last batch.
    pub batch: i64,
    /// The SQL that undoes it, for schema-only migrations (statements joined by `;\n--\n`),
    /// so an older binary can roll back what a newer one applied. Written with the row;
    /// not read back by `Connection::applied` (see `Connection::reverse_sql`).
    pub reverse_sql: Option<String>,
    /// MySQL: statements committed so far while it runs; `None` once complete.
    pub steps_done: Option<i64>,
}

/// `CREATE TABLE IF NOT EXISTS` for the history table in `dialect`.
pub fn create_sql(dialect: Dialect) -> String {
    let text = match dialect {
        Dialect::Postgres | Dialect::Sqlite => "TEXT",
        Dialect::MySql => "LONGTEXT",
    };
    let q = |s: &str| dialect.quote(s);
    format!(
        "CREATE TABLE IF NOT EXISTS {t} ({app} VARCHAR(100) NOT NULL, {id} VARCHAR(200) NOT NULL, {at} VARCHAR(40) NOT NULL, {sum} VARCHAR(64) NOT NULL, {ms} BIGINT NOT NULL, {batch} BIGINT NOT NULL, {rev} {text} NULL, {steps} BIGINT NULL, PRIMARY KEY ({app}, {id}))",
        t = q(TABLE),
        app = q("app"),
        id = q("id"),
        at = q("applied_at"),
        sum = q("checksum"),
        ms = q("execution_time_ms"),
        batch = q("batch"),
        rev = q("reverse_sql"),
        steps = q("steps_done"),
    )
}

/// Separator between statements in `reverse_sql`.
pub const STATEMENT_SEPARATOR: &str = ";\n--\n";

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let c = migrations_core::civil::Civil::from_unix(i64::try_from(d.as_secs()).unwrap_or(0));
    format!("{}T{:02}:{:02}:{:02}.{:03}Z", c.date(), c.hour, c.minute, c.second, d.subsec_millis())
}
