//! Operations: the steps a migration is made of. Each knows its reverse and whether it
//! can lose data.

use std::collections::BTreeMap;
use std::fmt;

use crate::dialect::Dialect;
use crate::schema::{Column, ColumnType, Constraint, DefaultValue, Index, RawSql, Table, View};

/// One schema change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Create a table with its columns, primary key and constraints (indexes follow as
    /// [`Operation::CreateIndex`]).
    CreateModel {
        /// The table as created.
        table: Table,
    },
    /// Drop a table with its indexes. Carries the table as it was, so the reverse can
    /// re-create it.
    DeleteModel {
        /// The table as it was.
        table: Table,
    },
    /// Rename a table, keeping its data.
    RenameModel {
        /// Old name.
        old: String,
        /// New name.
        new: String,
    },
    /// Change a table's comment.
    AlterModelComment {
        /// Table name.
        table: String,
        /// Comment before.
        old: Option<String>,
        /// Comment after.
        new: Option<String>,
    },
    /// Add a column. `fill` is a one-off value for rows that already exist (a
    /// `backfill`), not kept as a default.
    AddField {
        /// Table name.
        table: String,
        /// The new column.
        column: Column,
        /// One-off value for existing rows.
        fill: Option<DefaultValue>,
    },
    /// Drop a column. Carries the column as it was.
    RemoveField {
        /// Table name.
        table: String,
        /// The column as it was.
        column: Column,
    },
    /// Change a column's type, nullability, default, comment or auto-increment.
    AlterField {
        /// Table name.
        table: String,
        /// The column before.
        old: Column,
        /// The column after.
        new: Column,
        /// One-off value for existing NULLs when the column becomes NOT NULL.
        fill: Option<DefaultValue>,
    },
    /// Rename a column, keeping its data.
    RenameField {
        /// Table name.
        table: String,
        /// Old column name.
        old: String,
        /// New column name.
        new: String,
    },
    /// Create an index.
    CreateIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// Drop an index. Carries the index as it was.
    DropIndex {
        /// Table name.
        table: String,
        /// The index as it was.
        index: Index,
    },
    /// Rename an index (same definition, new name).
    RenameIndex {
        /// Table name.
        table: String,
        /// Old name.
        old: String,
        /// New name.
        new: String,
    },
    /// Add a unique, check or foreign-key constraint.
    AddConstraint {
        /// Table name.
        table: String,
        /// The constraint.
        constraint: Constraint,
    },
    /// Remove a constraint. Carries the constraint as it was.
    RemoveConstraint {
        /// Table name.
        table: String,
        /// The constraint as it was.
        constraint: Constraint,
    },
    /// Change a check's or foreign key's state in place (PostgreSQL): validate one kept
    /// `NOT VALID`, or change when a foreign key is checked (`DEFERRABLE`).
    AlterConstraint {
        /// Table name.
        table: String,
        /// The constraint before.
        old: Constraint,
        /// The constraint after (the same name, kind and definition).
        new: Constraint,
    },
    /// Create a view (or a materialized view).
    CreateView {
        /// The view.
        view: View,
    },
    /// Drop a view. Carries the view as it was.
    DropView {
        /// The view as it was.
        view: View,
    },
    /// Create an object with hand-written SQL, kept by kind and name.
    CreateRaw {
        /// The object and its SQL.
        object: RawSql,
    },
    /// Drop an object made by hand-written SQL. Carries it as it was.
    DropRaw {
        /// The object as it was.
        object: RawSql,
    },
    /// Change the values of an enumerated type, in every column that uses it: rename
    /// values (rows and all), add values, remove values no row holds, reorder them.
    AlterEnum {
        /// The type's name.
        name: String,
        /// The values before, in order.
        from: Vec<String>,
        /// The values after, in order.
        to: Vec<String>,
        /// (old, new): values renamed, so the rows that hold one hold the other after.
        renamed: Vec<(String, String)>,
    },
    /// Rename an enumerated type: every column of it takes the new name, the values
    /// and rows stay (PostgreSQL renames the type in place; MySQL and SQLite have no name
    /// to change).
    RenameEnum {
        /// The name before.
        old: String,
        /// The name after.
        new: String,
    },
    /// Raw SQL written by a person. Does not change the in-memory schema.
    RunSql(RunSql),
}

/// Raw SQL, forward and optionally backward, optionally different per dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSql {
    /// Statements run forward on every dialect without an entry in `forward_for`.
    pub forward: Vec<String>,
    /// Statements that undo `forward`; `None` means irreversible.
    pub reverse: Option<Vec<String>>,
    /// Per-dialect replacements for `forward`.
    pub forward_for: BTreeMap<Dialect, Vec<String>>,
    /// Per-dialect replacements for `reverse`.
    pub reverse_for: BTreeMap<Dialect, Vec<String>>,
    /// Runs outside a transaction on PostgreSQL (`CREATE INDEX CONCURRENTLY`), each
    /// statement on its own, with progress recorded after it.
    pub outside_transaction: bool,
}

impl RunSql {
    /// The forward statements for `dialect`.
    pub fn forward_sql(&self, dialect: Dialect) -> &[String] {
        self.forward_for.get(&dialect).unwrap_or(&self.forward)
    }

    /// The reverse statements for `dialect`, `None` if irreversible.
    pub fn reverse_sql(&self, dialect: Dialect) -> Option<&[String]> {
        match self.reverse_for.get(&dialect) {
            Some(r) => Some(r),
            None => self.reverse.as_deref(),
        }
    }
}

/// An operation that has no reverse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation `{0}` is irreversible")]
pub struct Irreversible(pub String);

impl Operation {
    /// The operation that undoes this one.
    pub fn reverse(&self) -> Result<Operation, Irreversible> {
        use Operation::*;
        Ok(match self {
            CreateModel { table } => DeleteModel { table: table.clone() },
            DeleteModel { table } => CreateModel { table: table.clone() },
            RenameModel { old, new } => RenameModel { old: new.clone(), new: old.clone() },
            AlterModelComment { table, old, new } => {
                AlterModelComment { table: table.clone(), old: new.clone(), new: old.clone() }
            }
            AddField { table, column, .. } => RemoveField { table: table.clone(), column: column.clone() },
            RemoveField { table, column } => AddField {
                table: table.clone(),
                column: column.clone(),
                fill: column.needs_fill().then(|| zero_value(&column.ty)),
            },
            AlterField { table, old, new, .. } => AlterField {
                table: table.clone(),
                old: new.clone(),
                new: old.clone(),
                fill: (new.nullable && old.needs_fill()).then(|| zero_value(&old.ty)),
            },
            RenameField { table, old, new } => RenameField { table: table.clone(), old: new.clone(), new: old.clone() },
            CreateIndex { table, index } => DropIndex { table: table.clone(), index: index.clone() },
            DropIndex { table, index } => CreateIndex { table: table.clone(), index: index.clone() },
            RenameIndex { table, old, new } => RenameIndex { table: table.clone(), old: new.clone(), new: old.clone() },
            AddConstraint { table, constraint } => {
                RemoveConstraint { table: table.clone(), constraint: constraint.clone() }
            }
            RemoveConstraint { table, constraint } => {
                AddConstraint { table: table.clone(), constraint: constraint.clone() }
            }
            CreateView { view } => DropView { view: view.clone() },
            DropView { view } => CreateView { view: view.clone() },
            AlterConstraint { table, old, new } => {
                AlterConstraint { table: table.clone(), old: new.clone(), new: old.clone() }
            }
            CreateRaw { object } => DropRaw { object: object.clone() },
            DropRaw { object } => CreateRaw { object: object.clone() },
            AlterEnum { name, from, to, renamed } => AlterEnum {
                name: name.clone(),
                from: to.clone(),
                to: from.clone(),
                renamed: renamed.iter().map(|(old, new)| (new.clone(), old.clone())).collect(),
            },
            RenameEnum { old, new } => RenameEnum { old: new.clone(), new: old.clone() },
            RunSql(sql) => match &sql.reverse {
                Some(reverse) => RunSql(crate::operation::RunSql {
                    forward: reverse.clone(),
                    reverse: Some(sql.forward.clone()),
                    forward_for: sql.reverse_for.clone(),
                    reverse_for: sql.forward_for.clone(),
                    outside_transaction: sql.outside_transaction,
                }),
                None => return Err(Irreversible(self.to_string())),
            },
        })
    }

    /// Whether its SQL is written by a person (hand-written SQL, an object made by it).
    pub fn is_hand_written(&self) -> bool {
        matches!(self, Operation::RunSql(_) | Operation::CreateRaw { .. } | Operation::DropRaw { .. })
    }

    /// Whether `old` and `new` are one constraint in another state: the same name, kind
    /// and definition, and only whether it is validated (a check or foreign key) or when
    /// it is checked (a foreign key) differs. What [`Operation::AlterConstraint`] changes.
    pub fn only_state_differs(old: &Constraint, new: &Constraint) -> bool {
        let plain = |c: &Constraint| match c {
            Constraint::Check(ch) => Constraint::Check(crate::schema::Check { not_valid: false, ..ch.clone() }),
            Constraint::ForeignKey(fk) => Constraint::ForeignKey(crate::schema::ForeignKey {
                not_valid: false,
                deferrable: crate::schema::Deferrable::No,
                ..fk.clone()
            }),
            other => other.clone(),
        };
        old != new && plain(old) == plain(new)
    }

    /// Whether applying this operation can lose data that its reverse cannot restore.
    pub fn is_destructive(&self) -> bool {
        match self {
            Operation::DeleteModel { .. } | Operation::RemoveField { .. } => true,
            Operation::AlterField { old, new, .. } => narrows(&old.ty, &new.ty),
            _ => false,
        }
    }

    /// The table the operation changes, if it is about one table.
    pub fn table(&self) -> Option<&str> {
        use Operation::*;
        match self {
            CreateModel { table } | DeleteModel { table } => Some(&table.name),
            RenameModel { new, .. } => Some(new),
            AlterModelComment { table, .. }
            | AddField { table, .. }
            | RemoveField { table, .. }
            | AlterField { table, .. }
            | RenameField { table, .. }
            | CreateIndex { table, .. }
            | DropIndex { table, .. }
            | RenameIndex { table, .. }
            | AddConstraint { table, .. }
            | AlterConstraint { table, .. }
            | RemoveConstraint { table, .. } => Some(table),
            CreateView { .. } | DropView { .. } | AlterEnum { .. } | RenameEnum { .. } | RunSql(_) => None,
            CreateRaw { object } | DropRaw { object } => object.table.as_deref(),
        }
    }
}

/// The value the reverse of a column drop fills existing rows with when the column is
/// NOT NULL without a default: the type's zero. The data itself is not restored.
pub fn zero_value(ty: &ColumnType) -> DefaultValue {
    match ty {
        ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Real
        | ColumnType::Double
        | ColumnType::Decimal { .. } => DefaultValue::Number("0".into()),
        ColumnType::Boolean => DefaultValue::Bool(false),
        ColumnType::Varchar(_)
        | ColumnType::UnboundedVarchar
        | ColumnType::Text
        | ColumnType::CiText
        | ColumnType::Binary
        | ColumnType::Custom(_)
        | ColumnType::PerDialect(_) => DefaultValue::Text(String::new()),
        ColumnType::Date => DefaultValue::Text("1970-01-01".into()),
        ColumnType::Time => DefaultValue::Text("00:00:00".into()),
        ColumnType::Timestamp | ColumnType::TimestampTz => DefaultValue::Text("1970-01-01 00:00:00".into()),
        ColumnType::Uuid => DefaultValue::Text("00000000-0000-0000-0000-000000000000".into()),
        ColumnType::Json | ColumnType::JsonText => DefaultValue::Text("null".into()),
        ColumnType::Array(_) => DefaultValue::Text("{}".into()),
        ColumnType::Enum(e) => DefaultValue::Text(e.values.first().cloned().unwrap_or_default()),
        ColumnType::Inet | ColumnType::Cidr => DefaultValue::Text("0.0.0.0/0".into()),
        ColumnType::Interval => DefaultValue::Text("0".into()),
        ColumnType::TsVector => DefaultValue::Text(String::new()),
        ColumnType::TimeTz => DefaultValue::Text("00:00:00+00".into()),
    }
}

/// Whether every backend can convert a column from `old` to `new` in place: numbers to
/// numbers, temporal types to temporal types, anything to and from text. Anything else
/// (an integer to a UUID, say) needs a new column and a data step written by a person.
pub fn convertible(old: &ColumnType, new: &ColumnType) -> bool {
    use ColumnType::*;
    let temporal = |t: &ColumnType| matches!(t, Date | Timestamp | TimestampTz);
    let family = |t: &ColumnType| match t {
        Json | JsonText => 1,
        Inet | Cidr => 2,
        Time | TimeTz => 3,
        _ => 0,
    };
    old == new
        || (old.is_numeric() && new.is_numeric())
        || (temporal(old) && temporal(new))
        || (family(old) != 0 && family(old) == family(new))
        || matches!((old, new), (Array(a), Array(b)) if convertible(a, b))
        || matches!((old, new), (Enum(_), Enum(_)))
        || old.is_string()
        || new.is_string()
        || old.is_verbatim()
        || new.is_verbatim()
}

/// Whether changing a column from `old` to `new` can lose information.
pub fn narrows(old: &ColumnType, new: &ColumnType) -> bool {
    use ColumnType::*;
    if old == new {
        return false;
    }
    let int_rank = |t: &ColumnType| match t {
        SmallInt => Some(1),
        Integer => Some(2),
        BigInt => Some(3),
        _ => None,
    };
    match (old, new) {
        (a, b) if int_rank(a).is_some() && int_rank(b).is_some() => int_rank(a) > int_rank(b),
        (Varchar(a), Varchar(b)) => b < a,
        (Varchar(_), Text | UnboundedVarchar | CiText) | (Text, UnboundedVarchar) | (UnboundedVarchar, Text) => false,
        (Text | UnboundedVarchar, CiText) | (CiText, Text | UnboundedVarchar) => false,
        (SmallInt | Integer, Double) | (Real, Double) => false,
        (Decimal { precision: p1, scale: s1 }, Decimal { precision: p2, scale: s2 }) => {
            s2 < s1 || (p2 - s2) < (p1 - s1)
        }
        (Timestamp, TimestampTz) | (TimestampTz, Timestamp) => false,
        (Json, JsonText) | (JsonText, Json) | (Cidr, Inet) | (Time, TimeTz) => false,
        (Array(a), Array(b)) => narrows(a, b),
        // Every value of the old list must be a value of the new one (or fit the text).
        (Enum(a), Enum(b)) => a.values.iter().any(|v| !b.values.contains(v)),
        (Enum(_), Text | UnboundedVarchar) => false,
        (Enum(a), Varchar(n)) => a.values.iter().any(|v| v.chars().count() > *n as usize),
        _ => true,
    }
}

impl fmt::Display for Operation {
    /// One line in words, as in a migration header or a build warning.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Operation::*;
        match self {
            CreateModel { table } => write!(f, "CreateModel {}", table.name),
            DeleteModel { table } => write!(f, "DeleteModel {}", table.name),
            RenameModel { old, new } => write!(f, "RenameModel {old} -> {new}"),
            AlterModelComment { table, .. } => write!(f, "AlterModelComment {table}"),
            AddField { table, column, fill } => {
                write!(f, "AddField {table}.{} {}", column.name, describe_column(column))?;
                match fill {
                    Some(v) => write!(f, " (existing rows: {v})"),
                    None => Ok(()),
                }
            }
            RemoveField { table, column } => write!(f, "RemoveField {table}.{}", column.name),
            AlterField { table, old, new, .. } => {
                let (before, after) = (describe_column(old), describe_column(new));
                write!(f, "AlterField {table}.{}", new.name)?;
                if before != after {
                    write!(f, " {before} -> {after}")?;
                }
                if old.comment != new.comment {
                    let says = |c: &Option<String>| c.as_ref().map_or_else(|| "none".to_string(), |c| format!("{c:?}"));
                    write!(f, " comment {} -> {}", says(&old.comment), says(&new.comment))?;
                }
                Ok(())
            }
            RenameField { table, old, new } => write!(f, "RenameField {table}.{old} -> {new}"),
            CreateIndex { table, index } if index.is_plain() => write!(
                f,
                "CreateIndex {table}({}) {}{}",
                index.columns.join(", "),
                index.name,
                if index.unique { " unique" } else { "" }
            ),
            CreateIndex { table, index } => write!(f, "CreateIndex {table} {} {}", index.name, index.definition()),
            DropIndex { table, index } => write!(f, "DropIndex {table} {}", index.name),
            CreateView { view } if view.materialized => write!(f, "CreateView {} (materialized)", view.name),
            CreateView { view } => write!(f, "CreateView {}", view.name),
            DropView { view } => write!(f, "DropView {}", view.name),
            RenameIndex { table, old, new } => write!(f, "RenameIndex {table} {old} -> {new}"),
            AddConstraint { table, constraint } => {
                write!(f, "AddConstraint {table} {} {}", constraint.kind(), constraint.name())
            }
            RemoveConstraint { table, constraint } => {
                write!(f, "RemoveConstraint {table} {} {}", constraint.kind(), constraint.name())
            }
            AlterConstraint { table, old, new } => {
                write!(f, "AlterConstraint {table} {} {}", new.kind(), new.name())?;
                if old.not_valid() != new.not_valid() {
                    f.write_str(if new.not_valid() { " not valid" } else { " validated" })?;
                }
                if let (Constraint::ForeignKey(a), Constraint::ForeignKey(b)) = (old, new) {
                    if a.deferrable != b.deferrable {
                        write!(f, " {} -> {}", a.deferrable.as_str(), b.deferrable.as_str())?;
                    }
                }
                Ok(())
            }
            CreateRaw { object } => write!(f, "CreateRaw {} {}", object.kind, object.name),
            RenameEnum { old, new } => write!(f, "RenameEnum {old} -> {new}"),
            DropRaw { object } => write!(f, "DropRaw {} {}", object.kind, object.name),
            AlterEnum { name, from, to, renamed } => {
                write!(f, "AlterEnum {name}")?;
                let changes = crate::schema::ValueChanges::between(from, to, renamed);
                for (old, new) in &changes.renamed {
                    write!(f, " '{old}' -> '{new}'")?;
                }
                for v in &changes.added {
                    write!(f, " +'{v}'")?;
                }
                for v in &changes.removed {
                    write!(f, " -'{v}'")?;
                }
                if changes.reordered {
                    write!(f, " (reordered)")?;
                }
                Ok(())
            }
            RunSql(_) => f.write_str("RunSQL"),
        }
    }
}

/// `varchar(255) NULL DEFAULT 'x'` — a column's type and options in words.
pub fn describe_column(column: &Column) -> String {
    let mut s = format!("{} {}", column.ty, if column.nullable { "NULL" } else { "NOT NULL" });
    if let Some(d) = &column.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if column.auto_increment {
        s.push_str(" AUTO_INCREMENT");
    }
    s
}
