//! Column types: the portable list (see `model/rust_type.rs`) plus a verbatim escape hatch.

use std::fmt;
use std::str::FromStr;

/// The type of a column, independent of any SQL dialect.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum ColumnType {
    /// 16-bit integer (`i16`).
    SmallInt,
    /// 32-bit integer (`i32`).
    Integer,
    /// 64-bit integer (`i64`).
    BigInt,
    /// Boolean (`bool`).
    Boolean,
    /// 32-bit float (`f32`).
    Real,
    /// 64-bit float (`f64`).
    Double,
    /// Exact decimal with `precision` digits, `scale` of them after the point.
    Decimal {
        /// Total number of digits.
        precision: u32,
        /// Digits after the decimal point.
        scale: u32,
    },
    /// Bounded string (`String` with `max_length`).
    Varchar(u32),
    /// A string of any length declared as `varchar` (`column_type = "varchar"`):
    /// PostgreSQL's `character varying` without a length, which databases adopted from
    /// PostgreSQL use where `text` would do. MySQL has no such type.
    UnboundedVarchar,
    /// Unbounded string (`String`).
    Text,
    /// Bytes (`Vec<u8>`).
    Binary,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// Date and time without time zone.
    Timestamp,
    /// Date and time with time zone (an instant).
    TimestampTz,
    /// UUID.
    Uuid,
    /// JSON document (`jsonb` on PostgreSQL: parsed, indexable).
    Json,
    /// PostgreSQL's `json`: the document kept as written (key order, duplicate keys,
    /// spaces). Elsewhere the same as [`ColumnType::Json`].
    JsonText,
    /// An IP address with an optional netmask (PostgreSQL's `inet`; text on SQLite).
    Inet,
    /// An IP network (PostgreSQL's `cidr`; text on SQLite).
    Cidr,
    /// A span of time (PostgreSQL's `interval`).
    Interval,
    /// A document prepared for full-text search (PostgreSQL's `tsvector`).
    TsVector,
    /// Time of day with a time zone (PostgreSQL's `time with time zone`).
    TimeTz,
    /// Text compared without regard to case (PostgreSQL's `citext`, from the extension of
    /// that name; MySQL's text, whose collation already ignores case; SQLite's text
    /// `COLLATE NOCASE`).
    CiText,
    /// A PostgreSQL array of a portable type (`Vec<T>`, written `text[]`); the other
    /// databases have none.
    Array(Box<ColumnType>),
    /// An enumerated type (`#[derive(DbEnum)]`): PostgreSQL's `CREATE TYPE ... AS ENUM`,
    /// MySQL's `ENUM(...)`, text with a `CHECK` of the values on SQLite.
    Enum(super::EnumType),
    /// A type written verbatim by the user (`column_type = "..."`), passed to every dialect as is.
    Custom(String),
    /// A type written verbatim for each dialect (`column_type(postgres = "citext", mysql
    /// = "varchar(255)")`).
    PerDialect(super::DialectSql),
}

impl ColumnType {
    /// Every portable type without parameters, in declaration order (a timestamp
    /// before a timestamp with time zone).
    pub const PARAMETERLESS: [ColumnType; 22] = [
        Self::SmallInt,
        Self::Integer,
        Self::BigInt,
        Self::Boolean,
        Self::Real,
        Self::Double,
        Self::UnboundedVarchar,
        Self::Text,
        Self::Binary,
        Self::Date,
        Self::Time,
        Self::Timestamp,
        Self::TimestampTz,
        Self::Uuid,
        Self::Json,
        Self::JsonText,
        Self::Inet,
        Self::Cidr,
        Self::Interval,
        Self::TsVector,
        Self::TimeTz,
        Self::CiText,
    ];

    /// Whether the type is an integer type (may carry `auto_increment`).
    pub fn is_integer(&self) -> bool {
        matches!(self, Self::SmallInt | Self::Integer | Self::BigInt)
    }

    /// Whether the type holds text.
    pub fn is_string(&self) -> bool {
        matches!(self, Self::Varchar(_) | Self::UnboundedVarchar | Self::Text | Self::CiText)
    }

    /// Whether the type holds a number (integer, float or decimal).
    pub fn is_numeric(&self) -> bool {
        self.is_integer() || matches!(self, Self::Real | Self::Double | Self::Decimal { .. })
    }
}

impl ColumnType {
    /// The portable name of a type without parameters (`bigint`); `None` for
    /// `decimal(P,S)`, `varchar(N)` and `sql:…`.
    pub fn plain_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::SmallInt => "smallint",
            Self::Integer => "integer",
            Self::BigInt => "bigint",
            Self::Boolean => "boolean",
            Self::Real => "real",
            Self::Double => "double",
            Self::UnboundedVarchar => "varchar",
            Self::Text => "text",
            Self::Binary => "binary",
            Self::Date => "date",
            Self::Time => "time",
            Self::Timestamp => "timestamp",
            Self::TimestampTz => "timestamptz",
            Self::Uuid => "uuid",
            Self::Json => "json",
            Self::JsonText => "json_text",
            Self::Inet => "inet",
            Self::Cidr => "cidr",
            Self::Interval => "interval",
            Self::TsVector => "tsvector",
            Self::TimeTz => "timetz",
            Self::CiText => "citext",
            Self::Decimal { .. }
            | Self::Varchar(_)
            | Self::Array(_)
            | Self::Enum(_)
            | Self::Custom(_)
            | Self::PerDialect(_) => return None,
        })
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Self::Varchar(n) => write!(f, "varchar({n})"),
            Self::Array(element) => write!(f, "{element}[]"),
            Self::Enum(ty) => write!(f, "{ty}"),
            Self::Custom(sql) => write!(f, "sql:{sql}"),
            Self::PerDialect(spellings) => {
                let each: Vec<String> = spellings.spellings().map(|(d, sql)| format!("{d}={sql}")).collect();
                write!(f, "sql:{}", each.join("|"))
            }
            plain => f.write_str(plain.plain_name().unwrap_or_default()),
        }
    }
}

/// `postgres=citext|mysql=varchar(255)`, [`ColumnType::PerDialect`]'s text; `None` for
/// anything else (a verbatim type, which never starts with a dialect's name and `=`).
fn per_dialect(text: &str) -> Option<super::DialectSql> {
    let mut spellings = super::DialectSql::default();
    for part in text.split('|') {
        let (dialect, sql) = part.split_once('=')?;
        let dialect: crate::Dialect = dialect.trim().parse().ok()?;
        if sql.trim().is_empty() || spellings.get(dialect).is_some() {
            return None;
        }
        spellings.set(dialect, sql);
    }
    Some(spellings)
}

impl ColumnType {
    /// The type as `dialect` takes it: a per-dialect type becomes that dialect's
    /// verbatim type (one a crate does not target, for which the build lets no
    /// migration through, takes the first spelling given); anything else stays.
    pub fn on(&self, dialect: crate::Dialect) -> std::borrow::Cow<'_, Self> {
        match self {
            Self::PerDialect(spellings) => {
                let sql = spellings.get(dialect).or_else(|| spellings.spellings().next().map(|(_, s)| s));
                std::borrow::Cow::Owned(Self::Custom(sql.unwrap_or("text").to_string()))
            }
            other => std::borrow::Cow::Borrowed(other),
        }
    }

    /// A type written verbatim for `dialect` only; add the others with
    /// [`ColumnType::and_for`].
    pub fn sql_for(dialect: crate::Dialect, sql: &str) -> Self {
        Self::PerDialect(super::DialectSql::default().with(dialect, sql))
    }

    /// This per-dialect type, written for `dialect` as well.
    ///
    /// # Panics
    /// If it is not a per-dialect type (a generated migration never does that).
    pub fn and_for(self, dialect: crate::Dialect, sql: &str) -> Self {
        match self {
            Self::PerDialect(spellings) => Self::PerDialect(spellings.with(dialect, sql)),
            other => panic!("`and_for` follows `ColumnType::sql_for`, not {other:?}"),
        }
    }

    /// An array of `element` (PostgreSQL).
    pub fn array_of(element: ColumnType) -> Self {
        Self::Array(Box::new(element))
    }

    /// Whether an array may hold it: a portable type that is not an array or an
    /// enumerated type itself.
    pub fn can_be_an_array_element(&self) -> bool {
        !matches!(self, Self::Array(_) | Self::Enum(_)) && !self.is_verbatim()
    }

    /// Whether it is SQL written by a person rather than a portable type.
    pub fn is_verbatim(&self) -> bool {
        matches!(self, Self::Custom(_) | Self::PerDialect(_))
    }
}

/// A type name that is not one of the portable names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown column type `{0}`: expected one of smallint, integer, bigint, boolean, real, double, decimal(P,S), varchar(N), varchar, text, binary, date, time, timestamp, timestamptz, uuid, json, json_text, inet, cidr, interval, tsvector, timetz, citext, an array of one of these (text[]), enum name('a', 'b'), or sql:<verbatim SQL type>")]
pub struct UnknownType(pub String);

impl FromStr for ColumnType {
    type Err = UnknownType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownType(s.to_string());
        if let Some(sql) = s.strip_prefix("sql:") {
            if let Some(spellings) = per_dialect(sql) {
                return Ok(Self::PerDialect(spellings));
            }
            return if sql.trim().is_empty() { Err(unknown()) } else { Ok(Self::Custom(sql.to_string())) };
        }
        if s.trim_start().starts_with("enum ") {
            return super::EnumType::parse(s).map(Self::Enum).ok_or_else(unknown);
        }
        if let Some(element) = s.trim().strip_suffix("[]") {
            return match element.parse::<ColumnType>()? {
                e if e.can_be_an_array_element() => Ok(Self::Array(Box::new(e))),
                _ => Err(unknown()),
            };
        }
        let lower = s.trim().to_ascii_lowercase();
        let simple = match lower.as_str() {
            "smallint" => Some(Self::SmallInt),
            "integer" | "int" => Some(Self::Integer),
            "bigint" => Some(Self::BigInt),
            "boolean" | "bool" => Some(Self::Boolean),
            "real" => Some(Self::Real),
            "double" => Some(Self::Double),
            "varchar" => Some(Self::UnboundedVarchar),
            "text" => Some(Self::Text),
            "binary" => Some(Self::Binary),
            "date" => Some(Self::Date),
            "time" => Some(Self::Time),
            "timestamp" => Some(Self::Timestamp),
            "timestamptz" => Some(Self::TimestampTz),
            "uuid" => Some(Self::Uuid),
            "json" | "jsonb" => Some(Self::Json),
            "json_text" => Some(Self::JsonText),
            "inet" => Some(Self::Inet),
            "cidr" => Some(Self::Cidr),
            "interval" => Some(Self::Interval),
            "tsvector" => Some(Self::TsVector),
            "timetz" => Some(Self::TimeTz),
            "citext" => Some(Self::CiText),
            _ => None,
        };
        if let Some(t) = simple {
            return Ok(t);
        }
        let args = |prefix: &str| -> Option<Vec<u32>> {
            let inner = lower.strip_prefix(prefix)?.strip_prefix('(')?.strip_suffix(')')?;
            inner.split(',').map(|p| p.trim().parse::<u32>().ok()).collect()
        };
        if let Some(a) = args("varchar") {
            if let [n] = a[..] {
                if n > 0 {
                    return Ok(Self::Varchar(n));
                }
            }
        }
        if let Some(a) = args("decimal") {
            if let [precision, scale] = a[..] {
                if precision > 0 && scale <= precision {
                    return Ok(Self::Decimal { precision, scale });
                }
            }
        }
        Err(unknown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name() {
        let mut all = ColumnType::PARAMETERLESS.to_vec();
        all.extend([
            ColumnType::Decimal { precision: 10, scale: 2 },
            ColumnType::Varchar(50),
            ColumnType::Custom("citext".into()),
            ColumnType::enumeration("mood", &["happy", "it's ok"]),
        ]);
        for t in all {
            assert_eq!(t.to_string().parse::<ColumnType>(), Ok(t));
        }
    }

    #[test]
    fn bad_type_names_are_refused() {
        for bad in ["varchar(0)", "varchar()", "decimal(2,5)", "sql:", "strange"] {
            assert!(bad.parse::<ColumnType>().is_err(), "{bad}");
        }
    }
}
