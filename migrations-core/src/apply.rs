//! Applying operations to an in-memory schema.

use crate::operation::Operation;
use crate::schema::{Constraint, Schema, Table};

/// An operation that does not fit the schema it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply `{operation}`: {reason}")]
pub struct ApplyError {
    /// The operation, in words.
    pub operation: String,
    /// What is wrong.
    pub reason: String,
}

impl Schema {
    /// Applies every operation in order.
    pub fn apply_all<'a>(&mut self, ops: impl IntoIterator<Item = &'a Operation>) -> Result<(), ApplyError> {
        ops.into_iter().try_for_each(|op| self.apply(op))
    }

    /// Applies one operation. On error the schema is unchanged.
    pub fn apply(&mut self, op: &Operation) -> Result<(), ApplyError> {
        let fail = |reason: String| ApplyError { operation: op.to_string(), reason };
        if let Some(reason) = self.view_in_the_way(op) {
            return Err(fail(reason));
        }
        match op {
            Operation::CreateModel { table } => {
                if self.tables.contains_key(&table.name) {
                    return Err(fail(format!("table `{}` already exists", table.name)));
                }
                for c in &table.columns {
                    self.check_enum_agrees(&c.ty).map_err(fail)?;
                }
                self.tables.insert(table.name.clone(), table.clone());
            }
            Operation::DeleteModel { table } => {
                self.table(&table.name).ok_or_else(|| fail(no_table(&table.name)))?;
                if let Some((from, fk)) = self.foreign_keys_to(&table.name).find(|(t, _)| t.name != table.name) {
                    return Err(fail(format!("foreign key `{}` of `{}` still references it", fk.name, from.name)));
                }
                self.tables.remove(&table.name);
            }
            Operation::RenameModel { old, new } => {
                if self.tables.contains_key(new) {
                    return Err(fail(format!("table `{new}` already exists")));
                }
                let mut table = self.tables.remove(old).ok_or_else(|| fail(no_table(old)))?;
                table.name = new.clone();
                for o in self.raw.values_mut().filter(|o| o.table.as_ref() == Some(old)) {
                    o.table = Some(new.clone());
                }
                self.tables.insert(new.clone(), table);
                for t in self.tables.values_mut() {
                    for fk in &mut t.foreign_keys {
                        if fk.ref_table == *old {
                            fk.ref_table = new.clone();
                        }
                    }
                }
            }
            Operation::AlterModelComment { table, new, .. } => {
                self.table_mut(table).map_err(fail)?.comment = new.clone();
            }
            Operation::AddField { table, column, .. } => {
                self.check_enum_agrees(&column.ty).map_err(fail)?;
                let t = self.table_mut(table).map_err(fail)?;
                if t.column(&column.name).is_some() {
                    return Err(fail(format!("column `{}` already exists", column.name)));
                }
                t.columns.push(column.clone());
            }
            Operation::RemoveField { table, column } => {
                let t = self.table_mut(table).map_err(fail)?;
                if t.column(&column.name).is_none() {
                    return Err(fail(format!("no column `{}` in `{table}`", column.name)));
                }
                if t.column_is_used(&column.name) {
                    return Err(fail(format!("column `{}` is still used by a key, index or constraint", column.name)));
                }
                t.columns.retain(|c| c.name != column.name);
            }
            Operation::AlterField { table, old, new, .. } => {
                if let (Some(a), Some(b)) = (old.ty.enum_type(), new.ty.enum_type()) {
                    if a.name == b.name && a.values != b.values {
                        return Err(fail(format!(
                            "it changes the values of enum `{}`, which is one operation over every column that \
                             uses it: `m.alter_enum(...)`",
                            a.name
                        )));
                    }
                }
                if old.ty.enum_type().map(|e| &e.name) != new.ty.enum_type().map(|e| &e.name) {
                    self.check_enum_agrees(&new.ty).map_err(fail)?;
                }
                let t = self.table_mut(table).map_err(fail)?;
                let c =
                    t.column_mut(&old.name).ok_or_else(|| fail(format!("no column `{}` in `{table}`", old.name)))?;
                if new.name != old.name {
                    return Err(fail("AlterField cannot rename; use RenameField".into()));
                }
                *c = new.clone();
            }
            Operation::RenameField { table, old, new } => {
                let t = self.table_mut(table).map_err(fail)?;
                if t.column(new).is_some() {
                    return Err(fail(format!("column `{new}` already exists")));
                }
                let c = t.column_mut(old).ok_or_else(|| fail(format!("no column `{old}` in `{table}`")))?;
                c.name = new.clone();
                rename_in(&mut t.primary_key, old, new);
                for i in &mut t.indexes {
                    rename_in(&mut i.columns, old, new);
                    rename_in(&mut i.include, old, new);
                }
                for u in &mut t.uniques {
                    rename_in(&mut u.columns, old, new);
                }
                for f in &mut t.foreign_keys {
                    rename_in(&mut f.columns, old, new);
                }
                for other in self.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.ref_table == *table {
                            rename_in(&mut fk.ref_columns, old, new);
                        }
                    }
                }
            }
            Operation::CreateIndex { table, index } => {
                self.check_free_name(table, &index.name).map_err(fail)?;
                let t = self.table_mut(table).map_err(fail)?;
                check_columns(t, &index.column_names().cloned().collect::<Vec<_>>()).map_err(fail)?;
                t.indexes.push(index.clone());
            }
            Operation::DropIndex { table, index } => {
                let t = self.table_mut(table).map_err(fail)?;
                let before = t.indexes.len();
                t.indexes.retain(|i| i.name != index.name);
                if t.indexes.len() == before {
                    return Err(fail(format!("no index `{}` on `{table}`", index.name)));
                }
            }
            Operation::RenameIndex { table, old, new } => {
                self.check_free_name(table, new).map_err(fail)?;
                let t = self.table_mut(table).map_err(fail)?;
                let i = t
                    .indexes
                    .iter_mut()
                    .find(|i| i.name == *old)
                    .ok_or_else(|| fail(format!("no index `{old}` on `{table}`")))?;
                i.name = new.clone();
                // A rename back to the generated name makes it generated again, so a
                // rename and its reverse leave the schema exactly as it was.
                i.explicit_name = *new != crate::schema::names::index(table, &i.columns, i.unique);
            }
            Operation::AddConstraint { table, constraint } => {
                self.check_free_name(table, constraint.name()).map_err(fail)?;
                if let Constraint::ForeignKey(fk) = constraint {
                    let target = self.table(&fk.ref_table).ok_or_else(|| fail(no_table(&fk.ref_table)))?;
                    check_columns(target, &fk.ref_columns).map_err(fail)?;
                }
                let t = self.table_mut(table).map_err(fail)?;
                match constraint {
                    Constraint::Unique(u) => {
                        check_columns(t, &u.columns).map_err(fail)?;
                        t.uniques.push(u.clone());
                    }
                    Constraint::Check(c) => t.checks.push(c.clone()),
                    Constraint::ForeignKey(f) => {
                        check_columns(t, &f.columns).map_err(fail)?;
                        t.foreign_keys.push(f.clone());
                    }
                }
            }
            Operation::AlterConstraint { table, old, new } => {
                if !Operation::only_state_differs(old, new) {
                    return Err(fail(
                        "it changes more than a constraint's state: remove it and add the new one".into(),
                    ));
                }
                let t = self.table_mut(table).map_err(fail)?;
                let name = old.name();
                let found = match new {
                    Constraint::Unique(_) => None,
                    Constraint::Check(c) => t.checks.iter_mut().find(|x| x.name == name).map(|x| *x = c.clone()),
                    Constraint::ForeignKey(f) => {
                        t.foreign_keys.iter_mut().find(|x| x.name == name).map(|x| *x = f.clone())
                    }
                };
                if found.is_none() {
                    return Err(fail(format!("no {} constraint `{name}` on `{table}`", old.kind())));
                }
            }
            Operation::RemoveConstraint { table, constraint } => {
                let t = self.table_mut(table).map_err(fail)?;
                let name = constraint.name();
                let removed = match constraint {
                    Constraint::Unique(_) => remove_named(&mut t.uniques, name, |u| &u.name),
                    Constraint::Check(_) => remove_named(&mut t.checks, name, |c| &c.name),
                    Constraint::ForeignKey(_) => remove_named(&mut t.foreign_keys, name, |f| &f.name),
                };
                if !removed {
                    return Err(fail(format!("no {} constraint `{name}` on `{table}`", constraint.kind())));
                }
            }
            Operation::CreateView { view } => {
                if self.tables.contains_key(&view.name) || self.views.contains_key(&view.name) {
                    return Err(fail(format!("the name `{}` is already a table's or a view's", view.name)));
                }
                let known = |t: &String| self.tables.contains_key(t) || self.views.contains_key(t);
                if let Some(missing) = view.reads.iter().find(|t| !known(t)) {
                    return Err(fail(format!("it reads `{missing}`, which is no table or view")));
                }
                self.views.insert(view.name.clone(), view.clone());
            }
            Operation::DropView { view } => {
                if let Some(reader) = self.views.values().find(|v| v.reads.contains(&view.name)) {
                    return Err(fail(format!(
                        "{} `{}` reads it: drop that first (`m.drop_view(\"{}\")`)",
                        reader.kind(),
                        reader.name,
                        reader.name
                    )));
                }
                self.views.remove(&view.name).ok_or_else(|| fail(format!("no view `{}`", view.name)))?;
            }
            Operation::AlterEnum { name, from, to, renamed } => {
                self.alter_enum(name, from, to, renamed).map_err(fail)?
            }
            Operation::RenameEnum { old, new } => {
                if self.enum_uses(old) == 0 {
                    return Err(fail(format!("no column uses enum `{old}`")));
                }
                if self.enum_uses(new) > 0 {
                    return Err(fail(format!("enum `{new}` already exists")));
                }
                for column in self.tables.values_mut().flat_map(|t| t.columns.iter_mut()) {
                    if let Some(e) = column.ty.enum_type_mut().filter(|e| e.name == *old) {
                        e.name.clone_from(new);
                    }
                }
            }
            Operation::CreateRaw { object } => {
                if let Some(problem) = object.problem() {
                    return Err(fail(problem));
                }
                if let Some(t) = object.table.as_ref().filter(|t| !self.tables.contains_key(*t)) {
                    return Err(fail(format!("it belongs to `{t}`, which is no table")));
                }
                if self.raw.contains_key(&object.key()) {
                    return Err(fail(format!("{} `{}` already exists", object.kind, object.name)));
                }
                self.raw.insert(object.key(), object.clone());
            }
            Operation::DropRaw { object } => {
                self.raw.remove(&object.key()).ok_or_else(|| fail(format!("no {} `{}`", object.kind, object.name)))?;
            }
            Operation::RunSql(_) => {}
        }
        Ok(())
    }

    /// A column of enum type `ty` may join the schema only with the list the columns of
    /// that type already have.
    fn check_enum_agrees(&self, ty: &crate::schema::ColumnType) -> Result<(), String> {
        let Some(e) = ty.enum_type() else { return Ok(()) };
        if let Some(problem) = e.problem() {
            return Err(problem);
        }
        match self.enum_conflict(e) {
            Some((column, theirs)) => Err(format!(
                "`{column}` is {theirs}, and this column is {e}: one enum has one list of values; change it \
                 with `m.alter_enum(...)`"
            )),
            None => Ok(()),
        }
    }

    /// [`Operation::AlterEnum`]: every column of enum `name` takes the list `to`; a
    /// default that names a renamed value names the new one.
    fn alter_enum(
        &mut self,
        name: &str,
        from: &[String],
        to: &[String],
        renamed: &[(String, String)],
    ) -> Result<(), String> {
        let target = crate::schema::EnumType { name: name.to_string(), values: to.to_vec() };
        if let Some(problem) = target.problem() {
            return Err(problem);
        }
        let Some((t, c, current)) = self.enum_columns().find(|(_, _, e)| e.name == name) else {
            return Err(format!("no column uses enum `{name}`"));
        };
        if current.values != from {
            return Err(format!(
                "`{t}.{c}` is {current}, not ({}) as the operation says it was",
                crate::schema::quoted_list(from)
            ));
        }
        let changes = crate::schema::ValueChanges::between(from, to, renamed);
        let uses = |c: &crate::schema::Column| c.ty.enum_type().is_some_and(|e| e.name == name);
        for table in self.tables.values() {
            for column in table.columns.iter().filter(|c| uses(c)) {
                if let Some(crate::schema::DefaultValue::Text(v)) = &column.default {
                    if changes.removed.contains(v) {
                        return Err(format!(
                            "`{}.{}` defaults to '{v}', which it removes: change the default first",
                            table.name, column.name
                        ));
                    }
                }
            }
        }
        for table in self.tables.values_mut() {
            for column in table.columns.iter_mut().filter(|c| uses(c)) {
                if let Some(e) = column.ty.enum_type_mut() {
                    e.values = to.to_vec();
                }
                if let Some(crate::schema::DefaultValue::Text(v)) = &mut column.default {
                    if let Some((_, new)) = changes.renamed.iter().find(|(old, _)| old == v) {
                        *v = new.clone();
                    }
                }
            }
        }
        Ok(())
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut Table, String> {
        self.tables.get_mut(name).ok_or_else(|| no_table(name))
    }

    /// Why `op` cannot run while a view reads its table, if it cannot: it drops or
    /// renames the table or a column of it, which the view would go on naming. Or while
    /// an object kept by name (a trigger) belongs to the table it drops.
    pub(crate) fn view_in_the_way(&self, op: &Operation) -> Option<String> {
        // An object kept by name that belongs to a dropped table would go with it, and a
        // rollback would not make it again.
        if let Operation::DeleteModel { table } = op {
            if let Some(o) = self.raw.values().find(|o| o.table.as_ref() == Some(&table.name)) {
                return Some(format!(
                    "{} `{}` belongs to `{}`, and this drops the table: drop it first (`m.drop_raw_named(\"{}\", \"{}\")` \
                     in a migration before this one), so that a rollback makes it again",
                    o.kind, o.name, table.name, o.kind, o.name
                ));
            }
        }
        let (table, what) = match op {
            Operation::DeleteModel { table } => (table.name.as_str(), "drops the table".to_string()),
            Operation::RenameModel { old, .. } => (old.as_str(), "renames the table".to_string()),
            Operation::RemoveField { table, column } => (table.as_str(), format!("drops its column `{}`", column.name)),
            Operation::RenameField { table, old, .. } => (table.as_str(), format!("renames its column `{old}`")),
            _ => return None,
        };
        let view = self.views.values().find(|v| v.reads.iter().any(|r| r == table))?;
        Some(format!(
            "{} `{}` reads `{table}`, and this {what}: drop the view first (`m.drop_view(\"{}\")` in a migration before \
             this one) and create it again after, as it reads then",
            view.kind(),
            view.name,
            view.name
        ))
    }

    /// Index and constraint names must be unique across the schema (PostgreSQL and
    /// SQLite keep them in one namespace per schema).
    fn check_free_name(&self, table: &str, name: &str) -> Result<(), String> {
        match self.tables.values().find(|t| t.object_names().any(|n| n == name)) {
            Some(t) => Err(format!("the name `{name}` is already used on `{}` (adding to `{table}`)", t.name)),
            None => Ok(()),
        }
    }
}

fn no_table(name: &str) -> String {
    format!("no table `{name}`")
}

fn check_columns(table: &Table, columns: &[String]) -> Result<(), String> {
    match columns.iter().find(|c| table.column(c).is_none()) {
        Some(c) => Err(format!("no column `{c}` in `{}`", table.name)),
        None => Ok(()),
    }
}

fn rename_in(columns: &mut [String], old: &str, new: &str) {
    for c in columns.iter_mut().filter(|c| *c == old) {
        *c = new.to_string();
    }
}

fn remove_named<T>(items: &mut Vec<T>, name: &str, key: impl Fn(&T) -> &String) -> bool {
    let before = items.len();
    items.retain(|i| key(i) != name);
    items.len() != before
}
