//! Views: named queries over tables, which migrations create and drop by name
//! (`m.create_view(...)`), kept in the snapshot beside the tables they read.

/// A view (or a PostgreSQL materialized view) and the tables it reads.
///
/// A database binds a view to the columns it reads: PostgreSQL refuses to change their
/// type under it, and SQLite's table rebuild (a new table renamed into place) fails
/// while a view names the old one. So the tables a view reads are said, and a change
/// that needs it drops the view before and creates it again after (the runtime and the
/// SQL it shows do that); a change that would leave the view reading what is no longer
/// there (a dropped or renamed table or column) is refused until the view is dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct View {
    /// The view's name (one namespace with the tables).
    pub name: String,
    /// The query, as SQL (`SELECT ...`), for every database the crate targets.
    pub sql: String,
    /// The tables the query reads.
    pub reads: Vec<String>,
    /// A PostgreSQL materialized view: the rows are stored, and refreshed on demand.
    #[serde(default)]
    pub materialized: bool,
}

impl View {
    /// A view `name` of `sql`, reading no table yet (see [`View::reads`]).
    pub fn new(name: &str, sql: &str) -> Self {
        View { name: name.into(), sql: sql.trim().into(), ..View::default() }
    }

    /// The view reading `tables`.
    pub fn reads(mut self, tables: &[&str]) -> Self {
        self.reads = tables.iter().map(|t| t.to_string()).collect();
        self
    }

    /// The view made a materialized one (PostgreSQL).
    pub fn materialized(mut self) -> Self {
        self.materialized = true;
        self
    }

    /// `view` or `materialized view`, as SQL and messages say it.
    pub fn kind(&self) -> &'static str {
        if self.materialized {
            "materialized view"
        } else {
            "view"
        }
    }
}
