//! Secondary indexes: their keys (columns or expressions), each key's order and
//! operator class, the access method, `INCLUDE` columns and a partial index's `WHERE`.

use std::fmt;

/// An index (plain or unique) that is not a constraint.
///
/// A key is a column name, or an expression in parentheses: `(lower(email))`. Every
/// option beyond the keys has a default that is a plain B-tree index, and a plain
/// index is written and compared exactly as before these options existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Index {
    /// Index name (unique within the schema on PostgreSQL and SQLite).
    pub name: String,
    /// Keys, in order: column names, or expressions in parentheses.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    pub unique: bool,
    /// Whether a person wrote the name (otherwise it was generated and is matched by definition).
    pub explicit_name: bool,
    /// The access method.
    #[serde(default)]
    pub method: IndexMethod,
    /// Each key's order and operator class, one per key; empty when every key is plain.
    #[serde(default)]
    pub keys: Vec<KeyOptions>,
    /// Columns stored in the index without being keys (`INCLUDE`, PostgreSQL).
    #[serde(default)]
    pub include: Vec<String>,
    /// The condition of a partial index (`WHERE ...`), as SQL.
    #[serde(default)]
    pub predicate: Option<String>,
}

impl Index {
    /// Whether `key` is an expression rather than a column name.
    pub fn is_expression(key: &str) -> bool {
        key.starts_with('(')
    }

    /// The columns it names as keys or includes (expressions and the predicate are SQL,
    /// and not looked into).
    pub fn column_names(&self) -> impl Iterator<Item = &String> {
        self.columns.iter().filter(|k| !Self::is_expression(k)).chain(&self.include)
    }

    /// Whether it is a plain index: B-tree, column keys in ascending order with their
    /// default operator classes, nothing included, not partial. Every dialect has those.
    pub fn is_plain(&self) -> bool {
        self.method == IndexMethod::Btree
            && self.keys.is_empty()
            && self.include.is_empty()
            && self.predicate.is_none()
            && !self.columns.iter().any(|k| Self::is_expression(k))
    }

    /// Whether a model can say it: order and operator classes are given per field, so
    /// an expression key has neither (an index with one stays raw SQL when adopted).
    pub fn expressible(&self) -> bool {
        self.columns.iter().enumerate().all(|(i, k)| !Self::is_expression(k) || self.key(i).is_plain())
    }

    /// The options of the key at `position` (the default for a plain key).
    pub fn key(&self, position: usize) -> KeyOptions {
        self.keys.get(position).cloned().unwrap_or_default()
    }

    /// Sets the options of the key `key`, and keeps [`Index::keys`] canonical: empty
    /// when every key is plain, otherwise one entry per key.
    ///
    /// # Panics
    /// If `key` is not one of the index's keys.
    pub fn set_key(&mut self, key: &str, options: KeyOptions) {
        let position = self.columns.iter().position(|k| k == key);
        let position = position.unwrap_or_else(|| panic!("`{key}` is not a key of index `{}`", self.name));
        self.keys.resize(self.columns.len(), KeyOptions::default());
        self.keys[position] = options.canonical();
        if self.keys.iter().all(KeyOptions::is_plain) {
            self.keys.clear();
        }
    }

    /// What the index is, names aside: `unique gin (a DESC, (lower(b))) include (c) where ...`.
    /// Two indexes with the same definition are the same index under two names.
    pub fn definition(&self) -> String {
        let keys: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let options = self.key(i).to_string();
                if options.is_empty() {
                    k.clone()
                } else {
                    format!("{k} {options}")
                }
            })
            .collect();
        let mut out = String::new();
        if self.unique {
            out.push_str("unique ");
        }
        if self.method != IndexMethod::Btree {
            out.push_str(self.method.as_str());
            out.push(' ');
        }
        out.push_str(&format!("({})", keys.join(", ")));
        if !self.include.is_empty() {
            out.push_str(&format!(" include ({})", self.include.join(", ")));
        }
        if let Some(p) = &self.predicate {
            out.push_str(&format!(" where {p}"));
        }
        out
    }
}

/// How an index is organised. PostgreSQL has them all; MySQL and SQLite only B-trees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum IndexMethod {
    /// A balanced tree: equality, ranges and order (every database's default).
    #[default]
    Btree,
    /// A hash table: equality only.
    Hash,
    /// An inverted index: arrays, `jsonb`, full-text search, trigrams.
    Gin,
    /// A generalised search tree: geometry, ranges, nearest neighbour.
    Gist,
    /// Block-range summaries: huge tables whose order follows a column (time series).
    Brin,
    /// A space-partitioned search tree: points, prefixes.
    Spgist,
}

impl IndexMethod {
    /// Every method.
    pub const ALL: [Self; 6] = [Self::Btree, Self::Hash, Self::Gin, Self::Gist, Self::Brin, Self::Spgist];

    /// The name PostgreSQL gives it (`USING gin`), also the spelling in models and snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Btree => "btree",
            Self::Hash => "hash",
            Self::Gin => "gin",
            Self::Gist => "gist",
            Self::Brin => "brin",
            Self::Spgist => "spgist",
        }
    }

    /// Parses [`IndexMethod::as_str`]'s spellings (any case).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for IndexMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key's order and operator class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct KeyOptions {
    /// `DESC`.
    pub descending: bool,
    /// `Some(true)` for `NULLS FIRST`, `Some(false)` for `NULLS LAST`; `None` for the
    /// default, which is last ascending and first descending (kept `None` when given).
    pub nulls_first: Option<bool>,
    /// An operator class other than the type's default (`gin_trgm_ops`, `text_pattern_ops`).
    pub opclass: Option<String>,
}

impl KeyOptions {
    /// Whether it is a plain ascending key with the default operator class.
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }

    /// The same options with a nulls order that is the default spelled as `None`.
    pub fn canonical(mut self) -> Self {
        if self.nulls_first == Some(self.descending) {
            self.nulls_first = None;
        }
        self
    }

    /// Parses `desc`, `asc nulls first`, `desc nulls last` (any case, `_` for spaces).
    pub fn parse_order(s: &str) -> Option<Self> {
        let words: Vec<String> = s.split([' ', '_']).filter(|w| !w.is_empty()).map(str::to_ascii_lowercase).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let (descending, rest) = match words.as_slice() {
            ["asc", rest @ ..] => (false, rest),
            ["desc", rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        let nulls_first = match rest {
            [] => None,
            ["nulls", "first"] => Some(true),
            ["nulls", "last"] => Some(false),
            _ => return None,
        };
        (!words.is_empty()).then(|| Self { descending, nulls_first, opclass: None }.canonical())
    }

    /// The order as SQL after the key: `DESC`, `NULLS FIRST`, `DESC NULLS LAST`, or empty.
    pub fn order_sql(&self) -> String {
        let mut out = Vec::new();
        if self.descending {
            out.push("DESC");
        }
        match self.nulls_first {
            Some(true) => out.push("NULLS FIRST"),
            Some(false) => out.push("NULLS LAST"),
            None => {}
        }
        out.join(" ")
    }

    /// The order as models and snapshots spell it: `desc`, `asc nulls first`, ... (empty
    /// for the default).
    pub fn order_str(&self) -> String {
        let sql = self.order_sql().to_ascii_lowercase();
        if !self.descending && self.nulls_first.is_some() {
            format!("asc {sql}")
        } else {
            sql
        }
    }
}

impl fmt::Display for KeyOptions {
    /// `gin_trgm_ops DESC NULLS LAST`, as it follows the key in SQL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            self.opclass.iter().cloned().chain(Some(self.order_sql())).filter(|s| !s.is_empty()).collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_parse_to_their_canonical_form() {
        let desc = KeyOptions { descending: true, ..KeyOptions::default() };
        assert_eq!(KeyOptions::parse_order("desc"), Some(desc.clone()));
        assert_eq!(KeyOptions::parse_order("DESC NULLS FIRST"), Some(desc.clone()), "the default for DESC");
        assert_eq!(KeyOptions::parse_order("asc_nulls_last"), Some(KeyOptions::default()));
        let first = KeyOptions { nulls_first: Some(true), ..KeyOptions::default() };
        assert_eq!(KeyOptions::parse_order("nulls first"), Some(first.clone()));
        assert_eq!(first.order_str(), "asc nulls first");
        assert_eq!(KeyOptions::parse_order("descending"), None);
        assert_eq!(KeyOptions::parse_order(""), None);
    }

    #[test]
    fn plain_keys_leave_no_trace() {
        let mut i = Index { name: "ix".into(), columns: vec!["a".into(), "b".into()], ..Index::default() };
        i.set_key("b", KeyOptions { descending: true, ..KeyOptions::default() });
        assert_eq!(i.keys.len(), 2);
        assert_eq!(i.definition(), "(a, b DESC)");
        i.set_key("b", KeyOptions::default());
        assert!(i.keys.is_empty() && i.is_plain());
    }
}
