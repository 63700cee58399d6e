//! Column defaults, compared by typed value (`1.50` equals `1.5`).

use std::fmt;

use crate::dialect::Dialect;

/// A column default or a one-off backfill value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum DefaultValue {
    /// `true` / `false`.
    Bool(bool),
    /// A number in canonical decimal form (see [`canonical_number`]); never passed through `f64`.
    Number(String),
    /// A string literal.
    Text(String),
    /// A SQL expression. The portable `now()`, `current_date`, `current_time` and
    /// `gen_uuid()` map per dialect; anything else is passed through.
    Expr(String),
    /// A SQL expression spelled for each dialect (`clock_timestamp()` on PostgreSQL,
    /// `CURRENT_TIMESTAMP(6)` on MySQL), for what no portable name says.
    PerDialect(DialectSql),
}

/// SQL written for each dialect; a dialect the crate does not target may have none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct DialectSql {
    /// PostgreSQL's spelling.
    pub postgres: Option<String>,
    /// MySQL's and MariaDB's spelling.
    pub mysql: Option<String>,
    /// SQLite's spelling.
    pub sqlite: Option<String>,
}

impl DialectSql {
    /// The spelling for `dialect`, if given.
    pub fn get(&self, dialect: Dialect) -> Option<&str> {
        match dialect {
            Dialect::Postgres => self.postgres.as_deref(),
            Dialect::MySql => self.mysql.as_deref(),
            Dialect::Sqlite => self.sqlite.as_deref(),
        }
    }

    /// The spelling for `dialect` set to `sql`.
    pub fn set(&mut self, dialect: Dialect, sql: &str) {
        let slot = match dialect {
            Dialect::Postgres => &mut self.postgres,
            Dialect::MySql => &mut self.mysql,
            Dialect::Sqlite => &mut self.sqlite,
        };
        *slot = Some(sql.trim().to_string());
    }

    /// The same spellings with `dialect`'s set to `sql`.
    pub fn with(mut self, dialect: Dialect, sql: &str) -> Self {
        self.set(dialect, sql);
        self
    }

    /// Each dialect with its spelling, in [`Dialect::ALL`]'s order.
    pub fn spellings(&self) -> impl Iterator<Item = (Dialect, &str)> {
        Dialect::ALL.into_iter().filter_map(|d| self.get(d).map(|s| (d, s)))
    }
}

impl DefaultValue {
    /// A number default from its source text, canonicalised; `None` if the text is not a number.
    pub fn number(text: &str) -> Option<Self> {
        canonical_number(text).map(Self::Number)
    }

    /// An expression default, with the portable names in canonical spelling.
    pub fn expr(text: &str) -> Self {
        Self::Expr(canonical_expr(text))
    }

    /// An expression spelled for `dialect` only; add the others with
    /// [`DefaultValue::and_for`].
    pub fn expr_for(dialect: Dialect, sql: &str) -> Self {
        Self::PerDialect(DialectSql::default().with(dialect, sql))
    }

    /// This per-dialect expression, spelled for `dialect` as well.
    ///
    /// # Panics
    /// If it is not a per-dialect expression (a generated migration never does that).
    pub fn and_for(self, dialect: Dialect, sql: &str) -> Self {
        match self {
            Self::PerDialect(spellings) => Self::PerDialect(spellings.with(dialect, sql)),
            other => panic!("`and_for` follows `DefaultValue::expr_for`, not {other:?}"),
        }
    }

    /// The value as `dialect` takes it: a per-dialect expression becomes that dialect's
    /// expression (one a crate does not target, for which the build lets no migration
    /// through, takes the first spelling given), anything else stays as it is.
    pub fn on(&self, dialect: Dialect) -> std::borrow::Cow<'_, Self> {
        match self {
            Self::PerDialect(spellings) => {
                let sql = spellings.get(dialect).or_else(|| spellings.spellings().next().map(|(_, s)| s));
                std::borrow::Cow::Owned(Self::expr(sql.unwrap_or("NULL")))
            }
            other => std::borrow::Cow::Borrowed(other),
        }
    }
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => f.write_str(n),
            Self::Text(s) => write!(f, "{s:?}"),
            Self::Expr(e) => write!(f, "{e}"),
            Self::PerDialect(spellings) => {
                let each: Vec<String> = spellings.spellings().map(|(d, s)| format!("{d}: {s}")).collect();
                write!(f, "{{{}}}", each.join(", "))
            }
        }
    }
}

/// The portable expression names that every dialect maps to its own spelling.
pub const PORTABLE_EXPRS: [&str; 4] = ["now()", "current_date", "current_time", "gen_uuid()"];

fn canonical_expr(text: &str) -> String {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    match lower.as_str() {
        "now()" | "current_timestamp" | "current_timestamp()" => "now()".into(),
        "current_date" | "current_date()" => "current_date".into(),
        "current_time" | "current_time()" => "current_time".into(),
        "gen_uuid()" => "gen_uuid()".into(),
        _ => trimmed.to_string(),
    }
}

/// Canonical decimal text of a number literal: no `+`, no leading zeros, no trailing
/// fractional zeros, no `_`, exponent folded in; `-0` is `0`. `None` if it is not a number.
pub fn canonical_number(text: &str) -> Option<String> {
    // A plain integer (the usual default) is its own canonical form.
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0')) {
        return Some(text.to_string());
    }
    let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
    let (negative, rest) = match cleaned.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    // All digits and the position of the decimal point within them.
    let digits: String = format!("{int_part}{frac_part}");
    let point = i64::try_from(int_part.len()).ok()?.checked_add(exponent)?;
    if !(-400..=400).contains(&point) {
        return None;
    }
    let (mut whole, mut frac) = if point <= 0 {
        (String::from("0"), format!("{}{}", "0".repeat(usize::try_from(-point).ok()?), digits))
    } else {
        let p = usize::try_from(point).ok()?;
        if p >= digits.len() {
            (format!("{digits}{}", "0".repeat(p - digits.len())), String::new())
        } else {
            (digits[..p].to_string(), digits[p..].to_string())
        }
    };
    let trimmed_whole = whole.trim_start_matches('0');
    whole = if trimmed_whole.is_empty() { "0".into() } else { trimmed_whole.into() };
    frac = frac.trim_end_matches('0').to_string();
    let zero = whole == "0" && frac.is_empty();
    let sign = if negative && !zero { "-" } else { "" };
    Some(if frac.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{frac}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(canonical_number("100").as_deref(), Some("100"));
        assert_eq!(canonical_number("0").as_deref(), Some("0"));
        assert_eq!(canonical_number("1.50").as_deref(), Some("1.5"));
        assert_eq!(canonical_number("1.0").as_deref(), Some("1"));
        assert_eq!(canonical_number("007").as_deref(), Some("7"));
        assert_eq!(canonical_number("-0.0").as_deref(), Some("0"));
        assert_eq!(canonical_number("1_000").as_deref(), Some("1000"));
        assert_eq!(canonical_number("1.5e2").as_deref(), Some("150"));
        assert_eq!(canonical_number("15e-3").as_deref(), Some("0.015"));
        assert_eq!(
            canonical_number("12345678901234567890.123456789").as_deref(),
            Some("12345678901234567890.123456789")
        );
        assert_eq!(canonical_number("abc"), None);
        assert_eq!(canonical_number("."), None);
        assert_eq!(canonical_number("1e99999"), None);
    }

    #[test]
    fn portable_expressions_are_canonical() {
        assert_eq!(DefaultValue::expr("CURRENT_TIMESTAMP"), DefaultValue::Expr("now()".into()));
        assert_eq!(DefaultValue::expr(" now() "), DefaultValue::Expr("now()".into()));
        assert_eq!(DefaultValue::expr("lower('X')"), DefaultValue::Expr("lower('X')".into()));
    }
}
