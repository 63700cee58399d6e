//! What the model language cannot say, taken out of a schema read from a database and
//! turned into SQL steps: unique indexes that are not constraints, a second unique over
//! the same columns, foreign keys over several columns, to a column that is not a key,
//! or to a table left out.

use migrations_core::render::render;
use migrations_core::schema::{Constraint, Schema, Table};
use migrations_core::{Dialect, Operation};

use super::RawStep;
use crate::error::{Error, Result};

/// Moves what the model language cannot say out of `schema` into SQL steps: unique
/// indexes that are not constraints, and foreign keys over several columns or to a
/// column that is neither the primary key nor unique.
pub(super) fn split(schema: &Schema, dialect: Dialect) -> Result<(Schema, Vec<RawStep>)> {
    // (what, its table when the table's drop drops it, the operation that creates it,
    // the one that drops it, and the one that takes it out of the models)
    let mut moved: Vec<(String, Option<String>, Operation, Operation, Operation)> = Vec::new();
    // What the drops are rendered against: the schema, with a unique that MySQL or
    // SQLite drops as an index listed as one.
    let mut drops_on = schema.clone();
    for table in schema.tables.values() {
        let name = || table.name.clone();
        for ix in table.indexes.iter().filter(|ix| ix.unique) {
            moved.push((
                format!("index {} on {}", ix.name, table.name),
                Some(name()),
                Operation::CreateIndex { table: name(), index: ix.clone() },
                Operation::DropIndex { table: name(), index: ix.clone() },
                Operation::DropIndex { table: name(), index: ix.clone() },
            ));
        }
        // The models hold one unique per set of columns; another is SQL (on MySQL and
        // SQLite a unique index, which is what it is there).
        let mut seen: Vec<&Vec<String>> = Vec::new();
        for u in &table.uniques {
            if !seen.contains(&&u.columns) {
                seen.push(&u.columns);
                continue;
            }
            let (create, drop) = if dialect == Dialect::Postgres {
                let constraint = Constraint::Unique(u.clone());
                (
                    Operation::AddConstraint { table: name(), constraint: constraint.clone() },
                    Operation::RemoveConstraint { table: name(), constraint },
                )
            } else {
                let index = migrations_core::schema::Index { explicit_name: true, ..u.as_index() };
                if let Some(t) = drops_on.tables.get_mut(&table.name) {
                    t.indexes.push(index.clone());
                }
                (
                    Operation::CreateIndex { table: name(), index: index.clone() },
                    Operation::DropIndex { table: name(), index },
                )
            };
            let what = if dialect == Dialect::Postgres { "constraint" } else { "index" };
            let out = Operation::RemoveConstraint { table: name(), constraint: Constraint::Unique(u.clone()) };
            moved.push((format!("{what} {} on {}", u.name, table.name), None, create, drop, out));
        }
        for fk in &table.foreign_keys {
            let to_key = schema.table(&fk.ref_table).is_some_and(|r| {
                r.primary_key == fk.ref_columns || r.uniques.iter().any(|u| u.columns == fk.ref_columns)
            });
            if to_key {
                continue;
            }
            if dialect == Dialect::Sqlite {
                return Err(Error::Usage(format!(
                    "{}: the foreign key ({}) to {} cannot be written as a model (it spans several columns or references a column that is not a key), and SQLite cannot add it to an existing table; adopt the other tables with --tables",
                    table.name,
                    fk.columns.join(", "),
                    fk.ref_table
                )));
            }
            let constraint = Constraint::ForeignKey(fk.clone());
            moved.push((
                format!("constraint {} on {}", fk.name, table.name),
                None,
                Operation::AddConstraint { table: name(), constraint: constraint.clone() },
                Operation::RemoveConstraint { table: name(), constraint: constraint.clone() },
                Operation::RemoveConstraint { table: name(), constraint },
            ));
        }
    }
    // Each is created on the tables without it, and dropped from the tables with it.
    let mut kept = schema.clone();
    if dialect == Dialect::Sqlite {
        same_integer_width(&mut kept);
    }
    for (_, _, _, _, out) in &moved {
        kept.apply(out).map_err(|e| Error::Usage(e.to_string()))?;
    }
    let sql = |op: &Operation, on: &Schema| -> Result<String> {
        render(op, on, dialect).map(|s| s.join(";\n")).map_err(|e| Error::Usage(e.to_string()))
    };
    // A foreign key to a table left out (`--tables`) is rendered against a stand-in for it.
    let mut creates_on = kept.clone();
    for (_, _, create, _, _) in &moved {
        if let Operation::AddConstraint { table, constraint: Constraint::ForeignKey(fk) } = create {
            if creates_on.table(&fk.ref_table).is_none() {
                let own = schema.table(table);
                let mut stand_in = Table::new(fk.ref_table.clone());
                for (column, ours) in fk.ref_columns.iter().zip(&fk.columns) {
                    let ty = own.and_then(|t| t.column(ours)).map(|c| c.ty.clone());
                    stand_in
                        .columns
                        .push(migrations_core::Column::new(column, ty.unwrap_or(migrations_core::ColumnType::BigInt)));
                }
                creates_on.tables.insert(fk.ref_table.clone(), stand_in);
            }
        }
    }
    let mut raw = Vec::new();
    for (what, table, create, drop, _) in &moved {
        raw.push(RawStep {
            what: what.clone(),
            create: sql(create, &creates_on)?,
            drop: sql(drop, &drops_on)?,
            table: table.clone(),
            before_tables: false,
            kept: None,
        });
    }
    Ok((kept, raw))
}

/// SQLite: a column that references an integer key gets the key's declared width (an
/// `INTEGER` column referencing the 64-bit rowid becomes `BigInt`), which the models ask
/// for and which SQLite stores the same way.
fn same_integer_width(schema: &mut Schema) {
    use migrations_core::ColumnType::{BigInt, Integer, SmallInt};
    let mut changes = Vec::new();
    for t in schema.tables.values() {
        for fk in t.foreign_keys.iter().filter(|fk| fk.columns.len() == 1) {
            let target = schema.table(&fk.ref_table).and_then(|r| r.column(&fk.ref_columns[0]));
            let target_ty = target.map(|c| if c.auto_increment { BigInt } else { c.ty.clone() });
            let own = t.column(&fk.columns[0]).map(|c| &c.ty);
            if let (Some(own @ (SmallInt | Integer | BigInt)), Some(to @ (SmallInt | Integer | BigInt))) =
                (own, target_ty)
            {
                if *own != to {
                    changes.push((t.name.clone(), fk.columns[0].clone(), to));
                }
            }
        }
    }
    for (table, column, ty) in changes {
        if let Some(c) = schema.tables.get_mut(&table).and_then(|t| t.column_mut(&column)) {
            c.ty = ty;
        }
    }
}
