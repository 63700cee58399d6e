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

mod parts;

pub use parts::ForeignKeyFrom;

use crate::apply::ApplyError;
pub use crate::operation::{Operation, RunSql};
pub use crate::schema::{
    Check, Column, ColumnType, Constraint, DefaultValue, Deferrable, FkAction, ForeignKey, Index, IndexMethod,
    KeyOptions, RawSql, Table, Unique, View,
};
use crate::Schema;

/// The operations of one direction of one migration, in order.
///
/// A drop may name what it drops instead of spelling it out (`m.remove_field("users",
/// "email")`): generated `down` functions drop what their `up` just created, so they
/// name it. Such a drop holds only the name until [`Migration::resolve`] looks the rest
/// up in the schema the migration meets; whoever renders or reverses the operations
/// resolves them first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    operations: Vec<Operation>,
    /// The places in `operations` of drops recorded by name, in order.
    by_name: Vec<usize>,
}

/// What a drop is given: the dropped thing as it was, or only its name, to be looked up
/// in the schema (see [`Migration::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped<T> {
    /// The table, column, index or constraint as it was.
    Definition(T),
    /// Its name.
    Name(String),
}

impl<T> From<&str> for Dropped<T> {
    fn from(name: &str) -> Self {
        Dropped::Name(name.into())
    }
}

/// `Dropped<T>` from a `T` (the thing spelled out), for each kind of drop.
macro_rules! spelled_out {
    ($($t:ty),*) => {$(
        impl From<$t> for Dropped<$t> {
            fn from(t: $t) -> Self {
                Dropped::Definition(t)
            }
        }
    )*};
}

spelled_out!(Table, Column, Index, View);

impl<C: Into<Constraint>> From<C> for Dropped<Constraint> {
    fn from(c: C) -> Self {
        Dropped::Definition(c.into())
    }
}

impl<T> Dropped<T> {
    /// The definition, or `named(name)` standing in for it until it is resolved.
    fn or_stand_in(self, named: impl FnOnce(&str) -> T) -> (T, bool) {
        match self {
            Dropped::Definition(t) => (t, false),
            Dropped::Name(n) => (named(&n), true),
        }
    }
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

    /// Records a drop given by name: `op` holds the name and stands in until [`Self::resolve`].
    fn push_by_name(&mut self, op: Operation, by_name: bool) -> &mut Self {
        if by_name {
            self.by_name.push(self.operations.len());
        }
        self.push(op)
    }

    /// Whether every drop is spelled out (nothing recorded by name is left to look up).
    pub fn is_resolved(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Looks up what each drop recorded by name drops, in `start` (the schema this
    /// direction of the migration meets) as changed by the operations before it. Costs
    /// nothing when every drop is spelled out.
    ///
    /// ```
    /// use migrations_core::builder::*;
    /// use migrations_core::{Operation, Schema};
    ///
    /// let mut schema = Schema::new();
    /// let users = Table::new("users").field(Column::new("email", ColumnType::Varchar(255)).nullable());
    /// schema.apply(&Operation::CreateModel { table: users }).unwrap();
    ///
    /// let mut m = Migration::new();
    /// m.remove_field("users", "email");
    /// m.resolve(&schema).unwrap();
    /// let column = Column::new("email", ColumnType::Varchar(255)).nullable();
    /// assert_eq!(m.operations(), [Operation::RemoveField { table: "users".into(), column }]);
    /// ```
    pub fn resolve(&mut self, start: &Schema) -> Result<(), ApplyError> {
        let Some(&last) = self.by_name.last() else { return Ok(()) };
        let mut schema = start.clone();
        let mut by_name = self.by_name.iter().peekable();
        for (i, op) in self.operations.iter_mut().enumerate().take(last + 1) {
            if by_name.next_if_eq(&&i).is_some() {
                look_up(op, &schema)?;
            }
            if i < last {
                schema.apply(op)?;
            }
        }
        self.by_name.clear();
        Ok(())
    }

    /// `CREATE TABLE`.
    pub fn create_model(&mut self, table: Table) -> &mut Self {
        self.push(Operation::CreateModel { table })
    }

    /// `DROP TABLE`; `table` is the table as it was (so the step can be reversed), or
    /// its name.
    pub fn delete_model(&mut self, table: impl Into<Dropped<Table>>) -> &mut Self {
        self.drop_model(table.into())
    }

    // The generic methods only convert and call these: an application's crate
    // instantiates the conversion, and the rest is compiled once, here.
    fn drop_model(&mut self, table: Dropped<Table>) -> &mut Self {
        let (table, by_name) = table.or_stand_in(|n| Table::new(n));
        self.push_by_name(Operation::DeleteModel { table }, by_name)
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

    /// Drops a column; `column` is the column as it was, or its name.
    pub fn remove_field(&mut self, table: &str, column: impl Into<Dropped<Column>>) -> &mut Self {
        self.drop_field(table, column.into())
    }

    fn drop_field(&mut self, table: &str, column: Dropped<Column>) -> &mut Self {
        let (column, by_name) = column.or_stand_in(|n| Column::new(n, ColumnType::Text).nullable());
        self.push_by_name(Operation::RemoveField { table: table.into(), column }, by_name)
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

    /// Drops an index; `index` is the index as it was, or its name.
    pub fn drop_index(&mut self, table: &str, index: impl Into<Dropped<Index>>) -> &mut Self {
        self.drop_index_given(table, index.into())
    }

    fn drop_index_given(&mut self, table: &str, index: Dropped<Index>) -> &mut Self {
        let (index, by_name) = index.or_stand_in(|n| Index::new(n, &[]));
        self.push_by_name(Operation::DropIndex { table: table.into(), index }, by_name)
    }

    /// Creates a view (`View::new("name", "SELECT ...").reads(&["table"])`).
    pub fn create_view(&mut self, view: View) -> &mut Self {
        self.push(Operation::CreateView { view })
    }

    /// Drops a view; `view` is the view as it was, or its name.
    pub fn drop_view(&mut self, view: impl Into<Dropped<View>>) -> &mut Self {
        self.drop_view_given(view.into())
    }

    fn drop_view_given(&mut self, view: Dropped<View>) -> &mut Self {
        let (view, by_name) = view.or_stand_in(|n| View::new(n, ""));
        self.push_by_name(Operation::DropView { view }, by_name)
    }

    /// Changes a check's or foreign key's state in place: validates one kept `NOT VALID`,
    /// or changes when a foreign key is checked (`old` and `new` are the constraint
    /// before and after; nothing else of it may differ).
    pub fn alter_constraint(
        &mut self,
        table: &str,
        old: impl Into<Constraint>,
        new: impl Into<Constraint>,
    ) -> &mut Self {
        self.push(Operation::AlterConstraint { table: table.into(), old: old.into(), new: new.into() })
    }

    /// Creates an object with hand-written SQL and keeps it by kind and name, so that
    /// the snapshot, `migrate verify` and a rollback know it (a trigger, a function, an
    /// extension: see [`RawSql`]).
    ///
    /// ```
    /// use migrations_core::builder::*;
    /// use migrations_core::Dialect;
    ///
    /// let mut m = Migration::new();
    /// m.create_raw(RawSql::new("function", "touch_updated_at()").sql_for(
    ///     Dialect::Postgres,
    ///     "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$",
    ///     "DROP FUNCTION touch_updated_at()",
    /// ));
    /// ```
    pub fn create_raw(&mut self, object: RawSql) -> &mut Self {
        self.push(Operation::CreateRaw { object })
    }

    /// Drops an object made by [`Migration::create_raw`], spelled out as it was created.
    pub fn drop_raw(&mut self, object: RawSql) -> &mut Self {
        self.push(Operation::DropRaw { object })
    }

    /// Drops the object of `kind` named `name` made by [`Migration::create_raw`], looked
    /// up in the schema the migration meets.
    pub fn drop_raw_named(&mut self, kind: &str, name: &str) -> &mut Self {
        self.push_by_name(Operation::DropRaw { object: RawSql::new(kind, name) }, true)
    }

    /// Changes the values of the enumerated type `name` from `from` to `to`, in every
    /// column of it; `renamed` lists the (old, new) values renamed, so the rows that hold
    /// one hold the other after. A value in neither `to` nor `renamed` is removed (a row
    /// that still holds it makes the migration fail, and nothing is changed).
    ///
    /// ```
    /// # let mut m = migrations_core::builder::Migration::new();
    /// m.alter_enum("account_status", &["active", "paused"], &["active", "on_hold", "closed"], &[("paused", "on_hold")]);
    /// ```
    pub fn alter_enum(&mut self, name: &str, from: &[&str], to: &[&str], renamed: &[(&str, &str)]) -> &mut Self {
        let list = |values: &[&str]| values.iter().map(|v| v.to_string()).collect();
        self.push(Operation::AlterEnum {
            name: name.into(),
            from: list(from),
            to: list(to),
            renamed: renamed.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        })
    }

    /// Renames the enumerated type `old` to `new`: its values, its columns and their rows
    /// stay as they are.
    ///
    /// ```
    /// # let mut m = migrations_core::builder::Migration::new();
    /// m.rename_enum("status", "account_status");
    /// ```
    pub fn rename_enum(&mut self, old: &str, new: &str) -> &mut Self {
        self.push(Operation::RenameEnum { old: old.into(), new: new.into() })
    }

    /// Renames an index.
    pub fn rename_index(&mut self, table: &str, old: &str, new: &str) -> &mut Self {
        self.push(Operation::RenameIndex { table: table.into(), old: old.into(), new: new.into() })
    }

    /// Adds a unique, check or foreign-key constraint.
    pub fn add_constraint(&mut self, table: &str, constraint: impl Into<Constraint>) -> &mut Self {
        self.push(Operation::AddConstraint { table: table.into(), constraint: constraint.into() })
    }

    /// Removes a constraint; `constraint` is the constraint as it was, or its name.
    pub fn remove_constraint(&mut self, table: &str, constraint: impl Into<Dropped<Constraint>>) -> &mut Self {
        self.drop_constraint(table, constraint.into())
    }

    fn drop_constraint(&mut self, table: &str, constraint: Dropped<Constraint>) -> &mut Self {
        let (constraint, by_name) = constraint.or_stand_in(|n| Constraint::Check(Check::new(n, "")));
        self.push_by_name(Operation::RemoveConstraint { table: table.into(), constraint }, by_name)
    }

    /// Marks this direction as impossible: rolling back through it is refused.
    pub fn irreversible(&mut self) -> &mut Self {
        self.push(Operation::RunSql(RunSql { forward: Vec::new(), reverse: None, ..RunSql::default() }))
    }

    /// Runs SQL on one dialect only (nothing on the others): for what each database
    /// spells its own way. Call it once per dialect. `reverse: None` makes the step
    /// irreversible; `Some("")` makes it reversible by doing nothing (an index or
    /// trigger the rollback drops with its table).
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
            sql.reverse_for.insert(dialect, statement(r));
        }
        self.push(Operation::RunSql(sql))
    }

    /// Runs SQL on one dialect only, outside a transaction: for what PostgreSQL refuses
    /// inside one (`CREATE INDEX CONCURRENTLY`, `VACUUM`). The statement runs on its own;
    /// the migration's progress is recorded after it, so an interruption resumes after
    /// the last statement that completed. (PostgreSQL's statements that refuse a
    /// transaction are recognised by `run_sql_for` too; this says it outright.)
    ///
    /// ```
    /// use migrations_core::builder::Migration;
    /// use migrations_core::render::live::{migration, Forms, Run};
    /// use migrations_core::{Dialect, Schema};
    ///
    /// let mut m = Migration::new();
    /// m.run_sql_outside_transaction(
    ///     Dialect::Postgres,
    ///     "CREATE INDEX CONCURRENTLY ix_users_email ON users (email)",
    ///     Some("DROP INDEX CONCURRENTLY ix_users_email"),
    /// );
    /// let statements = migration(m.operations(), &Schema::new(), Dialect::Postgres, Forms::Online).unwrap();
    /// assert_eq!(statements[0].run, Run::NoTransaction);
    /// ```
    pub fn run_sql_outside_transaction(
        &mut self,
        dialect: crate::Dialect,
        forward: &str,
        reverse: Option<&str>,
    ) -> &mut Self {
        self.run_sql_for(dialect, forward, reverse);
        if let Some(Operation::RunSql(sql)) = self.operations.last_mut() {
            sql.outside_transaction = true;
        }
        self
    }

    /// Runs SQL written by a person: `forward` now, `reverse` (if any) on rollback;
    /// `Some("")` undoes it by doing nothing.
    pub fn run_sql(&mut self, forward: &str, reverse: Option<&str>) -> &mut Self {
        self.push(Operation::RunSql(RunSql {
            forward: vec![forward.to_string()],
            reverse: reverse.map(statement),
            ..RunSql::default()
        }))
    }
}

/// One statement of hand-written SQL; none for blank text (a reverse that does nothing).
fn statement(sql: &str) -> Vec<String> {
    if sql.trim().is_empty() {
        Vec::new()
    } else {
        vec![sql.to_string()]
    }
}

/// Fills in the definition of the drop `op` names, from `schema`.
fn look_up(op: &mut Operation, schema: &Schema) -> Result<(), ApplyError> {
    let missing = |op: &Operation, what: String| {
        ApplyError {
        operation: op.to_string(),
        reason: format!(
            "no {what} at this point of the migration to drop by name; check the name, or give the dropped definition instead of its name"
        ),
    }
    };
    let table_of = |name: &str| schema.table(name).ok_or_else(|| format!("table `{name}`"));
    let found = match &*op {
        Operation::DeleteModel { table } => table_of(&table.name).map(|t| Operation::DeleteModel { table: t.clone() }),
        Operation::RemoveField { table, column } => table_of(table).and_then(|t| {
            let c = t.column(&column.name).ok_or_else(|| format!("column `{}` in `{table}`", column.name))?;
            Ok(Operation::RemoveField { table: table.clone(), column: c.clone() })
        }),
        Operation::DropIndex { table, index } => table_of(table).and_then(|t| {
            let i = t.indexes.iter().find(|i| i.name == index.name);
            let i = i.ok_or_else(|| format!("index `{}` on `{table}`", index.name))?;
            Ok(Operation::DropIndex { table: table.clone(), index: i.clone() })
        }),
        Operation::RemoveConstraint { table, constraint } => table_of(table).and_then(|t| {
            let c = t.constraints().into_iter().find(|c| c.name() == constraint.name());
            let c = c.ok_or_else(|| format!("constraint `{}` on `{table}`", constraint.name()))?;
            Ok(Operation::RemoveConstraint { table: table.clone(), constraint: c })
        }),
        Operation::DropView { view } => match schema.views.get(&view.name) {
            Some(v) => Ok(Operation::DropView { view: v.clone() }),
            None => Err(format!("view `{}`", view.name)),
        },
        Operation::DropRaw { object } => match schema.raw.get(&object.key()) {
            Some(o) => Ok(Operation::DropRaw { object: o.clone() }),
            None => Err(format!("{} `{}`", object.kind, object.name)),
        },
        _ => return Ok(()),
    };
    *op = found.map_err(|what| missing(op, what))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Table {
        Table::new("users")
            .field(Column::new("id", ColumnType::BigInt).auto_increment())
            .field(Column::new("email", ColumnType::Varchar(255)).nullable())
            .primary_key(&["id"])
            .unique(Unique::new("uq_users_email", &["email"]))
            .index(Index::new("ix_users_email", &["email"]))
    }

    fn schema() -> Schema {
        let mut s = Schema::new();
        s.apply(&Operation::CreateModel { table: users() }).expect("create");
        s
    }

    /// Each drop given by name comes out as the same drop spelled out.
    #[test]
    fn drops_by_name_resolve_to_the_definitions() {
        let (mut named, mut spelled) = (Migration::new(), Migration::new());
        named.remove_constraint("users", "uq_users_email");
        spelled.remove_constraint("users", Unique::new("uq_users_email", &["email"]));
        named.drop_index("users", "ix_users_email");
        spelled.drop_index("users", Index::new("ix_users_email", &["email"]));
        named.remove_field("users", "email");
        spelled.remove_field("users", Column::new("email", ColumnType::Varchar(255)).nullable());
        assert!(!named.is_resolved());
        named.resolve(&schema()).expect("resolves");
        assert!(named.is_resolved());
        // What is left of the table once the others are gone.
        let rest =
            Table::new("users").field(Column::new("id", ColumnType::BigInt).auto_increment()).primary_key(&["id"]);
        named.delete_model("users");
        spelled.delete_model(rest);
        named.resolve(&schema()).expect("resolves again");
        assert_eq!(named, spelled);
    }

    /// A name is looked up where the drop stands, after the operations before it: a
    /// column renamed a step earlier is found under its new name, and not under the old.
    #[test]
    fn a_name_is_looked_up_after_the_steps_before_it() {
        let mut m = Migration::new();
        m.rename_field("users", "email", "mail");
        m.remove_constraint("users", "uq_users_email");
        m.drop_index("users", "ix_users_email");
        m.remove_field("users", "mail");
        m.resolve(&schema()).expect("resolves");
        let Operation::RemoveField { column, .. } = &m.operations()[3] else { panic!("{:?}", m.operations()) };
        assert_eq!(column, &Column::new("mail", ColumnType::Varchar(255)).nullable());

        let mut stale = Migration::new();
        stale.rename_field("users", "email", "mail");
        stale.remove_field("users", "email");
        let err = stale.resolve(&schema()).expect_err("renamed away");
        assert!(err.to_string().contains("no column `email` in `users`"), "{err}");
        assert!(!stale.is_resolved(), "a failed lookup leaves the drops unresolved");
    }

    #[test]
    fn a_missing_name_says_what_is_missing() {
        for (drop, missing) in [
            (Migration::new().delete_model("posts").clone(), "no table `posts`"),
            (Migration::new().drop_index("users", "ix_nope").clone(), "no index `ix_nope` on `users`"),
            (Migration::new().remove_constraint("users", "fk_nope").clone(), "no constraint `fk_nope` on `users`"),
        ] {
            let mut m = drop;
            let err = m.resolve(&schema()).expect_err(missing);
            assert!(err.to_string().contains(missing), "{err}");
            assert!(err.to_string().contains("check the name"), "says what to do: {err}");
        }
    }

    /// Spelled-out drops need no schema: resolving them against any is a no-op.
    #[test]
    fn spelled_out_drops_need_no_schema() {
        let mut m = Migration::new();
        m.delete_model(users());
        assert!(m.is_resolved());
        let before = m.clone();
        m.resolve(&Schema::new()).expect("nothing to look up");
        assert_eq!(m, before);
    }
}
