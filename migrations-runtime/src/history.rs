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

/// What a run of `apply` needs of the history: which migrations are applied, with
/// their checksums, the last batch, and whether a run was interrupted in one (MySQL).
/// PostgreSQL and SQLite send it as one short row per app, each app's ids and
/// checksums as two comma-joined lists (see `Connection::applied_summary`), which on a
/// boot with a thousand migrations and nothing to do is far less to build, send and
/// take apart than a row, or a line, per migration.
#[derive(Debug, Default)]
pub struct Summary {
    lists: Lists,
    /// The highest batch recorded (0 when the history is empty).
    pub last_batch: i64,
    /// Whether a migration's run was interrupted (MySQL): read
    /// `Connection::applied_brief` to learn which.
    pub interrupted: bool,
}

#[derive(Debug)]
enum Lists {
    /// Per app: `(app, ids, checksums)`, the lists joined by `,`.
    Joined(Vec<(String, String, String)>),
    /// A row per migration.
    Rows(Vec<Applied>),
}

impl Default for Lists {
    fn default() -> Self {
        Lists::Rows(Vec::new())
    }
}

/// One app's row of the summary query: app, ids, checksums, count, last batch, and
/// how many runs were interrupted.
pub type SummaryRow = (String, String, String, i64, i64, i64);

impl Summary {
    /// From the rows of the aggregate query; `None` when an app's lists do not hold
    /// `count` entries each (an id with a comma in it): read the rows instead.
    pub fn from_joined(rows: Vec<SummaryRow>) -> Option<Summary> {
        let mut summary = Summary::default();
        let mut apps = Vec::with_capacity(rows.len());
        for (app, ids, checksums, count, batch, interrupted) in rows {
            let entries = |list: &str| list.split(',').count() as i64;
            if entries(&ids) != count || entries(&checksums) != count {
                return None;
            }
            summary.last_batch = summary.last_batch.max(batch);
            summary.interrupted |= interrupted > 0;
            apps.push((app, ids, checksums));
        }
        summary.lists = Lists::Joined(apps);
        Some(summary)
    }

    /// From a row per migration.
    pub fn from_rows(rows: Vec<Applied>) -> Summary {
        Summary {
            last_batch: rows.iter().map(|r| r.batch).max().unwrap_or(0),
            interrupted: rows.iter().any(|r| r.steps_done.is_some()),
            lists: Lists::Rows(rows),
        }
    }

    /// The checksum each of `migrations` (`(app, id)`, in the caller's order) was
    /// applied with, or `None` where it is not applied.
    pub fn checksums<'m>(&self, migrations: impl Iterator<Item = (&'m str, &'m str)>) -> Vec<Option<&str>> {
        // (app, id, checksum), sorted by app and id.
        let mut entries: Vec<(&str, &str, &str)> = match &self.lists {
            Lists::Joined(apps) => apps
                .iter()
                .flat_map(|(app, ids, sums)| ids.split(',').zip(sums.split(',')).map(|(i, s)| (&**app, i, s)))
                .collect(),
            Lists::Rows(rows) => rows.iter().map(|r| (&*r.app, &*r.id, &*r.checksum)).collect(),
        };
        // SQLite groups along the primary key's index: sorted already.
        if !entries.is_sorted_by(|a, b| (a.0, a.1) <= (b.0, b.1)) {
            entries.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        }
        // Migrations usually come in the order of their ids, so the entry after the
        // last one found is tried before a search.
        let mut next = 0;
        migrations
            .map(|(app, id)| {
                let at = match entries.get(next) {
                    Some(e) if e.0 == app && e.1 == id => Some(next),
                    _ => entries.binary_search_by(|e| (e.0, e.1).cmp(&(app, id))).ok(),
                };
                at.map(|i| {
                    next = i + 1;
                    entries[i].2
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(app: &str, id: &str, checksum: &str, batch: i64) -> Applied {
        Applied {
            app: app.into(),
            id: id.into(),
            applied_at: String::new(),
            checksum: checksum.into(),
            execution_time_ms: 0,
            batch,
            reverse_sql: None,
            steps_done: None,
        }
    }

    #[test]
    fn joined_lists_and_rows_give_the_same_checksums() {
        let joined = Summary::from_joined(vec![
            ("blog".into(), "0002_b,0001_a".into(), "s2,s1".into(), 2, 3, 0),
            ("auth".into(), "0001_a".into(), "t1".into(), 1, 1, 0),
        ])
        .unwrap();
        let rows = Summary::from_rows(vec![
            row("blog", "0002_b", "s2", 3),
            row("auth", "0001_a", "t1", 1),
            row("blog", "0001_a", "s1", 2),
        ]);
        let wanted =
            [("auth", "0001_a"), ("blog", "0001_a"), ("blog", "0002_b"), ("blog", "0003_c"), ("shop", "0001_a")];
        for summary in [&joined, &rows] {
            assert_eq!(summary.checksums(wanted.into_iter()), [Some("t1"), Some("s1"), Some("s2"), None, None]);
            assert_eq!(summary.last_batch, 3);
            assert!(!summary.interrupted);
        }
        // Asked out of order, each is still found.
        assert_eq!(joined.checksums([("blog", "0002_b"), ("auth", "0001_a")].into_iter()), [Some("s2"), Some("t1")]);
    }

    #[test]
    fn a_list_that_does_not_split_into_its_count_is_refused() {
        assert!(Summary::from_joined(vec![("blog".into(), "0001_a,b".into(), "s1".into(), 1, 1, 0)]).is_none());
        let interrupted = Summary::from_joined(vec![("blog".into(), "0001_a".into(), "s1".into(), 1, 1, 1)]).unwrap();
        assert!(interrupted.interrupted);
        assert_eq!(Summary::default().checksums([("blog", "0001_a")].into_iter()), [None]);
    }
}
