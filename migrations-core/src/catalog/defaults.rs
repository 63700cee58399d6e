//! Column defaults as a database's catalog reports them, read back into
//! [`DefaultValue`]: the inverse of [`default_sql`], which also knows each server's
//! own spelling (`'a'::character varying`, `current_timestamp(6)`, `b'1'`).

use crate::civil::DateTimeText;
use crate::dialect::Dialect;
use crate::render::default_sql;
use crate::schema::{canonical_number, ColumnType, DefaultValue};

/// The default a catalog reports as `reported` for a column of type `ty`; `None` for
/// no default (MariaDB reports a nullable column's as the word `NULL`).
///
/// ```
/// use migrations_core::catalog::default_value;
/// use migrations_core::{ColumnType, DefaultValue, Dialect};
///
/// let text = default_value("'draft'::character varying", &ColumnType::Varchar(20), Dialect::Postgres);
/// assert_eq!(text, Some(DefaultValue::Text("draft".into())));
/// let now = default_value("current_timestamp(6)", &ColumnType::Timestamp, Dialect::MySql);
/// assert_eq!(now, Some(DefaultValue::Expr("now()".into())));
/// ```
pub fn default_value(reported: &str, ty: &ColumnType, dialect: Dialect) -> Option<DefaultValue> {
    let s = unwrapped(reported);
    if s.eq_ignore_ascii_case("null") || s.is_empty() {
        return None;
    }
    if let Some(text) = literal(s, dialect).or_else(|| uuid_literal(s, dialect)) {
        return Some(typed(text, ty));
    }
    // MySQL reports an `ENUM` column's default unquoted.
    if ty.enum_type().is_some_and(|e| e.values.iter().any(|v| v == s)) {
        return Some(DefaultValue::Text(s.to_string()));
    }
    if let Some(n) = canonical_number(s) {
        return Some(match ty {
            ColumnType::Boolean => DefaultValue::Bool(n != "0"),
            _ => DefaultValue::Number(n),
        });
    }
    if let Some(e) = portable_expr(s) {
        return Some(DefaultValue::Expr(e.into()));
    }
    match s.to_ascii_lowercase().as_str() {
        "true" => Some(DefaultValue::Bool(true)),
        "false" => Some(DefaultValue::Bool(false)),
        _ => Some(DefaultValue::Expr(s.to_string())),
    }
}

/// The default as the catalog of `dialect` would report it back.
pub fn as_reported(value: &DefaultValue, ty: &ColumnType, dialect: Dialect) -> Option<DefaultValue> {
    default_value(&default_sql(value, ty, dialect), ty, dialect)
}

/// Whether two expression defaults are the same expression as far as text can tell:
/// case, white space, parentheses, quotes around identifiers and PostgreSQL's `::type`
/// casts aside (PostgreSQL stores `now() + interval '1 day'` as
/// `(now() + '1 day'::interval)`).
pub fn same_expr(a: &str, b: &str) -> bool {
    loose(a) == loose(b)
}

fn loose(expr: &str) -> String {
    let lower = expr.to_ascii_lowercase();
    // Drop `::type` casts: `::` and the name (with `[]`, and words like
    // `character varying`) up to the next operator or parenthesis.
    let mut out = String::new();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("::") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end =
            after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ' ' || c == '[' || c == ']' || c == '"'));
        rest = &after[end.unwrap_or(after.len())..];
    }
    out.push_str(rest);
    // A typed literal (`interval '1 day'`) is the same as the cast PostgreSQL writes.
    for word in ["interval", "timestamp", "date", "time"] {
        out = out.replace(&format!("{word} '"), "'");
    }
    out.chars().filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '`')).collect()
}

/// The text without white space at its ends and without parentheses around all of it.
fn unwrapped(reported: &str) -> &str {
    let mut s = reported.trim();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].trim();
    }
    s
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The text of a quoted literal, `'it''s'` or PostgreSQL's `'it''s'::text`.
fn literal(s: &str, dialect: Dialect) -> Option<String> {
    let body = s.strip_prefix('\'')?;
    let mut text = String::new();
    let mut chars = body.chars();
    loop {
        match chars.next()? {
            '\'' => {
                let rest = chars.as_str();
                if let Some(after) = rest.strip_prefix('\'') {
                    text.push('\'');
                    chars = after.chars();
                    continue;
                }
                // What may follow the closing quote: nothing, or a cast.
                let rest = rest.trim();
                return (rest.is_empty() || rest.starts_with("::")).then_some(text);
            }
            '\\' if dialect == Dialect::MySql => text.push(chars.next()?),
            c => text.push(c),
        }
    }
}

/// MySQL's spelling of a UUID literal in a `BINARY(16)`: `unhex(replace('…', '-', ''))`.
fn uuid_literal(s: &str, dialect: Dialect) -> Option<String> {
    if dialect == Dialect::Postgres {
        return None;
    }
    const PREFIX: &str = "unhex(replace(";
    if !s.get(..PREFIX.len())?.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let (value, tail) = s[PREFIX.len()..].strip_suffix("))")?.split_once(',')?;
    let tail: String = tail.chars().filter(|c| !c.is_whitespace()).collect();
    (tail == "'-',''").then_some(())?;
    let value = value.trim();
    literal(value, dialect)
}

/// A literal's text, read as the column's type reads it.
fn typed(text: String, ty: &ColumnType) -> DefaultValue {
    match ty {
        ColumnType::Boolean => match text.to_ascii_lowercase().as_str() {
            "t" | "true" | "1" | "y" | "yes" | "on" => DefaultValue::Bool(true),
            "f" | "false" | "0" | "n" | "no" | "off" => DefaultValue::Bool(false),
            _ => DefaultValue::Text(text),
        },
        t if t.is_numeric() => canonical_number(&text).map_or(DefaultValue::Text(text), DefaultValue::Number),
        // The server's own words: UTC for a timestamp with time zone, as written (the
        // offset dropped) for one without.
        ColumnType::Timestamp | ColumnType::TimestampTz => match DateTimeText::parse(&text) {
            Some(d) if d.has_time => DefaultValue::Text(d.sql_datetime(*ty == ColumnType::TimestampTz)),
            _ => DefaultValue::Text(text),
        },
        _ => DefaultValue::Text(text),
    }
}

/// The portable name of an expression each dialect spells its own way.
fn portable_expr(s: &str) -> Option<&'static str> {
    let compact: String = s.to_ascii_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    Some(match compact.as_str() {
        "now()"
        | "now(6)"
        | "current_timestamp"
        | "current_timestamp()"
        | "current_timestamp(6)"
        | "localtimestamp"
        | "transaction_timestamp()" => "now()",
        "current_date" | "current_date()" | "curdate()" => "current_date",
        "current_time" | "current_time(6)" | "localtime" | "curtime(6)" | "curtime()" => "current_time",
        "gen_random_uuid()" | "uuid_generate_v4()" | "unhex(replace(uuid(),'-',''))" | "randomblob(16)" => "gen_uuid()",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> [Dialect; 3] {
        [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite]
    }

    #[test]
    fn rendered_defaults_read_back_as_themselves() {
        let cases = [
            (DefaultValue::Bool(true), ColumnType::Boolean),
            (DefaultValue::Bool(false), ColumnType::Boolean),
            (DefaultValue::Number("-7".into()), ColumnType::Integer),
            (DefaultValue::Number("1.5".into()), ColumnType::Decimal { precision: 10, scale: 2 }),
            (DefaultValue::Text("it's".into()), ColumnType::Varchar(20)),
            (DefaultValue::Text("a\\b".into()), ColumnType::Text),
            (DefaultValue::Text("7".into()), ColumnType::Text),
            (DefaultValue::Text("0c6f1d6e-0b4b-4a33-9d0e-3b6f0f0e8a11".into()), ColumnType::Uuid),
            (DefaultValue::Expr("now()".into()), ColumnType::TimestampTz),
            (DefaultValue::Expr("now()".into()), ColumnType::Text),
            (DefaultValue::Expr("current_date".into()), ColumnType::Date),
            (DefaultValue::Expr("current_time".into()), ColumnType::Time),
            (DefaultValue::Expr("gen_uuid()".into()), ColumnType::Uuid),
            (DefaultValue::Expr("lower('X')".into()), ColumnType::Text),
        ];
        for dialect in all() {
            for (value, ty) in &cases {
                assert_eq!(as_reported(value, ty, dialect).as_ref(), Some(value), "{value} {ty} on {dialect:?}");
            }
        }
    }

    #[test]
    fn server_spellings_read_as_portable_defaults() {
        let pg = |s| default_value(s, &ColumnType::Integer, Dialect::Postgres);
        assert_eq!(pg("'-7'::integer"), Some(DefaultValue::Number("-7".into())));
        assert_eq!(pg("NULL::integer"), Some(DefaultValue::Expr("NULL::integer".into())));
        let my = |s, ty: ColumnType| default_value(s, &ty, Dialect::MySql);
        assert_eq!(my("NULL", ColumnType::Text), None);
        assert_eq!(my("1", ColumnType::Boolean), Some(DefaultValue::Bool(true)));
        assert_eq!(
            my("'2024-01-02 03:04:05.000000'", ColumnType::Timestamp),
            my("'2024-01-02T03:04:05'", ColumnType::Timestamp)
        );
        assert_eq!(my("curdate()", ColumnType::Date), Some(DefaultValue::Expr("current_date".into())));
    }

    #[test]
    fn expressions_compare_as_text_modulo_server_rewriting() {
        assert!(same_expr("now() + interval '1 day'", "(now() + '1 day'::interval)"));
        assert!(same_expr("\"a\" * 2", "(a * 2)"));
        assert!(!same_expr("now() + interval '1 day'", "now() + interval '2 days'"));
    }
}
