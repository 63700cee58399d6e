//! The small builder API generated migration modules are written in. A migration's
//! `up` and `down` functions each receive a [`Migration`] and call one method per
//! operation; the runtime then renders and applies what they recorded.
//!
//! ```
//! use migrations_core::builder::*;
//!
//! fn up(m: &mut Migration) {
//!     m.add_field("users", Column::new("email", ColumnType::Varchar(255)).nullable());
//!     m.create_index("users", Index::new("ix_users_email", &["email"]));
//! }
//!
//! let mut m = Migration::new();
//! up(&mut m);
//! assert_eq!(m.operations().len(), 2);
//! ```

pub use crate::operation::{Operation, RunSql};
pub use crate::schema::{
    Check, Column, ColumnType, Constraint, DefaultValue, FkAction, ForeignKey, Index, Table, Unique,
};

/// The operations of one direction of one migration, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    operations: Vec<Operation>,
}

/// Names as owned strings. The builder takes `&[&str]`, not generic iterators: a
/// thousand generated migrations would otherwise monomorphise a copy per array length.
fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Migration {
    /// An empty migration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The recorded operations.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Takes the recorded operations.
    pub fn into_operations(self) -> Vec<Operation> {
        self.operations
    }

    /// Records any operation.
    pub fn push(&mut self, op: Operation) -> &mut Self {
        self.operations.push(op);
        self
    }

    /// `CREATE TABLE`.
    pub fn create_model(&mut self, table: Table) -> &mut Self {
        self.push(Operation::CreateModel { table })
    }

    /// `DROP TABLE`; `table` is the table as it was, so the step can be reversed.
    pub fn delete_model(&mut self, table: Table) -> &mut Self {
        self.push(Operation::DeleteModel { table })
    }

    /// Renames a table.
    pub fn rename_model(&mut self, old: &str, new: &str) -> &mut Self {
        self.push(Operation::RenameModel { old: old.into(), new: new.into() })
    }

    /// Changes a table comment.
    pub fn alter_model_comment(&mut self, table: &str, old: Option<&str>, new: Option<&str>) -> &mut Self {
        self.push(Operation::AlterModelComment {
            table: table.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
        })
    }

    /// Adds a column.
    pub fn add_field(&mut self, table: &str, column: Column) -> &mut Self {
        self.push(Operation::AddField { table: table.into(), column, fill: None })
    }

    /// Adds a NOT NULL column, filling existing rows once with `fill` (not kept as a default).
    pub fn add_field_filled(&mut self, table: &str, column: Column, fill: DefaultValue) -> &mut Self {
        self.push(Operation::AddField { table: table.into(), column, fill: Some(fill) })
    }

    /// Drops a column; `column` is the column as it was.
    pub fn remove_field(&mut self, table: &str, column: Column) -> &mut Self {
        self.push(Operation::RemoveField { table: table.into(), column })
    }

    /// Changes a column's type, nullability, default or comment.
    pub fn alter_field(&mut self, table: &str, old: Column, new: Column) -> &mut Self {
        self.push(Operation::AlterField { table: table.into(), old, new, fill: None })
    }

    /// Makes a column NOT NULL, filling existing NULLs with `fill` first.
    pub fn alter_field_filled(&mut self, table: &str, old: Column, new: Column, fill: DefaultValue) -> &mut Self {
        self.push(Operation::AlterField { table: table.into(), old, new, fill: Some(fill) })
    }

    /// Renames a column.
    pub fn rename_field(&mut self, table: &str, old: &str, new: &str) -> &mut Self {
        self.push(Operation::RenameField { table: table.into(), old: old.into(), new: new.into() })
    }

    /// Creates an index.
    pub fn create_index(&mut self, table: &str, index: Index) -> &mut Self {
        self.push(Operation::CreateIndex { table: table.into(), index })
    }

    /// Drops an index; `index` is the index as it was.
    pub fn drop_index(&mut self, table: &str, index: Index) -> &mut Self {
        self.push(Operation::DropIndex { table: table.into(), index })
    }

    /// Renames an index.
    pub fn rename_index(&mut self, table: &str, old: &str, new: &str) -> &mut Self {
        self.push(Operation::RenameIndex { table: table.into(), old: old.into(), new: new.into() })
    }

    /// Adds a unique, check or foreign-key constraint.
    pub fn add_constraint(&mut self, table: &str, constraint: impl Into<Constraint>) -> &mut Self {
        self.push(Operation::AddConstraint { table: table.into(), constraint: constraint.into() })
    }

    /// Removes a constraint; `constraint` is the constraint as it was.
    pub fn remove_constraint(&mut self, table: &str, constraint: impl Into<Constraint>) -> &mut Self {
        self.push(Operation::RemoveConstraint { table: table.into(), constraint: constraint.into() })
    }

    /// Marks this direction as impossible: rolling back through it is refused.
    pub fn irreversible(&mut self) -> &mut Self {
        self.push(Operation::RunSql(RunSql { forward: Vec::new(), reverse: None, ..RunSql::default() }))
    }

    /// Runs SQL on one dialect only (nothing on the others): for what each database
    /// spells its own way. Call it once per dialect. `reverse: None` makes the step
    /// irreversible.
    ///
    /// ```
    /// use migrations_core::builder::Migration;
    /// use migrations_core::render::render;
    /// use migrations_core::{Dialect, Schema};
    ///
    /// let mut m = Migration::new();
    /// m.run_sql_for(Dialect::Postgres, "CREATE EXTENSION IF NOT EXISTS citext", Some("DROP EXTENSION citext"));
    /// let op = &m.operations()[0];
    /// assert_eq!(render(op, &Schema::new(), Dialect::Postgres).unwrap(), ["CREATE EXTENSION IF NOT EXISTS citext"]);
    /// assert!(render(op, &Schema::new(), Dialect::Sqlite).unwrap().is_empty());
    /// ```
    pub fn run_sql_for(&mut self, dialect: crate::Dialect, forward: &str, reverse: Option<&str>) -> &mut Self {
        let mut sql = RunSql { forward: Vec::new(), reverse: reverse.map(|_| Vec::new()), ..RunSql::default() };
        sql.forward_for.insert(dialect, vec![forward.to_string()]);
        if let Some(r) = reverse {
            sql.reverse_for.insert(dialect, vec![r.to_string()]);
        }
        self.push(Operation::RunSql(sql))
    }

    /// Runs SQL written by a person: `forward` now, `reverse` (if any) on rollback.
    pub fn run_sql(&mut self, forward: &str, reverse: Option<&str>) -> &mut Self {
        self.push(Operation::RunSql(RunSql {
            forward: vec![forward.to_string()],
            reverse: reverse.map(|r| vec![r.to_string()]),
            ..RunSql::default()
        }))
    }
}

impl Table {
    /// Adds a column (a field, in the words of the operations).
    pub fn field(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Sets the primary key.
    pub fn primary_key(mut self, columns: &[&str]) -> Self {
        self.primary_key = names(columns);
        self
    }

    /// Adds a unique constraint.
    pub fn unique(mut self, unique: Unique) -> Self {
        self.uniques.push(unique);
        self
    }

    /// Adds a check constraint.
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// Adds a foreign key.
    pub fn foreign_key(mut self, fk: ForeignKey) -> Self {
        self.foreign_keys.push(fk);
        self
    }

    /// Adds an index.
    pub fn index(mut self, index: Index) -> Self {
        self.indexes.push(index);
        self
    }

    /// Sets the table comment.
    pub fn comment(mut self, comment: &str) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

impl Index {
    /// A plain index with a generated name.
    pub fn new(name: &str, columns: &[&str]) -> Self {
        Self { name: name.into(), columns: names(columns), unique: false, explicit_name: false }
    }

    /// The index made unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// The name marked as written by a person.
    pub fn named(mut self) -> Self {
        self.explicit_name = true;
        self
    }
}

impl Unique {
    /// A unique constraint with a generated name.
    pub fn new(name: &str, columns: &[&str]) -> Self {
        Self { name: name.into(), columns: names(columns), explicit_name: false }
    }

    /// The name marked as written by a person.
    pub fn named(mut self) -> Self {
        self.explicit_name = true;
        self
    }
}

impl Check {
    /// A check constraint.
    pub fn new(name: &str, expr: &str) -> Self {
        Self { name: name.into(), expr: expr.into() }
    }
}

/// The first half of a foreign key: its name and its columns, waiting for
/// [`ForeignKeyFrom::references`] (`ForeignKey::on(..).references(..)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyFrom {
    name: String,
    columns: Vec<String>,
}

impl ForeignKeyFrom {
    /// The table and columns the foreign key points at.
    pub fn references(self, ref_table: &str, ref_columns: &[&str]) -> ForeignKey {
        ForeignKey {
            name: self.name,
            columns: self.columns,
            ref_table: ref_table.into(),
            ref_columns: names(ref_columns),
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            explicit_name: false,
        }
    }
}

impl ForeignKey {
    /// A foreign key with a generated name on `columns`, NO ACTION on delete and
    /// update; `.references(table, columns)` completes it. Generated migrations write
    /// it so: every call stays short enough to read on one line.
    ///
    /// ```
    /// use migrations_core::builder::*;
    ///
    /// let fk = ForeignKey::on("fk_posts_author_id_users", &["author_id"])
    ///     .references("users", &["id"])
    ///     .on_delete(FkAction::Cascade);
    /// let same = ForeignKey::new("fk_posts_author_id_users", &["author_id"], "users", &["id"]);
    /// assert_eq!(fk, same.on_delete(FkAction::Cascade));
    /// ```
    pub fn on(name: &str, columns: &[&str]) -> ForeignKeyFrom {
        ForeignKeyFrom { name: name.into(), columns: names(columns) }
    }

    /// The same foreign key in one call (what migrations generated before `on` wrote;
    /// they keep compiling).
    pub fn new(name: &str, columns: &[&str], ref_table: &str, ref_columns: &[&str]) -> Self {
        Self::on(name, columns).references(ref_table, ref_columns)
    }

    /// Sets the action on delete.
    pub fn on_delete(mut self, action: FkAction) -> Self {
        self.on_delete = action;
        self
    }

    /// Sets the action on update.
    pub fn on_update(mut self, action: FkAction) -> Self {
        self.on_update = action;
        self
    }

    /// The name marked as written by a person.
    pub fn named(mut self) -> Self {
        self.explicit_name = true;
        self
    }
}

impl From<Unique> for Constraint {
    fn from(u: Unique) -> Self {
        Constraint::Unique(u)
    }
}

impl From<Check> for Constraint {
    fn from(c: Check) -> Self {
        Constraint::Check(c)
    }
}

impl From<ForeignKey> for Constraint {
    fn from(f: ForeignKey) -> Self {
        Constraint::ForeignKey(f)
    }
}

impl DefaultValue {
    /// A text literal.
    pub fn text(s: &str) -> Self {
        DefaultValue::Text(s.into())
    }

    /// A number, from its canonical decimal text (as generated code writes it).
    pub fn num(n: &str) -> Self {
        DefaultValue::Number(crate::schema::canonical_number(n).unwrap_or_else(|| n.to_string()))
    }
}
