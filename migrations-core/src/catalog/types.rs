//! Column types as a database's catalog reports them, read back into [`ColumnType`]:
//! the inverse of [`column_type_sql`], which also knows each catalog's own spelling
//! (`character varying(20)`, `int(11)`, `tinyint(1)`) and the common aliases (`int4`,
//! `float8`). A type that is none of the portable ones stays verbatim, as
//! [`ColumnType::Custom`].

use crate::dialect::Dialect;
use crate::render::column_type_sql;
use crate::schema::ColumnType;

/// Every portable type without parameters, tried in order against a reported name (the
/// first whose spelling matches wins): MySQL spells a timestamp and a timestamp with
/// time zone both `DATETIME(6)`, and a value without a zone is what that column holds.
const PLAIN: [ColumnType; 22] = ColumnType::PARAMETERLESS;

/// The type a catalog reports as `reported`, in `dialect`.
///
/// ```
/// use migrations_core::catalog::column_type;
/// use migrations_core::{ColumnType, Dialect};
///
/// assert_eq!(column_type("character varying(20)", Dialect::Postgres), ColumnType::Varchar(20));
/// assert_eq!(column_type("tinyint(1)", Dialect::MySql), ColumnType::Boolean);
/// assert_eq!(column_type("character varying", Dialect::Postgres), ColumnType::UnboundedVarchar);
/// assert_eq!(column_type("tsvector", Dialect::Postgres), ColumnType::TsVector);
/// assert_eq!(column_type("ltree", Dialect::Postgres), ColumnType::Custom("ltree".into()));
/// ```
pub fn column_type(reported: &str, dialect: Dialect) -> ColumnType {
    // MySQL's `enum('a','b')`: the list without a type name (MySQL keeps none).
    if dialect == Dialect::MySql {
        let trimmed = reported.trim();
        if trimmed.len() > 5 && trimmed[..5].eq_ignore_ascii_case("enum(") && trimmed.ends_with(')') {
            if let Some(values) = crate::schema::parse_quoted_list(&trimmed[5..trimmed.len() - 1]) {
                return ColumnType::Enum(crate::schema::EnumType { name: String::new(), values });
            }
        }
    }
    let name = normal(reported);
    if let Some(element) = reported.trim().strip_suffix("[]").filter(|_| dialect == Dialect::Postgres) {
        let element = column_type(element, dialect);
        if element.can_be_an_array_element() {
            return ColumnType::array_of(element);
        }
    }
    if let Some(t) = catalog_spelling(&name, dialect) {
        return t;
    }
    // (MySQL has no unbounded varchar: its stand-in, `longtext`, is text.)
    let exists = |t: &&ColumnType| !(dialect == Dialect::MySql && **t == ColumnType::UnboundedVarchar);
    if let Some(t) = PLAIN.iter().filter(exists).find(|t| normal(&column_type_sql(t, dialect)) == name) {
        return t.clone();
    }
    let args = |prefixes: &[&str]| -> Option<Vec<u32>> {
        let inner = prefixes.iter().find_map(|p| name.strip_prefix(p)?.strip_prefix('('))?.strip_suffix(')')?;
        inner.split(',').map(|a| a.parse().ok()).collect()
    };
    if let Some([n]) = args(&["varchar", "character varying"]).as_deref() {
        if *n > 0 {
            return ColumnType::Varchar(*n);
        }
    }
    if let Some([precision, scale]) = args(&["decimal", "numeric"]).as_deref() {
        if *precision > 0 && scale <= precision {
            return ColumnType::Decimal { precision: *precision, scale: *scale };
        }
    }
    ColumnType::Custom(reported.trim().to_string())
}

/// The type as the catalog of `dialect` would report it back: what a column declared
/// `ty` is, seen from the database (`sql:int4` is an `integer`; on MySQL a
/// `timestamptz` is a `timestamp`).
pub fn as_reported(ty: &ColumnType, dialect: Dialect) -> ColumnType {
    // An enumerated type: PostgreSQL reports it by name and list; MySQL and SQLite (its
    // CHECK, read back) by list alone.
    if let ColumnType::Enum(e) = ty {
        return match dialect {
            Dialect::Postgres => ty.clone(),
            _ => ColumnType::Enum(crate::schema::EnumType { name: String::new(), values: e.values.clone() }),
        };
    }
    match column_type(&column_type_sql(ty, dialect), dialect) {
        // Case is not part of a custom type's name.
        ColumnType::Custom(sql) => ColumnType::Custom(normal(&sql)),
        other => other,
    }
}

/// Lower case, single spaces, none around `(`, `)` and `,`.
fn normal(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.join(" ").replace(" (", "(").replace("( ", "(").replace(" )", ")").replace(", ", ",").replace(" ,", ",")
}

/// The catalog's own names and the aliases people write.
fn catalog_spelling(name: &str, dialect: Dialect) -> Option<ColumnType> {
    use ColumnType::*;
    Some(match (name, dialect) {
        ("int2", Dialect::Postgres) => SmallInt,
        ("int" | "int4", Dialect::Postgres) => Integer,
        ("int8", Dialect::Postgres) => BigInt,
        ("bool", Dialect::Postgres) => Boolean,
        ("float4", Dialect::Postgres) => Real,
        ("float8", Dialect::Postgres) => Double,
        ("character varying", Dialect::Postgres) => UnboundedVarchar,
        ("time without time zone", Dialect::Postgres) => Time,
        ("timestamp without time zone", Dialect::Postgres) => Timestamp,
        ("timestamp with time zone", Dialect::Postgres) => TimestampTz,
        ("time with time zone", Dialect::Postgres) => TimeTz,
        // `BOOLEAN` is `tinyint(1)` to MySQL; display widths of the other integers are
        // not part of the type (MariaDB shows them, MySQL 8 does not).
        ("tinyint(1)" | "boolean" | "bool", Dialect::MySql) => Boolean,
        (n, Dialect::MySql) if n.starts_with("smallint(") && n.ends_with(')') => SmallInt,
        (n, Dialect::MySql) if n.starts_with("int(") && n.ends_with(')') => Integer,
        ("integer", Dialect::MySql) => Integer,
        (n, Dialect::MySql) if n.starts_with("bigint(") && n.ends_with(')') => BigInt,
        ("int", Dialect::Sqlite) => Integer,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_portable_type_reads_back_as_itself() {
        let mut all = PLAIN.to_vec();
        all.extend([ColumnType::Varchar(20), ColumnType::Decimal { precision: 10, scale: 2 }]);
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            for ty in &all {
                let expected = match (ty, dialect) {
                    (ColumnType::TimestampTz, Dialect::MySql) => ColumnType::Timestamp,
                    // (MySQL has none; what it would be written as is text.)
                    (ColumnType::UnboundedVarchar, Dialect::MySql) => ColumnType::Text,
                    // One JSON type there; addresses are text on SQLite; the others have
                    // no such type, and the build refuses them (what they would be
                    // written as is read back).
                    (ColumnType::JsonText, Dialect::MySql | Dialect::Sqlite) => ColumnType::Json,
                    (
                        ColumnType::Inet | ColumnType::Cidr | ColumnType::Interval | ColumnType::TsVector,
                        Dialect::Sqlite,
                    ) => ColumnType::Text,
                    (
                        ColumnType::Inet | ColumnType::Cidr | ColumnType::Interval | ColumnType::TsVector,
                        Dialect::MySql,
                    ) => ColumnType::Text,
                    (ColumnType::TimeTz, Dialect::MySql | Dialect::Sqlite) => ColumnType::Time,
                    // MySQL's text compares without case already: it is its citext.
                    (ColumnType::CiText, Dialect::MySql) => ColumnType::Text,
                    _ => ty.clone(),
                };
                assert_eq!(column_type(&column_type_sql(ty, dialect), dialect), expected, "{ty} on {dialect:?}");
            }
        }
    }

    #[test]
    fn catalog_spellings_read_as_portable_types() {
        assert_eq!(column_type("numeric(12,4)", Dialect::Postgres), ColumnType::Decimal { precision: 12, scale: 4 });
        assert_eq!(column_type("timestamp with time zone", Dialect::Postgres), ColumnType::TimestampTz);
        assert_eq!(column_type("jsonb", Dialect::Postgres), ColumnType::Json);
        assert_eq!(column_type("json", Dialect::Postgres), ColumnType::JsonText);
        assert_eq!(column_type("json", Dialect::MySql), ColumnType::Json);
        assert_eq!(column_type("time with time zone", Dialect::Postgres), ColumnType::TimeTz);
        assert_eq!(column_type("inet", Dialect::Postgres), ColumnType::Inet);
        assert_eq!(column_type("citext", Dialect::Postgres), ColumnType::CiText);
        assert_eq!(column_type("text[]", Dialect::Postgres), ColumnType::array_of(ColumnType::Text));
        assert_eq!(column_type("ltree[]", Dialect::Postgres), ColumnType::Custom("ltree[]".into()));
        assert_eq!(column_type("bigint(20)", Dialect::MySql), ColumnType::BigInt);
        assert_eq!(column_type("int(11)", Dialect::MySql), ColumnType::Integer);
        assert_eq!(column_type("int(10) unsigned", Dialect::MySql), ColumnType::Custom("int(10) unsigned".into()));
        assert_eq!(column_type("binary(16)", Dialect::MySql), ColumnType::Uuid);
        assert_eq!(as_reported(&ColumnType::Custom("INT4".into()), Dialect::Postgres), ColumnType::Integer);
        assert_eq!(
            as_reported(&ColumnType::Custom("LTREE".into()), Dialect::Postgres),
            ColumnType::Custom("ltree".into())
        );
    }
}
