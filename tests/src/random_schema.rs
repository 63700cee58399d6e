//! Random schemas for property tests, built from a byte string so that proptest can
//! generate and shrink them. Every schema is valid on all three backends: indexed and
//! unique columns have types MySQL can index, foreign keys point at primary keys of the
//! same type, and names stay short.

use migrations_core::diff::Intent;
use migrations_core::operation::zero_value;
use migrations_core::schema::{
    names, Check, Column, ColumnType, DefaultValue, Deferrable, EnumType, FkAction, ForeignKey, Index, KeyOptions,
    Schema, Table, Unique,
};
use migrations_core::Dialect;
use proptest::prelude::*;

const TABLES: [&str; 4] = ["alpha", "beta", "gamma", "select"];
const COLUMNS: [&str; 6] = ["name", "size", "Mixed Case", "order", "at", "quo\"te"];

/// Reads choices from bytes; past the end every choice is 0. The last field is the
/// schema's enumerated type: every column of it has the one list.
struct Bytes<'a>(&'a [u8], usize, Types, EnumType);

/// Which types the schemas may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Types {
    /// What every dialect has.
    Portable,
    /// Also what PostgreSQL and SQLite have and MySQL has not (`varchar` without a
    /// length, deferrable foreign keys, partial indexes).
    NotMySql,
    /// Also what only PostgreSQL has (NULLS order and INCLUDE in an index, arrays, NOT
    /// VALID constraints).
    Postgres,
}

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
    fn below(&mut self, n: u8) -> u8 {
        self.next() % n
    }
    fn flag(&mut self) -> bool {
        self.next() % 2 == 1
    }
    fn chance(&mut self, in_four: u8) -> bool {
        self.below(4) < in_four
    }
}

/// A type for column `name`. Each column name keeps to one family of types that convert
/// into each other, so random pairs change types the way people do.
fn column_type(name: &str, b: &mut Bytes) -> ColumnType {
    match name {
        "name" => match b.below(4) {
            // An enumerated type converts to and from text.
            3 => ColumnType::Enum(b.3.clone()),
            0 if b.2 != Types::Portable && b.flag() => ColumnType::UnboundedVarchar,
            // (MySQL cannot index its stand-in for `citext`.)
            1 if b.2 != Types::Portable && b.flag() => ColumnType::CiText,
            0 => ColumnType::Text,
            _ => ColumnType::Varchar(20 + 10 * u32::from(b.below(3))),
        },
        "size" => match b.below(5) {
            0 => ColumnType::SmallInt,
            1 => ColumnType::Integer,
            2 => ColumnType::BigInt,
            3 => ColumnType::Double,
            _ => ColumnType::Decimal { precision: 10 + u32::from(b.below(3)), scale: u32::from(b.below(3)) },
        },
        "Mixed Case" => match b.below(3) {
            0 => ColumnType::Date,
            1 => ColumnType::Timestamp,
            _ => ColumnType::TimestampTz,
        },
        "order" => match b.below(2) {
            0 => ColumnType::Boolean,
            _ => ColumnType::Varchar(10),
        },
        _ => match b.below(2) {
            0 => ColumnType::Uuid,
            _ => ColumnType::Varchar(40),
        },
    }
}

fn indexable(ty: &ColumnType) -> bool {
    !matches!(ty, ColumnType::Text | ColumnType::Binary | ColumnType::Json | ColumnType::Array(_))
}

fn default_for(ty: &ColumnType, b: &mut Bytes) -> Option<DefaultValue> {
    if !b.chance(1) {
        return None;
    }
    Some(match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => {
            DefaultValue::Number(format!("{}", i32::from(b.next()) - 100))
        }
        ColumnType::Decimal { scale: 0, .. } => DefaultValue::Number(format!("{}", b.below(50))),
        ColumnType::Double | ColumnType::Decimal { .. } => DefaultValue::Number(format!("{}.5", b.below(50))),
        ColumnType::Boolean => DefaultValue::Bool(b.flag()),
        ColumnType::Varchar(_) | ColumnType::UnboundedVarchar | ColumnType::Text | ColumnType::CiText => {
            DefaultValue::Text(["", "x", "it's", "naïve"][usize::from(b.below(4))].into())
        }
        ColumnType::Enum(e) => DefaultValue::Text(e.values[usize::from(b.next()) % e.values.len()].clone()),
        ColumnType::Date => DefaultValue::Expr("current_date".into()),
        // Either the portable name, or each database's own clock.
        ColumnType::Timestamp | ColumnType::TimestampTz if b.flag() => {
            DefaultValue::expr_for(Dialect::Postgres, "clock_timestamp()")
                .and_for(Dialect::MySql, "CURRENT_TIMESTAMP(6)")
                .and_for(Dialect::Sqlite, "CURRENT_TIMESTAMP")
        }
        ColumnType::Timestamp | ColumnType::TimestampTz => DefaultValue::Expr("now()".into()),
        _ => return None,
    })
}

/// Builds one schema from bytes.
pub fn build(bytes: &[u8]) -> Schema {
    build_with(bytes, Types::Portable)
}

fn build_with(bytes: &[u8], types: Types) -> Schema {
    let mut b = Bytes(bytes, 0, types, EnumType::default());
    // The list: some of four values (one at least), in this order or the other.
    let mut values: Vec<String> =
        ["happy", "sad", "it's ok", "meh"].iter().filter(|_| b.chance(3)).map(|v| v.to_string()).collect();
    if values.is_empty() {
        values.push("meh".into());
    }
    if b.chance(1) {
        values.reverse();
    }
    // Its name: one of two, so that a change may rename the type.
    let name = if b.chance(1) { "feeling" } else { "mood" };
    b.3 = EnumType { name: name.into(), values };
    let present: Vec<&str> = TABLES.iter().copied().filter(|_| b.chance(3)).collect();
    let mut schema = Schema::new();
    for name in &present {
        let mut t = Table::new(*name);
        let mut id = Column::new("id", ColumnType::BigInt);
        id.auto_increment = b.flag();
        t.columns.push(id);
        t.primary_key = vec!["id".into()];
        for col in COLUMNS {
            if !b.chance(2) {
                continue;
            }
            let ty = column_type(col, &mut b);
            let mut c = Column::new(col, ty.clone());
            c.nullable = b.flag();
            c.default = default_for(&ty, &mut b);
            if b.chance(1) {
                c.comment = Some(format!("the {col}"));
            }
            t.columns.push(c);
        }
        // PostgreSQL's arrays, of one family so that changes convert.
        if b.2 == Types::Postgres && b.chance(1) {
            let element = if b.flag() { ColumnType::Text } else { ColumnType::Varchar(20) };
            let mut c = Column::new("tags", ColumnType::array_of(element));
            c.nullable = b.flag();
            t.columns.push(c);
        }
        for other in &present {
            if *other == *name || !b.chance(1) {
                continue;
            }
            let col = format!("{other}_id");
            let mut c = Column::new(&col, ColumnType::BigInt);
            c.nullable = b.flag();
            t.columns.push(c.clone());
            let action = match b.below(4) {
                0 => FkAction::NoAction,
                1 => FkAction::Cascade,
                2 if c.nullable => FkAction::SetNull,
                _ => FkAction::Restrict,
            };
            let cols = vec![col.clone()];
            // (MySQL has no deferrable keys; the portable stream of choices is unchanged.)
            let deferrable = match b.2 {
                Types::NotMySql | Types::Postgres => {
                    [Deferrable::No, Deferrable::InitiallyImmediate, Deferrable::InitiallyDeferred]
                        [usize::from(b.below(3))]
                }
                Types::Portable => Deferrable::No,
            };
            t.foreign_keys.push(ForeignKey {
                name: names::foreign_key(name, &cols, other),
                columns: cols.clone(),
                ref_table: other.to_string(),
                ref_columns: vec!["id".into()],
                on_delete: action,
                on_update: FkAction::NoAction,
                deferrable,
                not_valid: b.2 == Types::Postgres && b.chance(1),
                explicit_name: false,
            });
            t.indexes.push(Index { name: names::index(name, &cols, false), columns: cols, ..Index::default() });
        }
        let candidates: Vec<String> =
            t.columns.iter().filter(|c| c.name != "id" && indexable(&c.ty)).map(|c| c.name.clone()).collect();
        if let [first, rest @ ..] = candidates.as_slice() {
            if b.chance(2) {
                let mut cols = vec![first.clone()];
                if let (Some(second), true) = (rest.first(), b.flag()) {
                    cols.push(second.clone());
                }
                let unique = b.flag();
                let mut index = Index {
                    name: names::index(name, &cols, unique),
                    columns: cols.clone(),
                    unique,
                    explicit_name: false,
                    ..Index::default()
                };
                // Index options, each where the dialect has it. (A predicate names only
                // `id`, which no rename touches: a database follows a renamed column into
                // an index's SQL, and the snapshot keeps the SQL as written.)
                let last = &cols[cols.len() - 1];
                if b.chance(1) {
                    index.set_key(last, KeyOptions { descending: true, ..KeyOptions::default() });
                }
                if b.2 != Types::Portable && b.chance(1) {
                    index.predicate = Some("\"id\" > 0".into());
                }
                if b.2 == Types::Postgres {
                    if b.chance(1) {
                        let options = KeyOptions { nulls_first: Some(true), ..index.key(0) };
                        index.set_key(&cols[0], options);
                    }
                    if let (Some(extra), true) = (rest.iter().find(|c| !cols.contains(c)), b.chance(1)) {
                        index.include = vec![extra.clone()];
                    }
                }
                if !t.indexes.iter().any(|i| i.name == index.name) {
                    t.indexes.push(index);
                }
            }
            if let (Some(last), true) = (candidates.last(), b.chance(1)) {
                let cols = vec![last.clone()];
                t.uniques.push(Unique { name: names::unique(name, &cols), columns: cols, explicit_name: false });
            }
        }
        let auto_id = t.columns.first().is_some_and(|c| c.auto_increment);
        if b.chance(1) && !auto_id {
            t.checks.push(Check {
                name: format!("ck_{name}_id"),
                expr: "\"id\" >= 0".replace('"', if b.flag() { "\"" } else { "" }),
                not_valid: b.2 == Types::Postgres && b.chance(1),
            });
        }
        if b.chance(1) {
            t.comment = Some(format!("table {name}"));
        }
        schema.tables.insert(name.to_string(), t);
    }
    schema
}

/// A backfill for every column of `new` that would need one, as a model would give.
pub fn backfills_for(new: &Schema) -> Intent {
    let mut intent = Intent::default();
    for t in new.tables.values() {
        for c in &t.columns {
            intent.backfills.insert((t.name.clone(), c.name.clone()), zero_value(&c.ty));
        }
    }
    intent
}

/// [`backfills_for`] plus renames: each table of `new` missing from `old` is said to
/// be renamed from a table of `old` missing from `new` (pairing them in name order), and
/// likewise for columns of tables in both.
pub fn with_renames(old: &Schema, new: &Schema) -> Intent {
    let mut intent = backfills_for(new);
    let gone: Vec<&String> = old.tables.keys().filter(|k| !new.tables.contains_key(*k)).collect();
    let added: Vec<&String> = new.tables.keys().filter(|k| !old.tables.contains_key(*k)).collect();
    for (from, to) in gone.iter().zip(added.iter()) {
        intent.table_renames.insert((*to).clone(), (*from).clone());
    }
    for t in new.tables.values() {
        let source = intent.table_renames.get(&t.name).unwrap_or(&t.name);
        let Some(o) = old.table(source) else { continue };
        let gone: Vec<&Column> =
            o.columns.iter().filter(|c| t.column(&c.name).is_none() && !c.name.ends_with("_id")).collect();
        let added: Vec<&Column> =
            t.columns.iter().filter(|c| o.column(&c.name).is_none() && !c.name.ends_with("_id")).collect();
        for (from, to) in
            gone.iter().zip(added.iter()).filter(|(f, t)| migrations_core::operation::convertible(&f.ty, &t.ty))
        {
            intent.column_renames.insert((t.name.clone(), to.name.clone()), from.name.clone());
        }
    }
    // The enumerated type renamed, if its name changed, and its values that go renamed
    // to the ones that come.
    let (before, after) = (old.enums(), new.enums());
    if let (Some(a), Some(b)) = (before.values().next(), after.values().next()) {
        if a.name != b.name {
            intent.enum_renames.insert(b.name.clone(), a.name.clone());
        }
        let gone = a.values.iter().filter(|v| !b.values.contains(v));
        let come = b.values.iter().filter(|v| !a.values.contains(v));
        for (from, to) in gone.zip(come) {
            intent.enum_value_renames.insert((b.name.clone(), to.clone()), from.clone());
        }
    }
    intent
}

/// A strategy for a random schema.
///
/// The schemas pass [`migrations_core::portability::check`] for every dialect.
pub fn schema() -> impl Strategy<Value = Schema> {
    prop::collection::vec(any::<u8>(), 0..160).prop_map(|bytes| build(&bytes))
}

/// A strategy for a random schema that `dialect` can hold: [`schema`], and on PostgreSQL
/// and SQLite also what MySQL has not (`varchar` without a length, deferrable keys,
/// partial indexes), on PostgreSQL also NULLS order and INCLUDE.
pub fn schema_for(dialect: Dialect) -> impl Strategy<Value = Schema> {
    let types = match dialect {
        Dialect::MySql => Types::Portable,
        Dialect::Sqlite => Types::NotMySql,
        Dialect::Postgres => Types::Postgres,
    };
    prop::collection::vec(any::<u8>(), 0..160).prop_map(move |bytes| build_with(&bytes, types))
}
