//! What a dialect cannot do, found at build time instead of at apply time. The build
//! knows its target dialects and refuses, naming the dialect, what one of them cannot do.

use crate::dialect::Dialect;
use crate::schema::{ColumnType, Constraint, DefaultValue, Schema, Table};

/// Something one dialect cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{dialect}: `{table}`{}: {message}", column.as_ref().map(|c| format!(".{c}")).unwrap_or_default())]
pub struct PortabilityError {
    /// The dialect that cannot do it.
    pub dialect: Dialect,
    /// The table.
    pub table: String,
    /// The column, when it is about one.
    pub column: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

/// The longest identifier `dialect` accepts, in bytes.
pub fn max_identifier_bytes(dialect: Dialect) -> Option<usize> {
    match dialect {
        Dialect::Postgres => Some(63),
        Dialect::MySql => Some(64),
        Dialect::Sqlite => None,
    }
}

/// Checks `schema` against every dialect in `dialects`.
pub fn check(schema: &Schema, dialects: &[Dialect]) -> Vec<PortabilityError> {
    let mut errors = Vec::new();
    for t in schema.tables.values() {
        for &d in dialects {
            check_table(t, d, &mut errors);
        }
    }
    for &d in dialects {
        check_names(schema, d, &mut errors);
    }
    if dialects.len() > 1 {
        for t in schema.tables.values() {
            check_verbatim(t, dialects, &mut errors);
        }
    }
    errors
}

/// The expression defaults every dialect spells its own way (see `default_sql`).
const PORTABLE_EXPRESSIONS: [&str; 4] = ["now()", "current_date", "current_time", "gen_uuid()"];

/// SQL written verbatim, a `column_type = "sql:..."` or a `default_expr` other than the
/// portable ones, goes to every database as it is; a crate that targets several cannot
/// know that each takes it (`clock_timestamp()`, `'{}'::jsonb` and `citext` are
/// PostgreSQL's), and would find out at deploy. Such a crate names its one database, or
/// spells a default for each (`default_expr(postgres = "...", mysql = "...")`).
fn check_verbatim(t: &Table, dialects: &[Dialect], errors: &mut Vec<PortabilityError>) {
    let all: Vec<String> = dialects.iter().map(ToString::to_string).collect();
    let advice = format!(
        "it is passed as written to {}, which this crate targets, and not every database takes the same SQL: if the crate runs on one database, say which (`[package.metadata.chakra] dialects = [\"postgres\"]` in Cargo.toml, or `Config::dialects` in build.rs)",
        all.join(", ")
    );
    for c in &t.columns {
        let verbatim = match (&c.ty, &c.default) {
            (ColumnType::Custom(sql), _) => Some(format!("`column_type = \"sql:{sql}\"`")),
            (_, Some(DefaultValue::Expr(e))) if !PORTABLE_EXPRESSIONS.contains(&e.as_str()) => Some(format!(
                "`default_expr = \"{e}\"` (the portable ones are {}; or give each database its own: \
                     `default_expr(postgres = \"...\", mysql = \"...\", sqlite = \"...\")`)",
                PORTABLE_EXPRESSIONS.join(", ")
            )),
            _ => None,
        };
        if let Some(what) = verbatim {
            errors.push(PortabilityError {
                dialect: dialects[dialects.len() - 1],
                table: t.name.clone(),
                column: Some(c.name.clone()),
                message: format!("{what}: {advice}"),
            });
        }
    }
}

/// Index and constraint names: one per object of a table everywhere; one per object of
/// the schema on PostgreSQL and SQLite (indexes and constraints share a namespace) and,
/// for foreign keys, on MySQL (InnoDB names them per database). A MySQL database may
/// have an index `ix_created_at` on every table; PostgreSQL may not.
fn check_names(schema: &Schema, dialect: Dialect, errors: &mut Vec<PortabilityError>) {
    let mut owners: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for t in schema.tables.values() {
        let mut own: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        let schema_wide: Vec<&str> = match dialect {
            Dialect::MySql => t.foreign_keys.iter().map(|f| f.name.as_str()).collect(),
            _ => t.object_names().collect(),
        };
        for name in t.object_names() {
            let clash = if !own.insert(name) {
                Some(format!("the index or constraint name `{name}` is used twice on `{}`", t.name))
            } else if schema_wide.contains(&name) {
                owners.insert(name, &t.name).map(|other| {
                    format!("the index or constraint name `{name}` is used on `{other}` and on `{}`; {dialect} needs it unique in the whole schema", t.name)
                })
            } else {
                None
            };
            if let Some(message) = clash {
                errors.push(PortabilityError {
                    dialect,
                    table: t.name.clone(),
                    column: None,
                    message: format!("{message}: give one of them another name (`name = \"...\"`)"),
                });
            }
        }
    }
}

fn check_table(t: &Table, dialect: Dialect, errors: &mut Vec<PortabilityError>) {
    let mut fail = |column: Option<&str>, message: String| {
        errors.push(PortabilityError { dialect, table: t.name.clone(), column: column.map(str::to_string), message })
    };
    if let Some(max) = max_identifier_bytes(dialect) {
        let names = std::iter::once(("table", t.name.as_str()))
            .chain(t.columns.iter().map(|c| ("column", c.name.as_str())))
            .chain(t.object_names().map(|n| ("index or constraint", n)));
        for (what, name) in names {
            if name.len() > max {
                fail(
                    None,
                    format!(
                        "{what} name `{name}` is {} bytes; {dialect} allows {max}: choose a shorter name",
                        name.len()
                    ),
                );
            }
        }
    }
    for c in &t.columns {
        // PostgreSQL keeps a type's name and each of its labels in 63 bytes.
        if let (Some(e), Dialect::Postgres) = (c.ty.enum_type(), dialect) {
            let long = std::iter::once(&e.name).chain(&e.values).find(|v| v.len() > 63);
            if let Some(v) = long {
                fail(
                    Some(&c.name),
                    format!("enum `{}`: '{v}' is {} bytes; PostgreSQL allows 63 in a type's name and in each value: choose a shorter one (`#[db_enum(rename = \"...\")]`)", e.name, v.len()),
                );
            }
        }
        if let Some(advice) = missing_type(&c.ty, dialect) {
            fail(Some(&c.name), format!("{dialect} has no {} type: {advice}", c.ty));
        }
        let per_dialect = [
            ("column_type", if let ColumnType::PerDialect(s) = &c.ty { Some(s) } else { None }),
            ("default_expr", if let Some(DefaultValue::PerDialect(s)) = &c.default { Some(s) } else { None }),
        ];
        for (option, spellings) in per_dialect {
            if spellings.is_some_and(|s| s.get(dialect).is_none()) {
                fail(
                    Some(&c.name),
                    format!(
                        "`{option}(...)` gives no SQL for {dialect}, which this crate targets: add `{dialect} = \"...\"`, \
                         or say which databases the crate runs on (`dialects = [...]`)"
                    ),
                );
            }
        }
    }
    for i in &t.indexes {
        if let Some(message) = index_refusal(i, dialect) {
            fail(None, format!("index `{}`: {message}", i.name));
        }
    }
    if dialect != Dialect::Postgres {
        for c in t.constraints().into_iter().filter(Constraint::not_valid) {
            fail(
                None,
                format!(
                    "`{}`: {dialect} checks every row when it adds a constraint, and keeps none NOT VALID: leave out \
                     `not_valid`, or, if the crate runs on PostgreSQL only, say so (`dialects = [\"postgres\"]`)",
                    c.name()
                ),
            );
        }
    }
    if dialect == Dialect::MySql {
        for fk in t.foreign_keys.iter().filter(|fk| fk.deferrable != crate::schema::Deferrable::No) {
            fail(
                fk.columns.first().map(String::as_str),
                format!(
                    "MySQL checks foreign keys at each statement and has no deferrable ones: `{}` cannot be \
                     `deferrable` there",
                    fk.name
                ),
            );
        }
        for c in t.columns.iter().filter(|c| c.ty == ColumnType::UnboundedVarchar) {
            fail(
                Some(&c.name),
                "MySQL has no varchar without a length: give the field `max_length = N`, or leave out `column_type` \
                 for text"
                    .into(),
            );
        }
        let keyed: Vec<&String> = t
            .primary_key
            .iter()
            .chain(t.indexes.iter().flat_map(|i| &i.columns))
            .chain(t.uniques.iter().flat_map(|u| &u.columns))
            .chain(t.foreign_keys.iter().flat_map(|f| &f.columns))
            .collect();
        for c in &t.columns {
            if c.ty == ColumnType::CiText && keyed.contains(&&c.name) {
                fail(
                    Some(&c.name),
                    "MySQL cannot index an unbounded citext column (its text): on MySQL a `String` with \
                     `max_length` compares without regard to case already; spell the type for each database \
                     (`column_type(postgres = \"citext\", mysql = \"varchar(255)\", sqlite = \"text collate nocase\")`)"
                        .into(),
                );
                continue;
            }
            let unbounded = matches!(c.ty, ColumnType::Text | ColumnType::Binary | ColumnType::Json);
            if unbounded && keyed.contains(&&c.name) {
                fail(
                    Some(&c.name),
                    format!("MySQL cannot index an unbounded {} column: give the field `max_length = N`", c.ty),
                );
            }
        }
        for c in t.columns.iter().filter(|c| c.auto_increment) {
            for ch in t.checks.iter().filter(|ch| mentions(&ch.expr, &c.name)) {
                fail(Some(&c.name), format!("check `{}` uses the auto-increment column, which MySQL forbids", ch.name));
            }
        }
    }
}

/// What to do instead of a type `dialect` does not have; `None` when it has it.
fn missing_type(ty: &ColumnType, dialect: Dialect) -> Option<&'static str> {
    use ColumnType::*;
    let only_postgres = "if the crate runs on PostgreSQL only, say so (`dialects = [\"postgres\"]`), or spell a type \
                         for each database (`column_type(postgres = \"...\", mysql = \"...\", sqlite = \"...\")`)";
    match (ty, dialect) {
        (Inet | Cidr, Dialect::MySql) => Some(
            "keep addresses as text (`max_length = 43`), or, if the crate runs on PostgreSQL and SQLite only, say so \
             (`dialects = [\"postgres\", \"sqlite\"]`)",
        ),
        (Interval | TsVector | TimeTz, Dialect::MySql | Dialect::Sqlite) => Some(only_postgres),
        (Array(_), Dialect::MySql | Dialect::Sqlite) => Some(
            "a `Vec<T>` field is a PostgreSQL array; store a JSON document (`serde_json::Value`) or a table of \
             its own instead, or, if the crate runs on PostgreSQL only, say so (`dialects = [\"postgres\"]`)",
        ),
        _ => None,
    }
}

/// What of an index's options `dialect` has no way to build, in words, with what to do.
fn index_refusal(i: &crate::schema::Index, dialect: Dialect) -> Option<String> {
    use crate::schema::IndexMethod;
    let on = |what: &str| format!("{dialect} has no {what}");
    let per_key = |test: fn(&crate::schema::KeyOptions) -> bool| i.keys.iter().any(test);
    let problem = match dialect {
        Dialect::Postgres => None,
        _ if i.method != IndexMethod::Btree => {
            Some(format!("{} (`method = \"{}\"`); it builds B-tree indexes only", on("other index methods"), i.method))
        }
        _ if !i.include.is_empty() => Some(on("`include` columns")),
        _ if per_key(|k| k.opclass.is_some()) => Some(on("operator classes (`opclass(...)`)")),
        _ if per_key(|k| k.nulls_first.is_some()) => {
            Some(format!("{} in an index: leave out `nulls first` / `nulls last`", on("NULLS order")))
        }
        Dialect::MySql if i.columns.iter().any(|k| crate::schema::Index::is_expression(k)) => Some(format!(
            "{} (MariaDB has none; MySQL's differ): index a generated column instead",
            on("portable expression keys")
        )),
        Dialect::MySql if i.predicate.is_some() => Some(on("partial indexes (`where = \"...\"`)")),
        _ => None,
    };
    problem.map(|p| format!("{p}; or, if the crate runs on PostgreSQL only, say so (`dialects = [\"postgres\"]`)"))
}

/// Whether `expr` mentions the identifier `name` (as a whole word, quoted or not).
fn mentions(expr: &str, name: &str) -> bool {
    expr.match_indices(name).any(|(i, _)| {
        let before = expr[..i].chars().next_back();
        let after = expr[i + name.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        boundary(before) && boundary(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;

    fn schema_with(column: Column) -> Schema {
        let mut s = Schema::new();
        s.tables.insert("t".into(), Table::new("t").field(column));
        s
    }

    #[test]
    fn verbatim_sql_needs_a_crate_that_names_its_one_database() {
        let citext = schema_with(Column::new("name", ColumnType::Custom("citext".into())));
        let clock =
            schema_with(Column::new("at", ColumnType::TimestampTz).default(DefaultValue::expr("clock_timestamp()")));
        let now = schema_with(Column::new("at", ColumnType::TimestampTz).default(DefaultValue::expr("now()")));
        for s in [&citext, &clock] {
            let errors = check(s, &Dialect::ALL);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(errors[0].message.contains("dialects = [\"postgres\"]"), "{}", errors[0]);
            assert!(check(s, &[Dialect::Postgres]).is_empty());
        }
        assert!(errors_of(&clock).contains("`default_expr = \"clock_timestamp()\"` (the portable ones are now(), current_date, current_time, gen_uuid(); or give each database its own: `default_expr(postgres = \"...\", mysql = \"...\", sqlite = \"...\")`)"));
        assert!(check(&now, &Dialect::ALL).is_empty());
    }

    fn errors_of(s: &Schema) -> String {
        check(s, &Dialect::ALL).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_type_spelled_per_dialect_needs_every_targeted_dialect() {
        let ty: ColumnType = "sql:postgres=citext|mysql=varchar(255)".parse().expect("a per-dialect type");
        assert!(matches!(ty, ColumnType::PerDialect(_)), "{ty:?}");
        assert_eq!(ty.to_string(), "sql:postgres=citext|mysql=varchar(255)");
        let s = schema_with(Column::new("name", ty));
        assert!(check(&s, &[Dialect::Postgres, Dialect::MySql]).is_empty());
        let errors = check(&s, &Dialect::ALL);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("`column_type(...)` gives no SQL for sqlite"), "{}", errors[0]);
    }

    #[test]
    fn a_default_spelled_per_dialect_needs_every_targeted_dialect() {
        let default = DefaultValue::expr_for(Dialect::Postgres, "clock_timestamp()").and_for(Dialect::MySql, "NOW(6)");
        let s = schema_with(Column::new("at", ColumnType::TimestampTz).default(default));
        assert!(check(&s, &[Dialect::Postgres, Dialect::MySql]).is_empty());
        let errors = check(&s, &Dialect::ALL);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].dialect, errors[0].column.as_deref()), (Dialect::Sqlite, Some("at")));
        assert!(errors[0].message.contains("add `sqlite = \"...\"`"), "{}", errors[0]);
    }

    #[test]
    fn postgres_types_are_refused_where_there_is_no_such_type() {
        let refused_on = |ty: ColumnType| -> Vec<Dialect> {
            let s = schema_with(Column::new("c", ty));
            Dialect::ALL.into_iter().filter(|d| !check(&s, &[*d]).is_empty()).collect()
        };
        assert_eq!(refused_on(ColumnType::JsonText), []);
        assert_eq!(refused_on(ColumnType::Inet), [Dialect::MySql]);
        assert_eq!(refused_on(ColumnType::Cidr), [Dialect::MySql]);
        for ty in [ColumnType::Interval, ColumnType::TsVector, ColumnType::TimeTz] {
            assert_eq!(refused_on(ty), [Dialect::MySql, Dialect::Sqlite]);
        }
        let s = schema_with(Column::new("c", ColumnType::Interval));
        assert!(errors_of(&s).contains("sqlite: `t`.c: sqlite has no interval type"), "{}", errors_of(&s));
    }

    #[test]
    fn varchar_without_a_length_is_refused_on_mysql_only() {
        let s = schema_with(Column::new("title", ColumnType::UnboundedVarchar));
        assert!(check(&s, &[Dialect::Postgres, Dialect::Sqlite]).is_empty());
        let errors = check(&s, &Dialect::ALL);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].dialect, Dialect::MySql);
        assert_eq!(errors[0].column.as_deref(), Some("title"));
        assert!(errors[0].message.contains("give the field `max_length = N`"), "{}", errors[0]);
    }

    #[test]
    fn deferrable_foreign_keys_are_refused_on_mysql_only() {
        let mut s = schema_with(Column::new("parent_id", ColumnType::BigInt));
        let fk = crate::builder::ForeignKey::on("fk_t_parent_id_t", &["parent_id"])
            .references("t", &["id"])
            .deferrable(crate::schema::Deferrable::InitiallyDeferred);
        s.tables.values_mut().for_each(|t| t.foreign_keys.push(fk.clone()));
        assert!(check(&s, &[Dialect::Postgres, Dialect::Sqlite]).is_empty());
        let errors = check(&s, &Dialect::ALL);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("no deferrable ones"), "{}", errors[0]);
    }

    #[test]
    fn index_options_are_refused_where_the_dialect_has_none() {
        use crate::builder::{Index, IndexMethod};
        let cases = [
            (Index::new("ix", &["a"]).using(IndexMethod::Gin), vec![Dialect::MySql, Dialect::Sqlite]),
            (Index::new("ix", &["a"]).include(&["b"]), vec![Dialect::MySql, Dialect::Sqlite]),
            (Index::new("ix", &["a"]).opclass("a", "text_pattern_ops"), vec![Dialect::MySql, Dialect::Sqlite]),
            (Index::new("ix", &["a"]).nulls_first("a"), vec![Dialect::MySql, Dialect::Sqlite]),
            (Index::new("ix", &["(lower(a))"]), vec![Dialect::MySql]),
            (Index::new("ix", &["a"]).partial("a IS NOT NULL"), vec![Dialect::MySql]),
            (Index::new("ix", &["a"]).descending("a"), vec![]),
        ];
        for (index, refused_on) in cases {
            let mut s = schema_with(Column::new("a", ColumnType::Text));
            let t = s.tables.get_mut("t").unwrap();
            t.columns.push(Column::new("b", ColumnType::Integer));
            t.indexes.push(index.clone());
            let errors: Vec<Dialect> = check(&s, &[Dialect::Postgres, Dialect::Sqlite])
                .into_iter()
                .chain(check(&s, &[Dialect::MySql]).into_iter().filter(|e| e.message.starts_with("index")))
                .map(|e| e.dialect)
                .collect();
            let mut expected = refused_on.clone();
            expected.sort_by_key(|d| *d != Dialect::Sqlite);
            assert_eq!(errors, expected, "{}", index.definition());
        }
        let mut s = schema_with(Column::new("a", ColumnType::Text));
        s.tables.get_mut("t").unwrap().indexes.push(Index::new("ix", &["a"]).using(IndexMethod::Brin));
        let message = errors_of(&s);
        assert!(message.contains("index `ix`: mysql has no other index methods (`method = \"brin\"`)"), "{message}");
        assert!(message.contains("dialects = [\"postgres\"]"), "{message}");
    }

    #[test]
    fn index_names_clash_per_database() {
        let mut s = Schema::new();
        for t in ["a", "b"] {
            let mut table = Table::new(t).field(Column::new("created_at", ColumnType::Timestamp));
            table.indexes.push(crate::schema::Index {
                name: "ix_created_at".into(),
                columns: vec!["created_at".into()],
                unique: false,
                explicit_name: true,
                ..Default::default()
            });
            s.tables.insert(t.into(), table);
        }
        assert!(check(&s, &[Dialect::MySql]).is_empty(), "MySQL names indexes per table");
        let errors = check(&s, &[Dialect::Postgres]);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("is used on `a` and on `b`; postgres needs it unique in the whole schema"),
            "{}",
            errors[0]
        );
    }
}
