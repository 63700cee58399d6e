//! The objects hand-written SQL manages: what a migration's `CREATE VIEW`, `CREATE
//! TRIGGER`, `CREATE INDEX` or `ALTER TABLE ... ADD CONSTRAINT` creates, and what a later
//! `DROP` removes, by kind and name. `migrate verify` reports one of them missing from
//! the database, and does not call one it finds undeclared.

use std::collections::BTreeSet;

/// An object as hand-written SQL and the catalog both name it: its kind (`view`,
/// `materialized view`, `trigger`, `function`, `type`, `extension`, `sequence`, `index`,
/// or `constraint` for every kind of constraint) and its bare name (no quotes, no
/// schema, no argument list).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawName {
    /// The kind.
    pub kind: &'static str,
    /// The bare name.
    pub name: String,
}

impl RawName {
    /// `kind` (as [`super::Drift`] or the introspection says it) and `name`, normalised.
    pub fn new(kind: &str, name: &str) -> RawName {
        let kind = match kind {
            "foreign key" | "unique" | "check" | "primary key" | "constraint" => "constraint",
            "index" => "index",
            "view" => "view",
            "materialized view" => "materialized view",
            "trigger" => "trigger",
            "function" | "procedure" => "function",
            "type" | "domain" => "type",
            "extension" => "extension",
            "sequence" => "sequence",
            _ => "object",
        };
        RawName { kind, name: bare(name) }
    }
}

/// `name` without quotes, schema or argument list: `public."touch"(integer)` → `touch`.
fn bare(name: &str) -> String {
    let name = name.split('(').next().unwrap_or(name).trim();
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']').to_string()
}

/// What one hand-written statement does to a named object, judged by its leading words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawChange {
    /// It creates the object.
    Creates(RawName),
    /// It drops the object.
    Drops(RawName),
}

/// The object `sql` creates or drops, if it is one of the statements the module speaks of.
///
/// ```
/// use migrations_core::catalog::{raw_change, RawChange, RawName};
///
/// let sql = "CREATE OR REPLACE FUNCTION public.touch() RETURNS trigger AS $$ ... $$";
/// assert_eq!(raw_change(sql), Some(RawChange::Creates(RawName::new("function", "touch"))));
/// let sql = "ALTER TABLE \"tasks\" DROP CONSTRAINT \"tasks_project_fk\"";
/// assert_eq!(raw_change(sql), Some(RawChange::Drops(RawName::new("constraint", "tasks_project_fk"))));
/// ```
pub fn raw_change(sql: &str) -> Option<RawChange> {
    let words: Vec<&str> = sql.split_whitespace().take(12).collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let is = |i: usize, w: &str| upper.get(i).is_some_and(|u| u == w);
    // The name after the kind's words, past IF [NOT] EXISTS and CONCURRENTLY.
    let name_from = |mut i: usize| -> Option<String> {
        while let Some(w) = upper.get(i) {
            match w.as_str() {
                "IF" | "NOT" | "EXISTS" | "CONCURRENTLY" => i += 1,
                _ => break,
            }
        }
        words.get(i).map(|w| w.split('(').next().unwrap_or(w).to_string()).filter(|w| !w.is_empty())
    };
    if is(0, "ALTER") && is(1, "TABLE") {
        // ALTER TABLE t ADD|DROP CONSTRAINT name; MySQL's ADD [UNIQUE] KEY|INDEX name,
        // DROP KEY|INDEX name and DROP FOREIGN KEY name.
        let at = upper.iter().position(|w| w == "ADD" || w == "DROP")?;
        let mut i = at + 1;
        while upper.get(i).is_some_and(|w| matches!(w.as_str(), "UNIQUE" | "FULLTEXT" | "SPATIAL")) {
            i += 1;
        }
        let (kind, name_at) = match upper.get(i).map(String::as_str)? {
            "CONSTRAINT" => ("constraint", i + 1),
            "FOREIGN" if is(i + 1, "KEY") => ("constraint", i + 2),
            "KEY" | "INDEX" => ("index", i + 1),
            _ => return None,
        };
        let named = RawName::new(kind, &name_from(name_at)?);
        return Some(if upper[at] == "ADD" { RawChange::Creates(named) } else { RawChange::Drops(named) });
    }
    let creates = is(0, "CREATE");
    if !creates && !is(0, "DROP") {
        return None;
    }
    let mut i = 1;
    if is(i, "OR") && is(i + 1, "REPLACE") {
        i += 2;
    }
    for skip in ["UNIQUE", "CONSTRAINT", "TEMPORARY", "TEMP", "RECURSIVE"] {
        if is(i, skip) {
            i += 1;
        }
    }
    let (kind, words_of_kind) = match upper.get(i).map(String::as_str)? {
        "MATERIALIZED" if is(i + 1, "VIEW") => ("materialized view", 2),
        "VIEW" => ("view", 1),
        "TRIGGER" => ("trigger", 1),
        "FUNCTION" | "PROCEDURE" => ("function", 1),
        "TYPE" | "DOMAIN" => ("type", 1),
        "EXTENSION" => ("extension", 1),
        "SEQUENCE" => ("sequence", 1),
        "INDEX" => ("index", 1),
        _ => return None,
    };
    let name = name_from(i + words_of_kind)?;
    let named = RawName::new(kind, &name);
    Some(if creates { RawChange::Creates(named) } else { RawChange::Drops(named) })
}

/// The objects a sequence of hand-written statements leaves in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed(BTreeSet<RawName>);

impl Managed {
    /// Takes `sql` into account, in the order the statements run.
    pub fn note(&mut self, sql: &str) {
        match raw_change(sql) {
            Some(RawChange::Creates(n)) => {
                self.0.insert(n);
            }
            Some(RawChange::Drops(n)) => {
                self.0.remove(&n);
            }
            None => {}
        }
    }

    /// Takes into account what an operation other than hand-written SQL creates or drops
    /// by name outside the tables (a view; an object of `m.create_raw` that exists on
    /// `dialect`).
    pub fn note_operation(&mut self, op: &crate::Operation, dialect: crate::Dialect) {
        match op {
            crate::Operation::CreateView { view } => {
                self.0.insert(RawName::new(view.kind(), &view.name));
            }
            crate::Operation::DropView { view } => {
                self.0.remove(&RawName::new(view.kind(), &view.name));
            }
            crate::Operation::CreateRaw { object } if object.is_on(dialect) => {
                self.0.insert(RawName::new(&object.kind, &object.name));
            }
            crate::Operation::DropRaw { object } => {
                self.0.remove(&RawName::new(&object.kind, &object.name));
            }
            _ => {}
        }
    }

    /// Whether an object of `kind` named `name` is managed.
    pub fn contains(&self, kind: &str, name: &str) -> bool {
        self.0.contains(&RawName::new(kind, name))
    }

    /// Every managed object.
    pub fn iter(&self) -> impl Iterator<Item = &RawName> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creates(sql: &str) -> (&'static str, String) {
        match raw_change(sql) {
            Some(RawChange::Creates(n)) => (n.kind, n.name),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn the_statements_of_an_adopted_schema_name_what_they_create() {
        assert_eq!(
            creates("CREATE UNIQUE INDEX users_email_lower ON users (lower(email))"),
            ("index", "users_email_lower".into())
        );
        assert_eq!(creates("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"ix\" ON t (a)"), ("index", "ix".into()));
        assert_eq!(
            creates("CREATE MATERIALIZED VIEW task_counts AS\n SELECT 1"),
            ("materialized view", "task_counts".into())
        );
        assert_eq!(creates("CREATE OR REPLACE VIEW open_tasks AS SELECT 1"), ("view", "open_tasks".into()));
        assert_eq!(
            creates("CREATE TRIGGER users_touch BEFORE UPDATE ON public.users"),
            ("trigger", "users_touch".into())
        );
        assert_eq!(creates("CREATE TYPE mood AS ENUM ('a')"), ("type", "mood".into()));
        assert_eq!(creates("CREATE DOMAIN positive AS integer"), ("type", "positive".into()));
        assert_eq!(creates("CREATE EXTENSION IF NOT EXISTS citext"), ("extension", "citext".into()));
        assert_eq!(
            creates("ALTER TABLE audit_log ADD CONSTRAINT audit_actor_fk FOREIGN KEY (a) REFERENCES users (id)"),
            ("constraint", "audit_actor_fk".into())
        );
        assert_eq!(
            creates("ALTER TABLE `comments` ADD KEY `comments_task_created` (`task_id`,`created_at` DESC)"),
            ("index", "comments_task_created".into())
        );
        assert_eq!(creates("ALTER TABLE `t` ADD UNIQUE INDEX `u` (`a`)"), ("index", "u".into()));
        assert_eq!(raw_change("ALTER TABLE `t` DROP INDEX `u`"), Some(RawChange::Drops(RawName::new("index", "u"))));
        assert_eq!(
            raw_change("ALTER TABLE `t` DROP FOREIGN KEY `fk`"),
            Some(RawChange::Drops(RawName::new("constraint", "fk")))
        );
        assert_eq!(raw_change("UPDATE users SET a = 1"), None);
        assert_eq!(raw_change("CREATE TABLE x (a int)"), None);
    }

    #[test]
    fn a_later_drop_forgets_what_was_created() {
        let mut m = Managed::default();
        m.note("CREATE VIEW v AS SELECT 1");
        m.note("CREATE FUNCTION f(a integer) RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql");
        assert!(m.contains("view", "v") && m.contains("function", "f(integer)"));
        m.note("DROP VIEW IF EXISTS \"v\"");
        assert!(!m.contains("view", "v"));
        assert!(m.contains("function", "public.f"));
    }
}
