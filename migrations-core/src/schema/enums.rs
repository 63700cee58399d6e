//! Enumerated types: a column that holds one of a fixed list of words
//! (`#[derive(DbEnum)]` on a Rust enum).
//!
//! The type lives in the columns that use it: PostgreSQL's named `CREATE TYPE ... AS
//! ENUM` exists while a column uses it (the migration that adds the first such column
//! creates it, the one that drops the last drops it), MySQL writes the list into each
//! column (`ENUM('a', 'b')`), and SQLite keeps text with a `CHECK` of the list. Every
//! column of one name holds the same list; a change of the list is one operation,
//! [`AlterEnum`](crate::Operation::AlterEnum), over all of them.

use std::collections::BTreeMap;
use std::fmt;

use super::{ColumnType, Schema};

/// An enumerated type: its name (PostgreSQL's type) and its values, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct EnumType {
    /// The type's name (PostgreSQL's `CREATE TYPE`); MySQL and SQLite do not keep one.
    pub name: String,
    /// The values, in the order the type sorts them.
    pub values: Vec<String>,
}

impl EnumType {
    /// The type `name` of `values`.
    pub fn new(name: &str, values: &[&str]) -> Self {
        EnumType { name: name.into(), values: values.iter().map(|v| v.to_string()).collect() }
    }

    /// The list as SQL: `'a', 'b'`.
    pub fn values_sql(&self) -> String {
        quoted_list(&self.values)
    }

    /// Why it cannot be a type, if it cannot: no values, a value twice, an empty value.
    pub fn problem(&self) -> Option<String> {
        if self.values.is_empty() {
            return Some(format!("enum `{}` has no values", self.name));
        }
        if let Some(v) = self.values.iter().find(|v| v.is_empty()) {
            return Some(format!("enum `{}` has an empty value {v:?}", self.name));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(v) = self.values.iter().find(|v| !seen.insert(v.as_str())) {
            return Some(format!("enum `{}` has the value '{v}' twice", self.name));
        }
        None
    }
}

/// `'a', 'b'`: each value a SQL string literal.
pub fn quoted_list(values: &[String]) -> String {
    values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for EnumType {
    /// `enum account_status('active', 'past_due')`: the snapshot's and messages' form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enum {}({})", self.name, self.values_sql())
    }
}

impl EnumType {
    /// Reads [`EnumType`]'s text form back; `None` if `text` is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix("enum ")?;
        let (name, list) = rest.split_once('(')?;
        let list = list.trim_end().strip_suffix(')')?;
        let ty = EnumType { name: name.trim().to_string(), values: parse_quoted_list(list)? };
        (!ty.name.is_empty() && ty.problem().is_none()).then_some(ty)
    }
}

/// The values of `'a', 'b'` (a doubled quote is a quote); `None` unless every item is a
/// quoted string.
pub fn parse_quoted_list(list: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut chars = list.trim().chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next()? != '\'' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.next_if_eq(&'\'').is_some() => value.push('\''),
                '\'' => break,
                c => value.push(c),
            }
        }
        values.push(value);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            None => return Some(values),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

/// How an [`AlterEnum`](crate::Operation::AlterEnum) takes one list of values to
/// another: which values it renames, adds and removes, and whether the order of the
/// values kept changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueChanges {
    /// (old, new): values renamed, rows and all.
    pub renamed: Vec<(String, String)>,
    /// Values the new list has that the old did not (and that no rename gives).
    pub added: Vec<String>,
    /// Values of the old list that are gone (and not renamed).
    pub removed: Vec<String>,
    /// Whether the values both lists keep come in another order.
    pub reordered: bool,
}

impl ValueChanges {
    /// From `from` to `to`, with `renamed` (old, new) pairs.
    pub fn between(from: &[String], to: &[String], renamed: &[(String, String)]) -> Self {
        let renamed: Vec<(String, String)> =
            renamed.iter().filter(|(old, new)| from.contains(old) && to.contains(new) && old != new).cloned().collect();
        let after_renames: Vec<String> = from
            .iter()
            .map(|v| renamed.iter().find(|(old, _)| old == v).map_or(v.clone(), |(_, new)| new.clone()))
            .collect();
        let added: Vec<String> = to.iter().filter(|v| !after_renames.contains(v)).cloned().collect();
        let removed: Vec<String> = from
            .iter()
            .zip(&after_renames)
            .filter(|(_, renamed_to)| !to.contains(renamed_to))
            .map(|(v, _)| v.clone())
            .collect();
        let kept_old: Vec<&String> = after_renames.iter().filter(|v| to.contains(v)).collect();
        let kept_new: Vec<&String> = to.iter().filter(|v| after_renames.contains(v)).collect();
        ValueChanges { renamed, added, removed, reordered: kept_old != kept_new }
    }

    /// Whether the type can change in place (PostgreSQL's `RENAME VALUE` and `ADD
    /// VALUE`): nothing removed, nothing moved.
    pub fn in_place(&self) -> bool {
        self.removed.is_empty() && !self.reordered
    }
}

impl Schema {
    /// Every enumerated type a column uses, by name (the first column's list, when
    /// columns disagree; [`Schema::enum_conflict`] finds those).
    pub fn enums(&self) -> BTreeMap<String, EnumType> {
        let mut out = BTreeMap::new();
        for ty in self.enum_columns().map(|(_, _, e)| e) {
            out.entry(ty.name.clone()).or_insert_with(|| ty.clone());
        }
        out
    }

    /// (table, column, type) of every column of an enumerated type.
    pub fn enum_columns(&self) -> impl Iterator<Item = (&str, &str, &EnumType)> {
        self.tables.values().flat_map(|t| {
            t.columns.iter().filter_map(move |c| c.ty.enum_type().map(|e| (t.name.as_str(), c.name.as_str(), e)))
        })
    }

    /// How many columns use the enumerated type `name`.
    pub fn enum_uses(&self, name: &str) -> usize {
        self.enum_columns().filter(|(_, _, e)| e.name == name).count()
    }

    /// A column whose type is enum `ty.name` with another list than `ty`'s, as
    /// `table.column` and its type.
    pub fn enum_conflict(&self, ty: &EnumType) -> Option<(String, EnumType)> {
        self.enum_columns()
            .find(|(_, _, e)| e.name == ty.name && e.values != ty.values)
            .map(|(t, c, e)| (format!("{t}.{c}"), e.clone()))
    }
}

impl ColumnType {
    /// A column type of the enumerated type `name` of `values`.
    pub fn enumeration(name: &str, values: &[&str]) -> Self {
        ColumnType::Enum(EnumType::new(name, values))
    }

    /// The enumerated type, if this is one.
    pub fn enum_type(&self) -> Option<&EnumType> {
        match self {
            ColumnType::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// The enumerated type, mutably.
    pub fn enum_type_mut(&mut self) -> Option<&mut EnumType> {
        match self {
            ColumnType::Enum(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn the_text_form_reads_back_with_quotes_and_commas() {
        let ty = EnumType::new("mood", &["ok", "it's, fine", "()"]);
        assert_eq!(ty.to_string(), "enum mood('ok', 'it''s, fine', '()')");
        assert_eq!(EnumType::parse(&ty.to_string()), Some(ty));
        for bad in ["enum mood()", "enum ('a')", "enum mood('a', 'a')", "enum mood('a' 'b')", "enum mood('a'"] {
            assert_eq!(EnumType::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn value_changes_tell_renames_additions_removals_and_moves() {
        let c = ValueChanges::between(
            &list(&["a", "b", "c"]),
            &list(&["a", "bee", "c", "d"]),
            &[("b".into(), "bee".into())],
        );
        assert_eq!(c.renamed, [("b".to_string(), "bee".to_string())]);
        assert_eq!(c.added, ["d"]);
        assert!(c.removed.is_empty() && !c.reordered && c.in_place());
        let c = ValueChanges::between(&list(&["a", "b", "c"]), &list(&["c", "a"]), &[]);
        assert_eq!(c.removed, ["b"]);
        assert!(c.reordered && !c.in_place());
    }
}
