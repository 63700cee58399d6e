//! Column defaults, compared by typed value (`1.50` equals `1.5`).

use std::fmt;

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
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => f.write_str(n),
            Self::Text(s) => write!(f, "{s:?}"),
            Self::Expr(e) => write!(f, "{e}"),
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
