//! The builders of what a migration's operations carry: a table's fields and keys, an
//! index, a unique, a check, a foreign key, a default.

use super::names;
use crate::schema::{
    Check, Column, Constraint, DefaultValue, Deferrable, FkAction, ForeignKey, Index, IndexMethod, KeyOptions, Table,
    Unique,
};

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

    /// Names the primary key (PostgreSQL; what the database calls it when it is not
    /// `<table>_pkey`).
    pub fn primary_key_name(mut self, name: &str) -> Self {
        self.primary_key_name = Some(name.to_string());
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
        Self { name: name.into(), columns: names(columns), ..Self::default() }
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

    /// Built with `method` instead of a B-tree (`USING gin`).
    pub fn using(mut self, method: IndexMethod) -> Self {
        self.method = method;
        self
    }

    /// The key `key` in descending order.
    pub fn descending(self, key: &str) -> Self {
        self.key_with(key, |k| k.descending = true)
    }

    /// The key `key` with its NULLs first.
    pub fn nulls_first(self, key: &str) -> Self {
        self.key_with(key, |k| k.nulls_first = Some(true))
    }

    /// The key `key` with its NULLs last.
    pub fn nulls_last(self, key: &str) -> Self {
        self.key_with(key, |k| k.nulls_first = Some(false))
    }

    /// The key `key` compared with the operator class `opclass` (`gin_trgm_ops`).
    pub fn opclass(self, key: &str, opclass: &str) -> Self {
        self.key_with(key, |k| k.opclass = Some(opclass.into()))
    }

    /// `columns` stored in the index as well, not as keys (`INCLUDE`).
    pub fn include(mut self, columns: &[&str]) -> Self {
        self.include = names(columns);
        self
    }

    /// A partial index: only the rows where `predicate` (SQL) holds.
    pub fn partial(mut self, predicate: &str) -> Self {
        self.predicate = Some(predicate.into());
        self
    }

    fn key_with(mut self, key: &str, change: impl FnOnce(&mut KeyOptions)) -> Self {
        let mut options = self.columns.iter().position(|k| k == key).map(|i| self.key(i)).unwrap_or_default();
        change(&mut options);
        self.set_key(key, options);
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
        Self { name: name.into(), expr: expr.into(), not_valid: false }
    }

    /// `NOT VALID`: the rows already there are not checked (PostgreSQL).
    pub fn not_valid(mut self) -> Self {
        self.not_valid = true;
        self
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
            deferrable: Deferrable::No,
            not_valid: false,
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

    /// Makes it deferrable (checked at commit when deferred).
    pub fn deferrable(mut self, when: Deferrable) -> Self {
        self.deferrable = when;
        self
    }

    /// `NOT VALID`: the rows already there are not checked (PostgreSQL).
    pub fn not_valid(mut self) -> Self {
        self.not_valid = true;
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
