//! Reading the history: `status`, `history`, and forgetting an interrupted migration
//! (`resolve`). The history table is created on first use.

use std::collections::BTreeMap;

use migrations_core::dialect::quote_str;
use migrations_core::Dialect;

use crate::backend::Connection;
use crate::error::MigrateError;
use crate::history::{self, Applied};

use super::Migrator;

/// The state of one migration in `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Applied, with when.
    Applied(String),
    /// Not applied yet.
    Pending,
    /// Applied, but its source changed since.
    Changed(String),
    /// Applied, but this binary does not know it (applied by a newer binary?).
    Unknown(String),
    /// MySQL: interrupted after this many statements.
    Interrupted(i64),
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// The app.
    pub app: String,
    /// The migration.
    pub id: String,
    /// Its state.
    pub state: State,
    /// Whether it is an unsealed draft.
    pub draft: bool,
}

impl Migrator {
    /// The history as it is, without creating its table: a database no run has touched
    /// has an empty one. `status` and `history` read this way, so a role that may only
    /// read (the application's own) can look.
    pub(super) async fn read_history<C: Connection>(&self, conn: &mut C) -> Result<Vec<Applied>, MigrateError> {
        let failure = match conn.applied().await {
            Ok(rows) => return Ok(rows),
            Err(e) => e,
        };
        let exists = match conn.dialect() {
            Dialect::Postgres => "SELECT CAST(to_regclass('_chakra_migrations') IS NOT NULL AS text)",
            Dialect::MySql => "SELECT CAST(COUNT(*) > 0 AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '_chakra_migrations'",
            Dialect::Sqlite => "SELECT CAST(COUNT(*) > 0 AS TEXT) FROM sqlite_master WHERE type = 'table' AND name = '_chakra_migrations'",
        };
        let answer = conn.query_text(exists).await.map_err(MigrateError::db("looking for the history table"))?;
        match answer.first().map(String::as_str) {
            Some("false" | "0") => Ok(Vec::new()),
            _ => Err(MigrateError::db("reading the history table")(failure)),
        }
    }

    /// What `apply` needs of the history, creating its table on first use. The table is
    /// read first and created only if that fails, which saves a boot with nothing to do a
    /// statement.
    pub(super) async fn prepare_summary<C: Connection>(&self, conn: &mut C) -> Result<history::Summary, MigrateError> {
        if let Ok(summary) = conn.applied_summary().await {
            return Ok(summary);
        }
        self.ensure_history(conn).await?;
        conn.applied_summary().await.map_err(MigrateError::db("reading the history table"))
    }

    /// What a rollback needs of the history, creating its table on first use.
    pub(super) async fn prepare_brief<C: Connection>(&self, conn: &mut C) -> Result<Vec<Applied>, MigrateError> {
        if let Ok(rows) = conn.applied_brief().await {
            return Ok(rows);
        }
        self.ensure_history(conn).await?;
        conn.applied_brief().await.map_err(MigrateError::db("reading the history table"))
    }

    pub(super) async fn ensure_history<C: Connection>(&self, conn: &mut C) -> Result<(), MigrateError> {
        conn.execute(&history::create_sql(conn.dialect())).await.map_err(MigrateError::db("creating the history table"))
    }

    /// Where each migration stands, embedded ones in order, then applied ones this
    /// binary does not know.
    ///
    /// ```
    /// # use migrations_runtime::{schema::*, EmbeddedMigration, Migrations, Migrator};
    /// # fn up(m: &mut Migration) {
    /// #     m.create_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # fn down(m: &mut Migration) {
    /// #     m.delete_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # static MIGRATIONS: Migrations = Migrations {
    /// #     app: "notes",
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_runtime::State;
    ///
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// let migrator = Migrator::new(&MIGRATIONS);
    /// assert_eq!(migrator.status(&mut conn).await?[0].state, State::Pending);
    /// migrator.apply(&mut conn).await?;
    /// assert!(matches!(migrator.status(&mut conn).await?[0].state, State::Applied(_)));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status<C: Connection>(&self, conn: &mut C) -> Result<Vec<StatusLine>, MigrateError> {
        let applied = self.read_history(conn).await?;
        let plan = self.plan_of_rows(&applied)?;
        let by_key: BTreeMap<(String, String), &Applied> =
            applied.iter().map(|r| ((r.app.clone(), r.id.clone()), r)).collect();
        let mut lines: Vec<StatusLine> = plan
            .iter()
            .map(|p| {
                let state = match by_key.get(&(p.app.to_string(), p.migration.id.to_string())) {
                    // A squash the database has through the migrations it replaces.
                    None if p.by_members => State::Applied(
                        applied
                            .iter()
                            .filter(|r| r.app == p.app && p.migration.replaces.contains(&r.id.as_str()))
                            .map(|r| r.applied_at.clone())
                            .max()
                            .unwrap_or_default(),
                    ),
                    None => State::Pending,
                    Some(r) if r.steps_done.is_some() => State::Interrupted(r.steps_done.unwrap_or_default()),
                    Some(r) if !p.migration.matches(&r.checksum) => State::Changed(r.applied_at.clone()),
                    Some(r) => State::Applied(r.applied_at.clone()),
                };
                StatusLine { app: p.app.into(), id: p.migration.id.into(), state, draft: p.migration.draft }
            })
            .collect();
        for r in &applied {
            let known = plan.iter().any(|p| p.app == r.app && p.migration.id == r.id)
                || Migrator::replaced_in(&plan, &r.app, &r.id);
            if !known {
                lines.push(StatusLine {
                    app: r.app.clone(),
                    id: r.id.clone(),
                    state: State::Unknown(r.applied_at.clone()),
                    draft: false,
                });
            }
        }
        Ok(lines)
    }

    /// The history table, in the order migrations were applied.
    ///
    /// ```
    /// # use migrations_runtime::{schema::*, EmbeddedMigration, Migrations, Migrator};
    /// # fn up(m: &mut Migration) {
    /// #     m.create_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # fn down(m: &mut Migration) {
    /// #     m.delete_model(Table::new("notes").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]));
    /// # }
    /// # static MIGRATIONS: Migrations = Migrations {
    /// #     app: "notes",
    /// #     migrations: &[EmbeddedMigration { id: "0001_initial", dependencies: &[], replaces: &[], checksum: "", draft: false, up, down }],
    /// #     snapshot: "",
    /// # };
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut conn = migrations_runtime::AnyConnection::connect("sqlite::memory:").await?;
    /// let migrator = Migrator::new(&MIGRATIONS);
    /// migrator.apply(&mut conn).await?;
    /// let history = migrator.history(&mut conn).await?;
    /// assert_eq!((history[0].id.as_str(), history[0].batch), ("0001_initial", 1));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn history<C: Connection>(&self, conn: &mut C) -> Result<Vec<Applied>, MigrateError> {
        self.read_history(conn).await
    }

    /// `migrate resolve ID --rolled-back` (MySQL recovery): forgets an interrupted
    /// migration after its statements were undone by hand. A note says so in the history.
    pub async fn resolve_rolled_back<C: Connection>(&self, conn: &mut C, id: &str) -> Result<(), MigrateError> {
        let applied = self.read_history(conn).await?;
        let row = applied
            .iter()
            .find(|r| r.id == id || format!("{}/{}", r.app, r.id) == id)
            .ok_or_else(|| MigrateError::Usage(format!("`{id}` is not in the history table")))?;
        conn.delete_applied(&row.app, &row.id).await.map_err(MigrateError::db("removing the history row"))?;
        add_note(conn, &row.app, &row.id, "undone by hand and forgotten (`migrate resolve --rolled-back`)").await
    }

    /// `migrate resolve ID --accept-checksum`: a deliberate change to an applied
    /// migration's file (one that changes what it does, so its checksum no longer
    /// matches) is accepted: the history records the binary's checksum, and a note keeps
    /// the one it replaced. Returns the old and the new checksum.
    pub async fn accept_checksum<C: Connection>(
        &self,
        conn: &mut C,
        id: &str,
    ) -> Result<(String, String), MigrateError> {
        let plan = self.plan()?;
        let i = self.find(&plan, id)?;
        let p = plan[i];
        let applied = self.read_history(conn).await?;
        let row = applied.iter().find(|r| r.app == p.app && r.id == p.migration.id).ok_or_else(|| {
            MigrateError::Usage(format!("`{}` is not applied: there is no checksum to accept", p.key()))
        })?;
        let new = p.migration.recorded_checksum().to_string();
        conn.update_checksum(p.app, p.migration.id, &new).await.map_err(MigrateError::db("recording the checksum"))?;
        let note = format!("checksum accepted (`migrate resolve --accept-checksum`): was {}, now {new}", row.checksum);
        add_note(conn, p.app, p.migration.id, &note).await?;
        Ok((row.checksum.clone(), new))
    }

    /// The notes the history keeps of what people resolved by hand, oldest first (none
    /// when nothing was ever resolved). Reads only.
    pub async fn notes<C: Connection>(&self, conn: &mut C) -> Result<Vec<String>, MigrateError> {
        let d = conn.dialect();
        let text = if d == Dialect::MySql { "CHAR" } else { "TEXT" };
        let concat = if d == Dialect::Sqlite {
            "at || '  ' || app || '/' || id || ': ' || note".to_string()
        } else {
            "CONCAT(at, '  ', app, '/', id, ': ', note)".to_string()
        };
        let sql = format!("SELECT CAST({concat} AS {text}) FROM {} ORDER BY at", d.quote(NOTES_TABLE));
        match conn.query_text(&sql).await {
            Ok(notes) => Ok(notes),
            // No notes table: nothing was ever resolved.
            Err(_) => Ok(Vec::new()),
        }
    }
}

/// The table of notes on the history (what people resolved by hand).
pub const NOTES_TABLE: &str = "_chakra_notes";

/// Adds a note on migration `app/id` to the history's notes, creating their table on first
/// use.
async fn add_note<C: Connection>(conn: &mut C, app: &str, id: &str, note: &str) -> Result<(), MigrateError> {
    let d = conn.dialect();
    let q = |s: &str| d.quote(s);
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {} ({} VARCHAR(100) NOT NULL, {} VARCHAR(200) NOT NULL, {} VARCHAR(40) NOT NULL, {} TEXT NOT NULL)",
        q(NOTES_TABLE),
        q("app"),
        q("id"),
        q("at"),
        q("note")
    );
    conn.execute(&create).await.map_err(MigrateError::db("creating the notes table"))?;
    let literal = |s: &str| quote_str(d, s);
    let insert = format!(
        "INSERT INTO {} ({}, {}, {}, {}) VALUES ({}, {}, {}, {})",
        q(NOTES_TABLE),
        q("app"),
        q("id"),
        q("at"),
        q("note"),
        literal(app),
        literal(id),
        literal(&crate::history::now()),
        literal(note)
    );
    conn.execute(&insert).await.map_err(MigrateError::db("writing a note in the history"))
}
