//! The autodetector: `diff(old, new)` → the operations that turn `old` into `new`,
//! in a fixed order: renames, removals, deletions, creations, additions, alterations, then
//! constraints and indexes (ARCHITECTURE.md, "Invariants", has the whole contract).

mod enums;
mod findings;
mod order;

pub use findings::{DiffError, Note};
pub use order::{creation_order, FkId};

use std::collections::{BTreeMap, BTreeSet};

use crate::operation::Operation;
use crate::schema::{Constraint, DefaultValue, Index, Schema, Table};

/// What the models say beyond the schema itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intent {
    /// New table name → the old name it was renamed from.
    pub table_renames: BTreeMap<String, String>,
    /// (table, new column) → the old column name.
    pub column_renames: BTreeMap<(String, String), String>,
    /// (table, column) → the one-off value for existing rows.
    pub backfills: BTreeMap<(String, String), DefaultValue>,
    /// (enumerated type, new value) → the old value it was renamed from.
    pub enum_value_renames: BTreeMap<(String, String), String>,
    /// New enumerated type name → the old name it was renamed from.
    pub enum_renames: BTreeMap<String, String>,
}

impl Intent {
    /// Whether the models say nothing beyond their schema.
    pub fn is_empty(&self) -> bool {
        self.table_renames.is_empty()
            && self.column_renames.is_empty()
            && self.backfills.is_empty()
            && self.enum_value_renames.is_empty()
            && self.enum_renames.is_empty()
    }
}

/// The autodetector's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// The operations, in order.
    pub operations: Vec<Operation>,
    /// Findings worth telling the user.
    pub notes: Vec<Note>,
    /// The new schema with generated names resolved against the old one: what the
    /// snapshot becomes once these operations are sealed.
    pub schema: Schema,
}

/// Compares two schemas. `intent` carries the models' renames and backfills.
///
/// # Examples
///
/// ```
/// use migrations_core::diff::{diff, Intent};
/// use migrations_core::model::parse_source;
/// use migrations_core::Schema;
///
/// let models = parse_source(
///     r#"
///     #[derive(Model)]
///     pub struct User {
///         #[model(primary_key, auto_increment)]
///         pub id: i64,
///         #[model(max_length = 50, unique)]
///         pub username: String,
///     }
///     "#,
///     &Schema::new(),
/// )?;
/// let changes = diff(&Schema::new(), &models.schema, &models.intent).expect("a valid change");
/// let words: Vec<String> = changes.operations.iter().map(ToString::to_string).collect();
/// assert_eq!(words, ["CreateModel users"]);
///
/// // Once sealed, the same models need nothing more.
/// assert!(diff(&changes.schema, &models.schema, &Intent::default()).expect("no change").operations.is_empty());
/// # Ok::<(), syn::Error>(())
/// ```
pub fn diff(old: &Schema, new: &Schema, intent: &Intent) -> Result<Diff, Vec<DiffError>> {
    diff_from(old.clone(), new, intent)
}

/// [`diff`], taking the old schema (which the autodetector changes step by step) instead
/// of copying it: with a thousand tables the copy is a good part of the work.
pub fn diff_from(old: Schema, new: &Schema, intent: &Intent) -> Result<Diff, Vec<DiffError>> {
    Differ { cur: old, ops: Vec::new(), notes: Vec::new(), errors: Vec::new(), replaced_indexes: Vec::new() }
        .run(new, intent)
}

struct Differ {
    cur: Schema,
    ops: Vec<Operation>,
    notes: Vec<Note>,
    errors: Vec<DiffError>,
    /// Index drops held until their replacements are built (see [`replaced_later`]).
    replaced_indexes: Vec<Operation>,
}

impl Differ {
    fn push(&mut self, op: Operation) -> Result<(), DiffError> {
        if let Some(reason) = self.cur.view_in_the_way(&op) {
            let table = op.table().unwrap_or_default().to_string();
            return Err(DiffError::ViewInTheWay { table, reason });
        }
        self.cur.apply(&op)?;
        self.ops.push(op);
        Ok(())
    }

    fn run(mut self, new: &Schema, intent: &Intent) -> Result<Diff, Vec<DiffError>> {
        match self.steps(new, intent) {
            Ok(resolved) if self.errors.is_empty() => {
                // The operations must lead exactly to the models' schema. Tables are
                // compared one by one, in canonical order only when they differ as they
                // stand, so the check stays cheap for a thousand untouched tables.
                let names: std::collections::BTreeSet<&String> =
                    self.cur.tables.keys().chain(resolved.tables.keys()).collect();
                let differs = |name: &String| match (self.cur.table(name), resolved.table(name)) {
                    (Some(a), Some(b)) => a != b && !a.same_shape(b),
                    _ => true,
                };
                if let Some(table) = names.into_iter().find(|n| differs(n)) {
                    return Err(vec![DiffError::Internal(format!(
                        "the operations do not produce the models' schema (table `{table}`: {:?} instead of {:?})",
                        self.cur.table(table),
                        resolved.table(table),
                    ))]);
                }
                Ok(Diff { operations: self.ops, notes: self.notes, schema: resolved })
            }
            Ok(_) => Err(self.errors),
            Err(e) => {
                self.errors.push(e);
                Err(self.errors)
            }
        }
    }

    fn steps(&mut self, new: &Schema, intent: &Intent) -> Result<Schema, DiffError> {
        self.rename_tables(new, intent)?;
        self.rename_columns(new, intent)?;
        self.rename_enums(new, intent)?;
        let target = resolve_names(&self.cur, new);
        // Between its two steps an enumerated type holds a middle list; the rest of the
        // diff compares columns with it. (A copy only then: a thousand tables cost.)
        let (first, last, middles) = enums::enum_steps(&self.cur, &target, intent);
        let middle = (!middles.is_empty()).then(|| enums::with_middle_lists(&target, &middles));
        let new = middle.as_ref().unwrap_or(&target);
        for op in first {
            self.push(op)?;
        }
        self.check_primary_keys(new);
        let renamed_indexes = self.index_renames(new);
        self.alter_constraints(new)?;
        self.remove_constraints_and_indexes(new, &renamed_indexes)?;
        self.remove_fields(new)?;
        let deleted: Vec<Table> =
            self.cur.tables.values().filter(|t| !new.tables.contains_key(&t.name)).cloned().collect();
        self.delete_tables(&deleted)?;
        let created: Vec<&Table> = new.tables.values().filter(|t| !self.cur.tables.contains_key(&t.name)).collect();
        self.hint_table_renames(&deleted, &created);
        self.create_tables(&created)?;
        self.add_fields(new, intent)?;
        self.alter_fields(new, intent)?;
        self.add_constraints(new, false)?;
        self.create_indexes(new, &renamed_indexes)?;
        self.drop_replaced_indexes()?;
        self.add_constraints(new, true)?;
        self.rename_indexes(&renamed_indexes)?;
        for op in last {
            self.push(op)?;
        }
        self.note_inert_backfills(new, intent);
        Ok(target)
    }

    fn rename_tables(&mut self, new: &Schema, intent: &Intent) -> Result<(), DiffError> {
        for (to, from) in &intent.table_renames {
            let applies = !self.cur.tables.contains_key(to)
                && self.cur.tables.contains_key(from)
                && !new.tables.contains_key(from);
            if applies {
                self.push(Operation::RenameModel { old: from.clone(), new: to.clone() })?;
            } else {
                self.notes.push(Note::InertRename { table: to.clone(), column: None });
            }
        }
        Ok(())
    }

    /// An enumerated type renamed (`renamed_from` on the enum): renamed in place, before
    /// anything compares its columns, which then differ in nothing. A type gone and
    /// another new with the same values, without it, is pointed out.
    fn rename_enums(&mut self, new: &Schema, intent: &Intent) -> Result<(), DiffError> {
        for (to, from) in &intent.enum_renames {
            let applies = self.cur.enum_uses(from) > 0
                && self.cur.enum_uses(to) == 0
                && new.enum_uses(to) > 0
                && new.enum_uses(from) == 0;
            if applies {
                self.push(Operation::RenameEnum { old: from.clone(), new: to.clone() })?;
            }
        }
        let (before, after) = (self.cur.enums(), new.enums());
        for (removed, old) in before.iter().filter(|(name, _)| !after.contains_key(*name)) {
            for (added, _) in after.iter().filter(|(name, e)| !before.contains_key(*name) && e.values == old.values) {
                self.notes.push(Note::PossibleEnumRename { removed: removed.clone(), added: added.clone() });
            }
        }
        Ok(())
    }

    fn rename_columns(&mut self, new: &Schema, intent: &Intent) -> Result<(), DiffError> {
        for t in new.tables.values() {
            for c in &t.columns {
                let Some(from) = intent.column_renames.get(&(t.name.clone(), c.name.clone())) else { continue };
                let applies = self.cur.table(&t.name).is_some_and(|cur| {
                    cur.column(&c.name).is_none() && cur.column(from).is_some() && t.column(from).is_none()
                });
                if applies {
                    self.push(Operation::RenameField {
                        table: t.name.clone(),
                        old: from.clone(),
                        new: c.name.clone(),
                    })?;
                } else {
                    self.notes.push(Note::InertRename { table: t.name.clone(), column: Some(c.name.clone()) });
                }
            }
        }
        Ok(())
    }

    fn check_primary_keys(&mut self, new: &Schema) {
        for t in new.tables.values() {
            if let Some(cur) = self.cur.table(&t.name) {
                if cur.primary_key != t.primary_key {
                    self.errors.push(DiffError::PrimaryKeyChanged {
                        table: t.name.clone(),
                        old: cur.primary_key.join(", "),
                        new: t.primary_key.join(", "),
                    });
                } else if cur.primary_key_name != t.primary_key_name && !t.primary_key.is_empty() {
                    let shown = |n: &Option<String>| n.as_ref().map_or("the default".to_string(), |n| format!("`{n}`"));
                    self.errors.push(DiffError::PrimaryKeyRenamed {
                        table: t.name.clone(),
                        old: shown(&cur.primary_key_name),
                        new: shown(&t.primary_key_name),
                    });
                }
            }
        }
    }

    /// Explicitly named indexes whose definition matches an existing index of another
    /// name: (table, old name) → new name.
    fn index_renames(&self, new: &Schema) -> BTreeMap<(String, String), String> {
        let mut renames = BTreeMap::new();
        for t in new.tables.values() {
            let Some(cur) = self.cur.table(&t.name) else { continue };
            for i in t.indexes.iter().filter(|i| i.explicit_name) {
                if cur.indexes.iter().any(|c| c.name == i.name) {
                    continue;
                }
                let taken: BTreeSet<&String> = renames.values().collect();
                if let Some(old) =
                    cur.indexes.iter().find(|c| same_index_def(c, i) && !t.indexes.iter().any(|n| n.name == c.name))
                {
                    if !taken.contains(&i.name) {
                        renames.insert((t.name.clone(), old.name.clone()), i.name.clone());
                    }
                }
            }
        }
        renames
    }

    /// A check or foreign key whose only change is its state (validated; when a foreign
    /// key is checked) changes in place, instead of a drop and an add: on PostgreSQL a
    /// `VALIDATE CONSTRAINT` that lets writes through, or an `ALTER CONSTRAINT`. Not one
    /// made `NOT VALID` again, which only a drop and an add can do.
    fn alter_constraints(&mut self, new: &Schema) -> Result<(), DiffError> {
        let mut changes = Vec::new();
        for n in new.tables.values() {
            let Some(cur) = self.cur.table(&n.name) else { continue };
            if same_objects(cur, n) {
                continue;
            }
            let wanted = n.constraints();
            for old in cur.constraints() {
                let Some(changed) = wanted.iter().find(|c| c.name() == old.name()) else { continue };
                // (Made NOT VALID again: only a drop and an add do that.)
                let invalidated = changed.not_valid() && !old.not_valid();
                if !invalidated && Operation::only_state_differs(&old, changed) {
                    changes.push(Operation::AlterConstraint { table: n.name.clone(), old, new: changed.clone() });
                }
            }
        }
        changes.into_iter().try_for_each(|op| self.push(op))
    }

    fn remove_constraints_and_indexes(
        &mut self,
        new: &Schema,
        renamed: &BTreeMap<(String, String), String>,
    ) -> Result<(), DiffError> {
        let surviving: Vec<(&Table, &Table)> = self
            .cur
            .tables
            .values()
            .filter_map(|c| new.table(&c.name).map(|n| (c, n)))
            .filter(|(c, n)| !same_objects(c, n))
            .collect();
        // Foreign keys first (they may depend on uniques and indexes), then checks, uniques, indexes.
        let mut removals = Vec::new();
        for kind in 0..3 {
            for (cur, new_t) in &surviving {
                let new_constraints = new_t.constraints();
                for c in cur.constraints() {
                    let k = match c {
                        Constraint::ForeignKey(_) => 0,
                        Constraint::Check(_) => 1,
                        Constraint::Unique(_) => 2,
                    };
                    if k == kind && !new_constraints.contains(&c) {
                        removals.push(Operation::RemoveConstraint { table: cur.name.clone(), constraint: c });
                    }
                }
            }
        }
        for (cur, new_t) in &surviving {
            for i in &cur.indexes {
                if !new_t.indexes.contains(i) && !renamed.contains_key(&(cur.name.clone(), i.name.clone())) {
                    let drop = Operation::DropIndex { table: cur.name.clone(), index: i.clone() };
                    if replaced_later(cur, new_t, i) {
                        self.replaced_indexes.push(drop);
                    } else {
                        removals.push(drop);
                    }
                }
            }
        }
        for op in removals {
            self.push(op)?;
        }
        Ok(())
    }

    /// Drops the indexes [`replaced_later`] kept until their replacements were built.
    fn drop_replaced_indexes(&mut self) -> Result<(), DiffError> {
        for op in std::mem::take(&mut self.replaced_indexes) {
            self.push(op)?;
        }
        Ok(())
    }

    fn remove_fields(&mut self, new: &Schema) -> Result<(), DiffError> {
        let mut removals = Vec::new();
        for cur in self.cur.tables.values() {
            let Some(new_t) = new.table(&cur.name) else { continue };
            let removed: Vec<_> = cur.columns.iter().filter(|c| new_t.column(&c.name).is_none()).collect();
            for c in &removed {
                if cur.primary_key.contains(&c.name) {
                    continue; // reported as a primary-key change
                }
                if let Some(added) = new_t.columns.iter().find(|n| cur.column(&n.name).is_none() && n.ty == c.ty) {
                    self.notes.push(Note::PossibleRename {
                        table: cur.name.clone(),
                        removed: c.name.clone(),
                        added: added.name.clone(),
                    });
                }
                removals.push(Operation::RemoveField { table: cur.name.clone(), column: (*c).clone() });
            }
        }
        for op in removals {
            self.push(op)?;
        }
        Ok(())
    }

    fn delete_tables(&mut self, deleted: &[Table]) -> Result<(), DiffError> {
        let refs: Vec<&Table> = deleted.iter().collect();
        let (order, deferred) = creation_order(&refs);
        for (table, fk) in &deferred {
            let constraint = deleted
                .iter()
                .find(|t| t.name == *table)
                .and_then(|t| t.foreign_keys.iter().find(|f| f.name == *fk))
                .cloned()
                .map(Constraint::ForeignKey);
            if let Some(constraint) = constraint {
                self.push(Operation::RemoveConstraint { table: table.clone(), constraint })?;
            }
        }
        for name in order.iter().rev() {
            if let Some(table) = self.cur.table(name).cloned() {
                self.push(Operation::DeleteModel { table })?;
            }
        }
        Ok(())
    }

    fn hint_table_renames(&mut self, deleted: &[Table], created: &[&Table]) {
        for d in deleted {
            let mut cols: Vec<_> = d.columns.iter().map(|c| (&c.name, &c.ty)).collect();
            cols.sort();
            for c in created {
                let mut new_cols: Vec<_> = c.columns.iter().map(|c| (&c.name, &c.ty)).collect();
                new_cols.sort();
                if cols == new_cols {
                    self.notes.push(Note::PossibleRename {
                        table: c.name.clone(),
                        removed: d.name.clone(),
                        added: c.name.clone(),
                    });
                }
            }
        }
    }

    fn create_tables(&mut self, created: &[&Table]) -> Result<(), DiffError> {
        let (order, deferred) = creation_order(created);
        for name in order {
            let Some(t) = created.iter().find(|t| t.name == name) else { continue };
            let mut table = (*t).clone();
            table.indexes.clear();
            table.foreign_keys.retain(|fk| !deferred.contains(&(name.clone(), fk.name.clone())));
            self.push(Operation::CreateModel { table })?;
        }
        Ok(())
    }

    fn add_fields(&mut self, new: &Schema, intent: &Intent) -> Result<(), DiffError> {
        let mut adds = Vec::new();
        for t in new.tables.values() {
            let Some(cur) = self.cur.table(&t.name) else { continue };
            for c in t.columns.iter().filter(|c| cur.column(&c.name).is_none()) {
                let fill = match (c.needs_fill(), intent.backfills.get(&(t.name.clone(), c.name.clone()))) {
                    (false, _) => None,
                    (true, Some(v)) => Some(v.clone()),
                    (true, None) => {
                        // The rename hint goes with the error: a refused diff has no notes.
                        let mut why = "is added as NOT NULL without a default".to_string();
                        // (The removed column of its type was noted as it was removed.)
                        let replaced = self.notes.iter().find_map(|n| match n {
                            Note::PossibleRename { table, removed, added } if *table == t.name && *added == c.name => {
                                Some(removed.clone())
                            }
                            _ => None,
                        });
                        if let Some(old) = replaced {
                            why.push_str(&format!(
                                " (if it is `{old}` renamed, say so with `#[model(renamed_from = \"{old}\")]`, which keeps its data and needs no value)"
                            ));
                        }
                        self.errors.push(DiffError::NeedsFill { table: t.name.clone(), column: c.name.clone(), why });
                        continue;
                    }
                };
                adds.push(Operation::AddField { table: t.name.clone(), column: c.clone(), fill });
            }
        }
        for op in adds {
            self.push(op)?;
        }
        Ok(())
    }

    fn alter_fields(&mut self, new: &Schema, intent: &Intent) -> Result<(), DiffError> {
        let mut alters = Vec::new();
        for t in new.tables.values() {
            let Some(cur) = self.cur.table(&t.name) else { continue };
            if cur.comment != t.comment {
                alters.push(Operation::AlterModelComment {
                    table: t.name.clone(),
                    old: cur.comment.clone(),
                    new: t.comment.clone(),
                });
            }
            for c in &t.columns {
                let Some(old) = cur.column(&c.name) else { continue };
                if old == c {
                    continue;
                }
                if !crate::operation::convertible(&old.ty, &c.ty) {
                    self.errors.push(DiffError::IncompatibleTypeChange {
                        table: t.name.clone(),
                        column: c.name.clone(),
                        old: old.ty.to_string(),
                        new: c.ty.to_string(),
                    });
                    continue;
                }
                let numbering = |c: &crate::schema::Column| match (c.auto_increment, c.serial) {
                    (false, _) => "not auto-increment",
                    (true, false) => "an identity column",
                    (true, true) => "a serial column",
                };
                if (old.auto_increment && old.serial) != (c.auto_increment && c.serial)
                    && numbering(old) != numbering(c)
                {
                    self.errors.push(DiffError::SerialChanged {
                        table: t.name.clone(),
                        column: c.name.clone(),
                        old: numbering(old).into(),
                        new: numbering(c).into(),
                    });
                    continue;
                }
                let becomes_not_null = old.nullable && !c.nullable;
                let backfill = intent.backfills.get(&(t.name.clone(), c.name.clone()));
                let fill = match (becomes_not_null, backfill, &c.default) {
                    (false, _, _) => None,
                    (true, Some(v), _) | (true, None, Some(v)) => Some(v.clone()),
                    (true, None, None) => {
                        self.errors.push(DiffError::NeedsFill {
                            table: t.name.clone(),
                            column: c.name.clone(),
                            why: "becomes NOT NULL".into(),
                        });
                        continue;
                    }
                };
                alters.push(Operation::AlterField { table: t.name.clone(), old: old.clone(), new: c.clone(), fill });
            }
        }
        for op in alters {
            self.push(op)?;
        }
        Ok(())
    }

    /// Added uniques and checks (`foreign_keys = false`), or added foreign keys, including
    /// those a cycle kept out of CreateModel. Foreign keys come after the indexes, so
    /// MySQL uses the declared index instead of making its own, and their reverse drops
    /// the foreign key before the index it needs.
    fn add_constraints(&mut self, new: &Schema, foreign_keys: bool) -> Result<(), DiffError> {
        let mut adds = Vec::new();
        for t in new.tables.values() {
            let Some(cur) = self.cur.table(&t.name) else { continue };
            if same_objects(cur, t) {
                continue;
            }
            let existing = cur.constraints();
            for c in t.constraints() {
                let is_fk = matches!(c, Constraint::ForeignKey(_));
                if is_fk == foreign_keys && !existing.contains(&c) {
                    adds.push(Operation::AddConstraint { table: t.name.clone(), constraint: c });
                }
            }
        }
        for op in adds {
            self.push(op)?;
        }
        Ok(())
    }

    fn create_indexes(&mut self, new: &Schema, renamed: &BTreeMap<(String, String), String>) -> Result<(), DiffError> {
        let mut creates = Vec::new();
        for t in new.tables.values() {
            let Some(cur) = self.cur.table(&t.name) else { continue };
            let renamed_to: BTreeSet<&String> =
                renamed.iter().filter(|((table, _), _)| *table == t.name).map(|(_, new)| new).collect();
            for i in &t.indexes {
                if !cur.indexes.contains(i) && !renamed_to.contains(&i.name) {
                    creates.push(Operation::CreateIndex { table: t.name.clone(), index: i.clone() });
                }
            }
        }
        for op in creates {
            self.push(op)?;
        }
        Ok(())
    }

    fn rename_indexes(&mut self, renamed: &BTreeMap<(String, String), String>) -> Result<(), DiffError> {
        for ((table, old), new_name) in renamed {
            self.push(Operation::RenameIndex { table: table.clone(), old: old.clone(), new: new_name.clone() })?;
        }
        Ok(())
    }

    fn note_inert_backfills(&mut self, new: &Schema, intent: &Intent) {
        let used: BTreeSet<(String, String)> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Operation::AddField { table, column, fill: Some(_) } => Some((table.clone(), column.name.clone())),
                Operation::AlterField { table, new, fill: Some(_), .. } => Some((table.clone(), new.name.clone())),
                _ => None,
            })
            .collect();
        for key in intent.backfills.keys() {
            if !used.contains(key) && new.table(&key.0).is_some() {
                self.notes.push(Note::InertBackfill { table: key.0.clone(), column: key.1.clone() });
            }
        }
    }
}

/// Whether two versions of a table have the same indexes and constraints (in the same
/// order): the common case, checked without building anything.
fn same_objects(a: &Table, b: &Table) -> bool {
    a.indexes == b.indexes && a.uniques == b.uniques && a.checks == b.checks && a.foreign_keys == b.foreign_keys
}

/// Whether the index `old` of `cur`, gone from `new`, is replaced by one `new` adds
/// that leads with the same key, under another name: it is then dropped only after the
/// new one is built, so that the queries (and the foreign-key checks) it served never
/// go without an index while the new one is built, which on a live table takes a while.
fn replaced_later(cur: &Table, new: &Table, old: &Index) -> bool {
    let name_free = !new.object_names().any(|n| n == old.name);
    // (A column that changes type changes with the index on it gone: MySQL cannot index
    // every type, and a type change rebuilds the index anyway.)
    let columns_stay = old.column_names().all(|c| match (cur.column(c), new.column(c)) {
        (Some(was), Some(is)) => was.ty == is.ty,
        _ => false,
    });
    let replacement = new
        .indexes
        .iter()
        .any(|i| !cur.indexes.iter().any(|c| c.name == i.name) && i.columns.first() == old.columns.first());
    name_free && columns_stay && replacement
}

fn same_index_def(a: &Index, b: &Index) -> bool {
    a.definition() == b.definition()
}

/// The new schema with generated names replaced by the names already in `cur` for the
/// same definition (table, kind, ordered columns): names are fixed when an object is
/// created and kept through renames. An object matched this way is kept exactly as it is.
pub fn resolve_names(cur: &Schema, new: &Schema) -> Schema {
    let mut out = new.clone();
    // Views are the migrations' own (models declare none): they stay as they are.
    out.views.clone_from(&cur.views);
    out.raw.clone_from(&cur.raw);
    for t in out.tables.values_mut() {
        let Some(c) = cur.table(&t.name) else { continue };
        for i in t.indexes.iter_mut().filter(|i| !i.explicit_name) {
            if let Some(old) = c.indexes.iter().find(|o| same_index_def(o, i)) {
                *i = old.clone();
            }
        }
        for u in t.uniques.iter_mut().filter(|u| !u.explicit_name) {
            if let Some(old) = c.uniques.iter().find(|o| o.columns == u.columns) {
                *u = old.clone();
            }
        }
        for f in t.foreign_keys.iter_mut().filter(|f| !f.explicit_name) {
            if let Some(old) = c
                .foreign_keys
                .iter()
                .find(|o| o.columns == f.columns && o.ref_table == f.ref_table && o.ref_columns == f.ref_columns)
            {
                f.name = old.name.clone();
                f.explicit_name = old.explicit_name;
            }
        }
    }
    out
}
