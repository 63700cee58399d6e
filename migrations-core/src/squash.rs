//! Squashing: the operations of a run of migrations, rewritten as fewer that build the
//! same schema and keep the same rows. A table created and later altered is created in
//! its final shape; created and dropped, it is nothing; renamed, it is renamed once.
//!
//! Hand-written SQL (`RunSql`) stays where it was: the operations between two of them
//! (a *segment*) are rewritten on their own, so the SQL meets the schema it was written
//! for. Each segment is rewritten by the autodetector itself — the difference between the
//! schema before and after it, told the renames and one-off fills its operations made —
//! and the result is kept only when it provably does what the segment did: it replays to
//! the same schema, and drops exactly the tables and columns (of those that existed
//! before it) that the segment dropped. Otherwise the segment stays as written.

use std::collections::{BTreeMap, BTreeSet};

use crate::apply::ApplyError;
use crate::diff::{diff, Intent};
use crate::operation::Operation;
use crate::schema::{DefaultValue, Schema};

/// What [`squash`] made of a run of operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashed {
    /// The operations, in order.
    pub operations: Vec<Operation>,
    /// The schema they leave.
    pub schema: Schema,
    /// How many segments (runs of operations between hand-written SQL) could not be
    /// rewritten and stay as written.
    pub kept_as_written: usize,
}

/// Squashes `ops`, which apply to `start` in this order.
///
/// ```
/// use migrations_core::builder::Migration;
/// use migrations_core::schema::{Column, ColumnType, Table};
/// use migrations_core::squash::squash;
/// use migrations_core::Schema;
///
/// let mut m = Migration::new();
/// m.create_model(Table::new("posts").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"]))
///     .add_field("posts", Column::new("title", ColumnType::Text).nullable())
///     .rename_field("posts", "title", "headline");
/// let squashed = squash(&Schema::new(), m.operations()).unwrap();
/// assert_eq!(squashed.operations.len(), 1);
/// assert_eq!(squashed.schema.table("posts").unwrap().columns[1].name, "headline");
/// ```
pub fn squash(start: &Schema, ops: &[Operation]) -> Result<Squashed, ApplyError> {
    let mut out = Vec::with_capacity(ops.len());
    let mut schema = start.clone();
    let mut kept_as_written = 0;
    // Hand-written SQL and views (which the autodetector never writes) stay in place.
    let as_written = |op: &Operation| {
        op.is_hand_written() || matches!(op, Operation::CreateView { .. } | Operation::DropView { .. })
    };
    for segment in ops.split_inclusive(as_written) {
        let (plain, sql) = match segment.split_last() {
            Some((last, rest)) if as_written(last) => (rest, Some(last)),
            _ => (segment, None),
        };
        let (rewritten, after) = rewrite(&schema, plain)?;
        match rewritten {
            Some(rewritten) => out.extend(rewritten),
            None => {
                kept_as_written += 1;
                out.extend_from_slice(plain);
            }
        }
        schema = after;
        if let Some(sql) = sql {
            schema.apply(sql)?;
            out.push(sql.clone());
        }
    }
    Ok(Squashed { operations: out, schema, kept_as_written })
}

/// One segment: its rewriting (`None` when it must stay as written), and the schema it
/// leaves.
fn rewrite(start: &Schema, ops: &[Operation]) -> Result<(Option<Vec<Operation>>, Schema), ApplyError> {
    let mut end = start.clone();
    let mut trace = Trace::new(start);
    for op in ops {
        trace.note(op);
        end.apply(op)?;
    }
    if ops.len() < 2 || trace.unsure {
        return Ok((None, end));
    }
    let Ok(found) = diff(start, &end, &trace.intent()) else { return Ok((None, end)) };
    let mut replayed = start.clone();
    if replayed.apply_all(&found.operations).is_err() || replayed != end || found.operations.len() > ops.len() {
        return Ok((None, end));
    }
    let mut check = Trace::new(start);
    found.operations.iter().for_each(|op| check.note(op));
    if check.dropped != trace.dropped || check.unsure {
        return Ok((None, end));
    }
    Ok((Some(found.operations), end))
}

/// What a run of operations does to the tables and columns that were there before it:
/// where each went (renames), which were dropped, and what value the rows that were
/// there got in a column added or made NOT NULL.
struct Trace {
    /// A table that existed at the start, by its name now → its name then.
    tables: BTreeMap<String, String>,
    /// A column of such a table that existed at the start, by (table, column) now → its
    /// name then.
    columns: BTreeMap<(String, String), String>,
    /// The tables (column `None`) and columns that existed at the start and were
    /// dropped, by their names then.
    dropped: BTreeSet<(String, Option<String>)>,
    /// (table, column) now → the one-off value the rows that existed got.
    fills: BTreeMap<(String, String), DefaultValue>,
    /// Columns added to a table that existed at the start, by (table, column) now.
    added: BTreeSet<(String, String)>,
    /// Something the rewriting could change the rows of (a column added to a table
    /// with rows, then altered): the segment stays as written.
    unsure: bool,
    /// (enumerated type, value now) → the value at the start, for values renamed.
    enum_values: BTreeMap<(String, String), String>,
    /// Enumerated type now → its name at the start, for types renamed.
    enum_names: BTreeMap<String, String>,
}

impl Trace {
    fn new(start: &Schema) -> Trace {
        Trace {
            tables: start.tables.keys().map(|t| (t.clone(), t.clone())).collect(),
            columns: start
                .tables
                .values()
                .flat_map(|t| t.columns.iter().map(move |c| ((t.name.clone(), c.name.clone()), c.name.clone())))
                .collect(),
            dropped: BTreeSet::new(),
            fills: BTreeMap::new(),
            added: BTreeSet::new(),
            unsure: false,
            enum_values: BTreeMap::new(),
            enum_names: BTreeMap::new(),
        }
    }

    fn note(&mut self, op: &Operation) {
        match op {
            Operation::DeleteModel { table } => {
                if let Some(then) = self.tables.remove(&table.name) {
                    self.dropped.insert((then, None));
                }
                let of_table = |key: &(String, String)| key.0 != table.name;
                self.columns.retain(|k, _| of_table(k));
                self.fills.retain(|k, _| of_table(k));
                self.added.retain(of_table);
            }
            Operation::RenameModel { old, new } => {
                if let Some(then) = self.tables.remove(old) {
                    self.tables.insert(new.clone(), then);
                }
                let moved = |key: (String, String)| if key.0 == *old { (new.clone(), key.1) } else { key };
                self.columns = std::mem::take(&mut self.columns).into_iter().map(|(k, v)| (moved(k), v)).collect();
                self.fills = std::mem::take(&mut self.fills).into_iter().map(|(k, v)| (moved(k), v)).collect();
                self.added = std::mem::take(&mut self.added).into_iter().map(moved).collect();
            }
            Operation::AddField { table, column, fill } if self.tables.contains_key(table) => {
                let key = (table.clone(), column.name.clone());
                if let Some(value) = fill.clone().or_else(|| column.default.clone()) {
                    self.fills.insert(key.clone(), value);
                }
                self.added.insert(key);
            }
            Operation::RemoveField { table, column } => {
                let key = (table.clone(), column.name.clone());
                if let Some(then) = self.columns.remove(&key) {
                    self.dropped.insert((self.tables[table].clone(), Some(then)));
                }
                self.fills.remove(&key);
                self.added.remove(&key);
            }
            Operation::AlterField { table, new, fill, .. } if self.tables.contains_key(table) => {
                let key = (table.clone(), new.name.clone());
                self.unsure |= self.added.contains(&key);
                if let Some(value) = fill {
                    self.fills.insert(key, value.clone());
                }
            }
            Operation::AlterEnum { name, renamed, .. } => {
                // (All looked up before any is written: two values may swap names.)
                let thens: Vec<(String, String)> = renamed
                    .iter()
                    .map(|(old, new)| {
                        let then = self.enum_values.remove(&(name.clone(), old.clone())).unwrap_or_else(|| old.clone());
                        (new.clone(), then)
                    })
                    .collect();
                for (new, then) in thens {
                    self.enum_values.insert((name.clone(), new), then);
                }
            }
            Operation::RenameEnum { old, new } => {
                let then = self.enum_names.remove(old).unwrap_or_else(|| old.clone());
                self.enum_names.insert(new.clone(), then);
                let moved =
                    |(name, value): (String, String)| if name == *old { (new.clone(), value) } else { (name, value) };
                self.enum_values =
                    std::mem::take(&mut self.enum_values).into_iter().map(|(k, v)| (moved(k), v)).collect();
            }
            Operation::RenameField { table, old, new } => {
                let from = (table.clone(), old.clone());
                let to = (table.clone(), new.clone());
                if let Some(then) = self.columns.remove(&from) {
                    self.columns.insert(to.clone(), then);
                }
                if let Some(value) = self.fills.remove(&from) {
                    self.fills.insert(to.clone(), value);
                }
                if self.added.remove(&from) {
                    self.added.insert(to);
                }
            }
            _ => {}
        }
    }

    /// The renames and fills, as the autodetector takes them from models.
    fn intent(&self) -> Intent {
        Intent {
            table_renames: self
                .tables
                .iter()
                .filter(|(now, then)| now != then)
                .map(|(n, t)| (n.clone(), t.clone()))
                .collect(),
            column_renames: self
                .columns
                .iter()
                .filter(|((_, now), then)| now != *then)
                .map(|(k, then)| (k.clone(), then.clone()))
                .collect(),
            backfills: self.fills.clone(),
            enum_value_renames: self
                .enum_values
                .iter()
                .filter(|((_, now), then)| now != *then)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            enum_renames: self
                .enum_names
                .iter()
                .filter(|(now, then)| now != then)
                .map(|(n, t)| (n.clone(), t.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::Migration;
    use crate::schema::{Column, ColumnType, Table};

    fn posts() -> Table {
        Table::new("posts").field(Column::new("id", ColumnType::BigInt)).primary_key(&["id"])
    }

    fn squashed(start: &Schema, build: impl FnOnce(&mut Migration)) -> Squashed {
        let mut m = Migration::new();
        build(&mut m);
        m.resolve(start).unwrap();
        let out = squash(start, m.operations()).unwrap();
        let mut end = start.clone();
        end.apply_all(m.operations()).unwrap();
        assert_eq!(out.schema, end);
        let mut replayed = start.clone();
        replayed.apply_all(&out.operations).unwrap();
        assert_eq!(replayed, end, "the squashed operations build the same schema");
        out
    }

    #[test]
    fn a_table_created_then_altered_is_created_in_its_final_shape() {
        let out = squashed(&Schema::new(), |m| {
            m.create_model(posts())
                .add_field("posts", Column::new("title", ColumnType::Varchar(10)))
                .alter_field(
                    "posts",
                    Column::new("title", ColumnType::Varchar(10)),
                    Column::new("title", ColumnType::Text),
                )
                .rename_model("posts", "articles");
        });
        assert_eq!(out.operations.len(), 1, "{:?}", out.operations);
        assert!(matches!(&out.operations[0], Operation::CreateModel { table } if table.name == "articles"));
    }

    #[test]
    fn a_table_created_and_dropped_is_nothing() {
        let out = squashed(&Schema::new(), |m| {
            m.create_model(posts()).delete_model("posts");
        });
        assert!(out.operations.is_empty(), "{:?}", out.operations);
    }

    #[test]
    fn renames_of_existing_tables_and_columns_stay_renames() {
        let mut start = Schema::new();
        start.apply(&Operation::CreateModel { table: posts().field(Column::new("body", ColumnType::Text)) }).unwrap();
        let out = squashed(&start, |m| {
            m.rename_field("posts", "body", "text")
                .rename_model("posts", "articles")
                .rename_field("articles", "text", "content");
        });
        assert_eq!(out.operations.len(), 2, "{:?}", out.operations);
        assert!(out.operations.iter().all(|op| !op.is_destructive()), "{:?}", out.operations);
    }

    #[test]
    fn hand_written_sql_stays_between_the_segments_around_it() {
        let out = squashed(&Schema::new(), |m| {
            m.create_model(posts())
                .add_field("posts", Column::new("views", ColumnType::Integer).nullable())
                .run_sql("UPDATE posts SET views = 0", None)
                .add_field("posts", Column::new("likes", ColumnType::Integer).nullable())
                .rename_field("posts", "likes", "stars");
        });
        let kinds: Vec<&str> = out
            .operations
            .iter()
            .map(|op| match op {
                Operation::CreateModel { .. } => "create",
                Operation::RunSql(_) => "sql",
                Operation::AddField { column, .. } if column.name == "stars" => "add stars",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["create", "sql", "add stars"]);
    }

    #[test]
    fn a_column_added_to_a_table_with_rows_then_altered_stays_as_written() {
        let mut start = Schema::new();
        start.apply(&Operation::CreateModel { table: posts() }).unwrap();
        let out = squashed(&start, |m| {
            let zero = Column::new("views", ColumnType::Integer).default(DefaultValue::num("0"));
            m.add_field("posts", zero.clone()).alter_field(
                "posts",
                zero,
                Column::new("views", ColumnType::Integer).default(DefaultValue::num("5")),
            );
        });
        // Squashed to one AddField, the rows there would get 5, not the 0 they got.
        assert_eq!(out.kept_as_written, 1);
        assert_eq!(out.operations.len(), 2);
    }

    #[test]
    fn a_not_null_column_added_with_a_fill_keeps_the_fill() {
        let mut start = Schema::new();
        start.apply(&Operation::CreateModel { table: posts() }).unwrap();
        let out = squashed(&start, |m| {
            m.add_field_filled("posts", Column::new("rank", ColumnType::Integer), DefaultValue::num("3"))
                .rename_field("posts", "rank", "position");
        });
        assert_eq!(
            out.operations,
            [Operation::AddField {
                table: "posts".into(),
                column: Column::new("position", ColumnType::Integer),
                fill: Some(DefaultValue::num("3")),
            }]
        );
    }
}
