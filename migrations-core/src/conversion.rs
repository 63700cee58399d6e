//! Checking, before a column changes type, that every value it holds fits the new type.
//!
//! Databases disagree on what happens to a value that does not fit: PostgreSQL refuses
//! (and rolls back), MySQL in strict mode refuses after committing the migration's
//! earlier statements, SQLite keeps `'abc'` as text in what is now an integer column
//! without a word. So the runtime
//! reads the column first and refuses the migration, before any of its statements run,
//! naming the first value that does not fit.

use crate::operation::narrows;
use crate::{ColumnType, Dialect, Operation};

/// A read of one column whose every non-NULL value must fit `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionCheck {
    /// The table.
    pub table: String,
    /// The column (its name before the operation).
    pub column: String,
    /// The type it is changing to.
    pub target: ColumnType,
    /// `SELECT` of the column's non-NULL values as text.
    pub sql: String,
}

fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The check `op` needs, if it changes a column's type in a way some value might not
/// survive (a narrowing, or text to anything that is not text).
pub fn check_for(op: &Operation, dialect: Dialect) -> Option<ConversionCheck> {
    let Operation::AlterField { table, old, new, .. } = op else { return None };
    check_column(table, &old.name, &old.ty, &new.ty, dialect)
}

/// The check for changing `table.column` from `old` to `new`, if it needs one.
pub fn check_column(
    table: &str,
    column: &str,
    old: &ColumnType,
    new: &ColumnType,
    dialect: Dialect,
) -> Option<ConversionCheck> {
    let lossy = old != new && (narrows(old, new) || (old.is_string() && !new.is_string()));
    if !lossy || new.is_verbatim() || matches!(new, ColumnType::Text | ColumnType::Json | ColumnType::Binary) {
        return None;
    }
    let (t, c) = (quote(dialect, table), quote(dialect, column));
    let as_text = match dialect {
        Dialect::Postgres => format!("{c}::text"),
        Dialect::MySql => format!("CAST({c} AS CHAR)"),
        Dialect::Sqlite => format!("CAST({c} AS TEXT)"),
    };
    Some(ConversionCheck {
        table: table.to_string(),
        column: column.to_string(),
        target: new.clone(),
        sql: format!("SELECT {as_text} FROM {t} WHERE {c} IS NOT NULL"),
    })
}

impl ConversionCheck {
    /// The first value that does not fit, if any.
    pub fn first_misfit<'a>(&self, values: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        values.into_iter().find(|v| !fits(v, &self.target))
    }
}

/// Whether `value` (as the database printed it) converts to `ty` without loss.
pub fn fits(value: &str, ty: &ColumnType) -> bool {
    use ColumnType::*;
    let v = value.trim();
    let int =
        |min: i64, max: i64| v.strip_prefix('+').unwrap_or(v).parse::<i64>().is_ok_and(|n| (min..=max).contains(&n));
    match ty {
        SmallInt => int(i16::MIN.into(), i16::MAX.into()),
        Integer => int(i32::MIN.into(), i32::MAX.into()),
        BigInt => int(i64::MIN, i64::MAX),
        Real => v.parse::<f32>().is_ok_and(f32::is_finite),
        Double => v.parse::<f64>().is_ok_and(f64::is_finite),
        Decimal { precision, scale } => decimal_fits(v, *precision, *scale),
        Boolean => {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "0" | "1" | "t" | "f" | "true" | "false" | "y" | "n" | "yes" | "no"
            )
        }
        Varchar(n) => value.chars().count() <= *n as usize,
        Date => is_date(v),
        Time => is_time(v),
        Timestamp | TimestampTz => match v.split_once([' ', 'T']) {
            Some((d, t)) => is_date(d) && is_time(t.trim_end_matches('Z').split(['+', '-']).next().unwrap_or(t)),
            None => is_date(v),
        },
        Uuid => {
            let hex: String = v.chars().filter(|c| *c != '-').collect();
            hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        // An address with an optional netmask (`10.0.0.1`, `10.0.0.0/8`, `::1/128`).
        Inet | Cidr => {
            let (address, mask) = v.split_once('/').map_or((v, None), |(a, m)| (a, Some(m)));
            let max = if address.contains(':') { 128 } else { 32 };
            address.parse::<std::net::IpAddr>().is_ok() && mask.is_none_or(|m| m.parse::<u8>().is_ok_and(|m| m <= max))
        }
        Enum(e) => e.values.iter().any(|x| x == value),
        UnboundedVarchar | Text | CiText | Binary | Json | JsonText | Interval | TsVector | TimeTz | Array(_)
        | Custom(_) | PerDialect(_) => true,
    }
}

fn decimal_fits(v: &str, precision: u32, scale: u32) -> bool {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
        return false;
    }
    let whole = whole.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    whole.len() as u64 <= u64::from(precision.saturating_sub(scale)) && frac.len() as u64 <= u64::from(scale)
}

fn numbers(s: &str, widths: &[usize]) -> bool {
    let parts: Vec<&str> = s.split(['-', ':']).collect();
    parts.len() == widths.len()
        && parts.iter().zip(widths).all(|(p, w)| p.len() == *w && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_date(s: &str) -> bool {
    numbers(s, &[4, 2, 2])
}

fn is_time(s: &str) -> bool {
    let whole = s.split('.').next().unwrap_or(s);
    numbers(whole, &[2, 2, 2]) || numbers(whole, &[2, 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_fits() {
        use ColumnType::*;
        assert!(fits(" 42 ", &Integer) && fits("+7", &SmallInt) && !fits("40000", &SmallInt));
        assert!(!fits("abc", &Integer) && !fits("1.5", &BigInt) && !fits("", &Integer));
        assert!(
            fits("12.50", &Decimal { precision: 4, scale: 1 }) && !fits("12.55", &Decimal { precision: 4, scale: 1 })
        );
        assert!(!fits("12345", &Decimal { precision: 5, scale: 2 }));
        assert!(fits("héllo", &Varchar(5)) && !fits("héllo!", &Varchar(5)));
        assert!(fits("true", &Boolean) && !fits("maybe", &Boolean));
        assert!(fits("2026-11-22", &Date) && !fits("22/11/2026", &Date));
        assert!(fits("2026-11-22 04:30:00.123+00", &TimestampTz) && fits("2026-11-22T04:30:00Z", &Timestamp));
        assert!(fits("1e3", &Double) && !fits("NaN", &Double));
    }
}
