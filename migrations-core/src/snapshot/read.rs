//! Reading a snapshot strictly: every problem is an error with line and column.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{SnapshotError, FORMAT_VERSION};
use crate::schema::{
    canonical_number, Check, Column, ColumnType, DefaultValue, Deferrable, FkAction, ForeignKey, Index, IndexMethod,
    KeyOptions, Schema, Table, Unique,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: Spanned<i64>,
    #[serde(default)]
    tables: BTreeMap<Spanned<String>, RawTable>,
    #[serde(default)]
    views: BTreeMap<Spanned<String>, Spanned<RawView>>,
    #[serde(default)]
    raw: BTreeMap<Spanned<String>, Spanned<crate::schema::RawSql>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawView {
    sql: String,
    #[serde(default)]
    reads: Vec<String>,
    #[serde(default)]
    materialized: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    comment: Option<String>,
    primary_key: Option<Spanned<Vec<String>>>,
    primary_key_name: Option<String>,
    #[serde(default)]
    columns: Vec<Spanned<RawColumn>>,
    #[serde(default)]
    uniques: Vec<Spanned<RawUnique>>,
    #[serde(default)]
    checks: Vec<RawCheck>,
    #[serde(default)]
    foreign_keys: Vec<Spanned<RawForeignKey>>,
    #[serde(default)]
    indexes: Vec<Spanned<RawIndex>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    name: String,
    #[serde(rename = "type")]
    ty: Spanned<String>,
    #[serde(default)]
    nullable: bool,
    default: Option<Spanned<RawDefault>>,
    #[serde(default)]
    auto_increment: bool,
    #[serde(default)]
    serial: bool,
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum RawDefault {
    Bool(bool),
    Number(String),
    Text(String),
    Expr(String),
    /// `{ dialects = { postgres = "...", mysql = "..." } }`.
    Dialects(crate::schema::DialectSql),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnique {
    name: String,
    columns: Vec<String>,
    #[serde(default)]
    named: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: String,
    expr: String,
    #[serde(default)]
    not_valid: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForeignKey {
    name: String,
    columns: Vec<String>,
    references: String,
    ref_columns: Vec<String>,
    on_delete: Option<Spanned<String>>,
    on_update: Option<Spanned<String>>,
    deferrable: Option<Spanned<String>>,
    #[serde(default)]
    not_valid: bool,
    #[serde(default)]
    named: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    name: String,
    columns: Vec<String>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    order: Option<Vec<String>>,
    #[serde(default)]
    opclasses: Option<Vec<String>>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default, rename = "where")]
    predicate: Option<String>,
    #[serde(default)]
    named: bool,
}

struct Reader<'a> {
    text: &'a str,
}

impl Reader<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> SnapshotError {
        SnapshotError::at(self.text, span.start, message)
    }

    fn action(&self, a: &Option<Spanned<String>>) -> Result<FkAction, SnapshotError> {
        match a {
            None => Ok(FkAction::NoAction),
            Some(s) => FkAction::parse(s.get_ref()).ok_or_else(|| {
                self.err(
                    s.span(),
                    format!(
                        "unknown foreign-key action `{}`: expected cascade, set null, restrict or no action",
                        s.get_ref()
                    ),
                )
            }),
        }
    }

    fn column(&self, raw: &Spanned<RawColumn>) -> Result<Column, SnapshotError> {
        let c = raw.get_ref();
        let ty: ColumnType =
            c.ty.get_ref().parse().map_err(|e: crate::schema::UnknownType| self.err(c.ty.span(), e.to_string()))?;
        let default = match &c.default {
            None => None,
            Some(d) => Some(match d.get_ref() {
                RawDefault::Bool(b) => DefaultValue::Bool(*b),
                RawDefault::Number(n) => DefaultValue::Number(
                    canonical_number(n).ok_or_else(|| self.err(d.span(), format!("`{n}` is not a number")))?,
                ),
                RawDefault::Text(t) => DefaultValue::Text(t.clone()),
                RawDefault::Expr(e) => DefaultValue::expr(e),
                RawDefault::Dialects(spellings) if spellings.spellings().next().is_some() => {
                    DefaultValue::PerDialect(spellings.clone())
                }
                RawDefault::Dialects(_) => return Err(self.err(d.span(), "`dialects` names no dialect's SQL")),
            }),
        };
        Ok(Column {
            name: c.name.clone(),
            ty,
            nullable: c.nullable,
            default,
            auto_increment: c.auto_increment,
            serial: c.auto_increment && c.serial,
            comment: c.comment.clone(),
        })
    }

    fn table(&self, name: &str, raw: &RawTable) -> Result<Table, SnapshotError> {
        let mut t = Table::new(name);
        t.comment = raw.comment.clone();
        for c in &raw.columns {
            let col = self.column(c)?;
            if t.column(&col.name).is_some() {
                return Err(self.err(c.span(), format!("column `{}` appears twice in table `{name}`", col.name)));
            }
            t.columns.push(col);
        }
        let columns = t.columns.clone();
        let has_all = |cols: &[String]| cols.iter().find(|c| !columns.iter().any(|k| k.name == **c)).cloned();
        if let Some(pk) = &raw.primary_key {
            if let Some(c) = has_all(pk.get_ref()) {
                return Err(self.err(pk.span(), format!("primary key names unknown column `{c}` of `{name}`")));
            }
            t.primary_key = pk.get_ref().clone();
        }
        t.primary_key_name = raw.primary_key_name.clone().filter(|_| !t.primary_key.is_empty());
        for u in &raw.uniques {
            let r = u.get_ref();
            if let Some(c) = has_all(&r.columns) {
                return Err(self.err(u.span(), format!("unique `{}` names unknown column `{c}` of `{name}`", r.name)));
            }
            t.uniques.push(Unique { name: r.name.clone(), columns: r.columns.clone(), explicit_name: r.named });
        }
        t.checks = raw
            .checks
            .iter()
            .map(|c| Check { name: c.name.clone(), expr: c.expr.clone(), not_valid: c.not_valid })
            .collect();
        for f in &raw.foreign_keys {
            let r = f.get_ref();
            if let Some(c) = has_all(&r.columns) {
                return Err(
                    self.err(f.span(), format!("foreign key `{}` names unknown column `{c}` of `{name}`", r.name))
                );
            }
            if r.columns.len() != r.ref_columns.len() || r.columns.is_empty() {
                return Err(
                    self.err(f.span(), format!("foreign key `{}` must have as many columns as ref_columns", r.name))
                );
            }
            t.foreign_keys.push(ForeignKey {
                name: r.name.clone(),
                columns: r.columns.clone(),
                ref_table: r.references.clone(),
                ref_columns: r.ref_columns.clone(),
                on_delete: self.action(&r.on_delete)?,
                on_update: self.action(&r.on_update)?,
                deferrable: match &r.deferrable {
                    None => Deferrable::No,
                    Some(d) => Deferrable::parse(d.get_ref()).ok_or_else(|| {
                        self.err(
                            d.span(),
                            format!(
                                "unknown `deferrable = \"{}\"`: expected initially immediate or initially deferred",
                                d.get_ref()
                            ),
                        )
                    })?,
                },
                not_valid: r.not_valid,
                explicit_name: r.named,
            });
        }
        for i in &raw.indexes {
            let r = i.get_ref();
            let named_columns: Vec<String> =
                r.columns.iter().filter(|k| !Index::is_expression(k)).chain(&r.include).cloned().collect();
            if let Some(c) = has_all(&named_columns) {
                return Err(self.err(i.span(), format!("index `{}` names unknown column `{c}` of `{name}`", r.name)));
            }
            let fail = |message: String| self.err(i.span(), format!("index `{}` of `{name}`: {message}", r.name));
            let method = match &r.method {
                None => IndexMethod::Btree,
                Some(m) => IndexMethod::parse(m).ok_or_else(|| fail(format!("unknown method `{m}`")))?,
            };
            let mut index = Index {
                name: r.name.clone(),
                columns: r.columns.clone(),
                unique: r.unique,
                explicit_name: r.named,
                method,
                keys: Vec::new(),
                include: r.include.clone(),
                predicate: r.predicate.clone(),
            };
            for (list, what) in [(&r.order, "order"), (&r.opclasses, "opclasses")] {
                if list.as_ref().is_some_and(|l| l.len() != r.columns.len()) {
                    return Err(fail(format!("`{what}` has to give one entry per key")));
                }
            }
            for (position, key) in r.columns.iter().enumerate() {
                let mut options = match r.order.as_ref().map(|o| o[position].as_str()) {
                    None | Some("") => KeyOptions::default(),
                    Some(o) => KeyOptions::parse_order(o).ok_or_else(|| fail(format!("unknown order `{o}`")))?,
                };
                options.opclass = r.opclasses.as_ref().map(|o| o[position].clone()).filter(|o| !o.is_empty());
                if !options.is_plain() {
                    index.set_key(key, options);
                }
            }
            t.indexes.push(index);
        }
        Ok(t)
    }
}

/// Reads a snapshot. Malformed input gives an error with line and column, never a panic.
pub fn from_toml(text: &str) -> Result<Schema, SnapshotError> {
    let file: File = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().replace('\n', "; ");
        // The TOML reader says nothing for some characters (a NUL in a comment, say).
        let message = if message.is_empty() {
            let found =
                text.get(at..).and_then(|r| r.chars().next()).map_or("end of file".to_string(), |c| format!("{c:?}"));
            format!("this is not valid TOML here (found {found}); restore the file from version control")
        } else {
            message
        };
        SnapshotError::at(text, at, message)
    })?;
    let reader = Reader { text };
    if *file.version.get_ref() != FORMAT_VERSION {
        return Err(reader.err(
            file.version.span(),
            format!("snapshot format version {} is not supported (this build reads version {FORMAT_VERSION}); update migrations-build", file.version.get_ref()),
        ));
    }
    let mut schema = Schema::new();
    for (name, raw) in &file.tables {
        schema.tables.insert(name.get_ref().clone(), reader.table(name.get_ref(), raw)?);
    }
    // Foreign keys to tables of this snapshot must name their columns; a table the
    // snapshot does not hold belongs to another app, whose own snapshot has it.
    for (name, raw) in &file.tables {
        for f in &raw.foreign_keys {
            let r = f.get_ref();
            let target = schema.table(&r.references);
            let missing = match target {
                None => None,
                Some(t) => r
                    .ref_columns
                    .iter()
                    .find(|c| t.column(c).is_none())
                    .map(|c| format!("column `{}.{c}`", r.references)),
            };
            if let Some(what) = missing {
                return Err(reader.err(
                    f.span(),
                    format!("foreign key `{}` of `{}` references unknown {what}", r.name, name.get_ref()),
                ));
            }
        }
    }
    for (name, raw) in &file.views {
        let r = raw.get_ref();
        let known = |t: &String| schema.tables.contains_key(t) || file.views.keys().any(|v| v.get_ref() == t);
        if let Some(missing) = r.reads.iter().find(|t| !known(t)) {
            return Err(reader.err(raw.span(), format!("view `{}` reads unknown table `{missing}`", name.get_ref())));
        }
        let view = crate::schema::View {
            name: name.get_ref().clone(),
            sql: r.sql.clone(),
            reads: r.reads.clone(),
            materialized: r.materialized,
        };
        schema.views.insert(view.name.clone(), view);
    }
    for (key, object) in &file.raw {
        let o = object.get_ref();
        if let Some(problem) = o.problem() {
            return Err(reader.err(object.span(), problem));
        }
        if o.key() != *key.get_ref() {
            return Err(reader
                .err(key.span(), format!("`{}` is keyed `{}`: the key is its kind and name", o.key(), key.get_ref())));
        }
        if let Some(t) = o.table.as_ref().filter(|t| !schema.tables.contains_key(*t)) {
            return Err(reader.err(object.span(), format!("{} `{}` belongs to unknown table `{t}`", o.kind, o.name)));
        }
        schema.raw.insert(o.key(), o.clone());
    }
    Ok(schema)
}
