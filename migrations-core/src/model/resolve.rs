//! Putting parsed models together: unique table names, foreign keys resolved against
//! the other models, and the autodetector's hints (renames, backfills).

use std::collections::BTreeMap;

use super::{DbEnum, Model, RefTarget};
use crate::diff::Intent;
use crate::schema::{names, ColumnType, Deferrable, FkAction, ForeignKey, Schema};

/// Every model of a crate, resolved into one schema.
#[derive(Debug, Clone)]
pub struct ModelSet {
    /// The models as parsed, in the order given.
    pub models: Vec<Model>,
    /// The schema they declare.
    pub schema: Schema,
    /// What the models say beyond the schema: renames and backfills.
    pub intent: Intent,
}

impl ModelSet {
    /// The model that declares `table`.
    pub fn model_for_table(&self, table: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.table.name == table)
    }
}

/// Resolves `models` into one schema. `external` holds tables owned elsewhere (other
/// apps) that references may point at. Every problem is reported, each at its span.
pub fn resolve_models(models: Vec<Model>, enums: &[DbEnum], external: &Schema) -> Result<ModelSet, syn::Error> {
    resolve_models_indexed(models, enums, external).map_err(|errors| {
        let mut all = errors.into_iter().map(|(_, e)| e);
        let mut first = all.next().unwrap_or_else(|| syn::Error::new(proc_macro2::Span::call_site(), "invalid models"));
        first.extend(all);
        first
    })
}

/// Errors each with the index of the model they belong to.
struct Errors(Vec<(usize, syn::Error)>);

impl Errors {
    fn error_at(&mut self, model: usize, span: proc_macro2::Span, message: impl std::fmt::Display) {
        self.0.push((model, syn::Error::new(span, message)));
    }
}

/// [`resolve_models`], with each error tagged with the index of its model in `models`,
/// so a caller that read models from several files can say which file.
/// `enums` are the crate's `#[derive(DbEnum)]` enums, which fields name by type.
pub fn resolve_models_indexed(
    models: Vec<Model>,
    enums: &[DbEnum],
    external: &Schema,
) -> Result<ModelSet, Vec<(usize, syn::Error)>> {
    let mut cx = Errors(Vec::new());
    let mut models = models;
    resolve_enums(&mut models, enums, &mut cx);
    let mut schema = Schema::new();
    let mut by_struct: BTreeMap<String, &Model> = BTreeMap::new();
    for (mi, m) in models.iter().enumerate() {
        if let Some(prev) = schema.tables.get(&m.table.name) {
            let other =
                models.iter().find(|o| o.table.name == prev.name).map(|o| o.ident.to_string()).unwrap_or_default();
            cx.error_at(
                mi,
                m.span,
                format!(
                    "table `{}` is declared by two models (`{other}` and `{}`); give one `#[model(table = \"...\")]`",
                    m.table.name, m.ident
                ),
            );
            continue;
        }
        schema.tables.insert(m.table.name.clone(), m.table.clone());
        by_struct.insert(m.ident.to_string(), m);
    }

    for (mi, m) in models.iter().enumerate() {
        for r in &m.references {
            let (table, column) = match &r.target {
                RefTarget::Model { name, .. } => match by_struct.get(name) {
                    Some(target) => match target.table.primary_key.as_slice() {
                        [pk] => (target.table.name.clone(), pk.clone()),
                        _ => {
                            cx.error_at(mi, r.span, format!("`{name}` has no single-column primary key to reference; write `references = \"table(column)\"`"));
                            continue;
                        }
                    },
                    None => {
                        cx.error_at(mi, r.span, format!("no model `{name}` in this crate; for a table of another app write `references = \"app.table(column)\"`"));
                        continue;
                    }
                },
                RefTarget::Table { table, column, .. } => (table.clone(), column.clone()),
            };
            let Some(target) = schema.table(&table).or_else(|| external.table(&table)) else {
                cx.error_at(mi, r.span, format!("`references` names table `{table}`, which no model declares"));
                continue;
            };
            let Some(target_col) = target.column(&column) else {
                cx.error_at(mi, r.span, format!("table `{table}` has no column `{column}`"));
                continue;
            };
            let is_key =
                target.primary_key == [column.clone()] || target.uniques.iter().any(|u| u.columns == [column.clone()]);
            if !is_key {
                cx.error_at(mi, r.span, format!("`{table}.{column}` is neither the primary key nor unique, so it cannot be referenced; add `unique` to it"));
                continue;
            }
            let own = m.table.column(&r.column).map(|c| c.ty.clone());
            if let Some(own) = own {
                if !compatible(&own, &target_col.ty) {
                    cx.error_at(
                        mi,
                        r.span,
                        format!(
                            "`{}.{}` is {own} but references `{table}.{column}`, which is {}; the types must match",
                            m.table.name, r.column, target_col.ty
                        ),
                    );
                    continue;
                }
            }
            let options = (r.name.as_ref(), r.on_delete, r.on_update, r.deferrable, r.not_valid);
            let fk = foreign_key(&m.table.name, vec![r.column.clone()], table, vec![column], options);
            if let Some(t) = schema.tables.get_mut(&m.table.name) {
                t.foreign_keys.push(fk);
            }
        }
    }

    for (mi, m) in models.iter().enumerate() {
        for k in &m.foreign_keys {
            let Some(target) = schema.table(&k.table).or_else(|| external.table(&k.table)) else {
                cx.error_at(
                    mi,
                    k.span,
                    format!("`foreign_key` references table `{}`, which no model declares", k.table),
                );
                continue;
            };
            if let Some(c) = k.ref_columns.iter().find(|c| target.column(c).is_none()) {
                cx.error_at(mi, k.span, format!("table `{}` has no column `{c}`", k.table));
                continue;
            }
            let is_key =
                target.primary_key == k.ref_columns || target.uniques.iter().any(|u| u.columns == k.ref_columns);
            if !is_key {
                cx.error_at(
                    mi,
                    k.span,
                    format!(
                        "`{}({})` is neither the primary key nor a unique of `{}`, so it cannot be referenced; add `unique({})` to its model",
                        k.table,
                        k.ref_columns.join(", "),
                        k.table,
                        k.ref_columns.join(", ")
                    ),
                );
                continue;
            }
            let mismatch = k.columns.iter().zip(&k.ref_columns).find_map(|(own, theirs)| {
                let own_ty = m.table.column(own).map(|c| c.ty.clone())?;
                let their_ty = target.column(theirs).map(|c| c.ty.clone())?;
                (!compatible(&own_ty, &their_ty)).then(|| format!("`{}.{own}` is {own_ty} but references `{}.{theirs}`, which is {their_ty}; the types must match", m.table.name, k.table))
            });
            if let Some(message) = mismatch {
                cx.error_at(mi, k.span, message);
                continue;
            }
            let options = (k.name.as_ref(), k.on_delete, k.on_update, k.deferrable, k.not_valid);
            let fk = foreign_key(&m.table.name, k.columns.clone(), k.table.clone(), k.ref_columns.clone(), options);
            if let Some(t) = schema.tables.get_mut(&m.table.name) {
                t.foreign_keys.push(fk);
            }
        }
    }

    // Index and constraint names that clash are a matter of the target databases:
    // `portability::check` (PostgreSQL and SQLite share one namespace per schema).

    let mut intent = Intent::default();
    for e in enums {
        if let Some(old) = &e.type_renamed_from {
            intent.enum_renames.insert(e.ty.name.clone(), old.clone());
        }
        for (old, new) in &e.renamed_from {
            intent.enum_value_renames.insert((e.ty.name.clone(), new.clone()), old.clone());
        }
    }
    for m in &models {
        if let Some(old) = &m.renamed_from {
            intent.table_renames.insert(m.table.name.clone(), old.clone());
        }
        for f in &m.fields {
            if let Some(old) = &f.renamed_from {
                intent.column_renames.insert((m.table.name.clone(), f.column.clone()), old.clone());
            }
            if let Some(v) = &f.backfill {
                intent.backfills.insert((m.table.name.clone(), f.column.clone()), v.clone());
            }
        }
    }
    if !cx.0.is_empty() {
        return Err(cx.0);
    }
    Ok(ModelSet { models, schema, intent })
}

/// Gives each field whose type is a `DbEnum` its type's name and list, from the enum of
/// that name; and refuses a field whose type is no enum of the crate, a default that is
/// none of the values, and a type that has a table's name (PostgreSQL keeps them in one
/// namespace).
fn resolve_enums(models: &mut [Model], enums: &[DbEnum], cx: &mut Errors) {
    for (i, e) in enums.iter().enumerate() {
        if let Some(other) = enums[..i].iter().find(|o| o.ty.name == e.ty.name || o.ident == e.ident) {
            cx.error_at(
                0,
                e.span,
                format!(
                    "enums `{}` and `{}` both declare the type `{}` (or share a name); give one `#[db_enum(name = \"...\")]` or rename it",
                    other.ident, e.ident, e.ty.name
                ),
            );
        }
    }
    // (Only a crate with enums needs the table names.)
    let tables: Vec<String> =
        if enums.is_empty() { Vec::new() } else { models.iter().map(|m| m.table.name.clone()).collect() };
    for (mi, m) in models.iter_mut().enumerate() {
        let Model { table, fields, span: model_span, .. } = m;
        for column in &mut table.columns {
            let Some(pending) = column.ty.enum_type_mut().filter(|e| e.values.is_empty()) else { continue };
            let span = fields.iter().find(|f| f.column == column.name).map_or(*model_span, |f| f.span);
            let Some(found) = enums.iter().find(|e| e.ident == pending.name.as_str()) else {
                cx.error_at(
                    mi,
                    span,
                    format!(
                        "field `{}`: type `{}` is neither a column type Chakra knows nor a `#[derive(DbEnum)]` enum of \
                         this crate; derive `DbEnum` for it, or give `#[model(column_type = \"...\")]`",
                        column.name, pending.name
                    ),
                );
                continue;
            };
            *pending = found.ty.clone();
            if tables.contains(&found.ty.name) {
                cx.error_at(
                    mi,
                    found.span,
                    format!(
                        "enum type `{}` has the name of a table, which PostgreSQL refuses (a table's row type has its \
                         name); give the enum `#[db_enum(name = \"...\")]`",
                        found.ty.name
                    ),
                );
            }
            if let Some(crate::schema::DefaultValue::Text(v)) = &column.default {
                if !found.ty.values.contains(v) {
                    cx.error_at(
                        mi,
                        span,
                        format!("default '{v}' of `{}` is not a value of `{}`: {}", column.name, found.ident, found.ty),
                    );
                }
            }
        }
    }
}

/// The foreign key of `table`'s `columns` to `ref_table(ref_columns)`, as a field's
/// `references` or a struct's `foreign_key(...)` declares it: (its name, if given; on
/// delete; on update; when it is checked; whether rows already there are). Without a
/// name it gets the generated one.
fn foreign_key(
    table: &str,
    columns: Vec<String>,
    ref_table: String,
    ref_columns: Vec<String>,
    (name, on_delete, on_update, deferrable, not_valid): (Option<&String>, FkAction, FkAction, Deferrable, bool),
) -> ForeignKey {
    ForeignKey {
        name: name.cloned().unwrap_or_else(|| names::foreign_key(table, &columns, &ref_table)),
        columns,
        ref_table,
        ref_columns,
        on_delete,
        on_update,
        deferrable,
        not_valid,
        explicit_name: name.is_some(),
    }
}

fn compatible(a: &ColumnType, b: &ColumnType) -> bool {
    a == b || (a.is_string() && b.is_string())
}
