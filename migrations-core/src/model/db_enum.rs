//! `#[derive(DbEnum)]` on a Rust enum: an enumerated column type. One grammar, used by
//! the derive (spanned compile errors) and the build script (the type's name and list).
//!
//! ```text
//! #[derive(DbEnum)]
//! #[db_enum(name = "account_status")]        // the type's name; default: snake_case
//!                                             // (`renamed_from = "status"`: its name before)
//! enum AccountStatus {
//!     Active,                                 // 'active' (rename_all: snake_case)
//!     #[db_enum(rename = "on_hold", renamed_from = "paused")]
//!     OnHold,
//! }
//! ```
//!
//! `#[sqlx(type_name = "...", rename_all = "...")]` and a variant's `#[sqlx(rename =
//! "...")]` are read too, where `db_enum` does not say: with `#[derive(sqlx::Type)]` on
//! the same enum, the database and the application spell the values alike.

use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::Span;

use super::ctxt::Ctxt;
use super::options::{expect_str, read_opts_of, Seen};
use crate::schema::EnumType;

/// One parsed `#[derive(DbEnum)]` enum.
#[derive(Debug, Clone)]
pub struct DbEnum {
    /// The Rust enum's name (what a field's type names).
    pub ident: syn::Ident,
    /// The type: its SQL name and values.
    pub ty: EnumType,
    /// (old, new): values renamed (`renamed_from` on a variant).
    pub renamed_from: Vec<(String, String)>,
    /// The type's name before (`renamed_from` on the enum).
    pub type_renamed_from: Option<String>,
    /// Span of the enum's name.
    pub span: Span,
}

/// The spellings `rename_all` takes (sqlx's).
const CASES: [&str; 8] = [
    "snake_case",
    "lowercase",
    "UPPERCASE",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "camelCase",
    "PascalCase",
    "verbatim",
];

fn cased(ident: &str, case: &str) -> String {
    match case {
        "lowercase" => ident.to_lowercase(),
        "UPPERCASE" => ident.to_uppercase(),
        "SCREAMING_SNAKE_CASE" => ident.to_shouty_snake_case(),
        "kebab-case" => ident.to_kebab_case(),
        "camelCase" => ident.to_lower_camel_case(),
        "PascalCase" => ident.to_upper_camel_case(),
        "verbatim" => ident.to_string(),
        _ => ident.to_snake_case(),
    }
}

/// A `#[sqlx(key = "value")]` of `attrs`, if given.
fn sqlx_option(attrs: &[syn::Attribute], key: &str) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("sqlx")) {
        // Other sqlx options (`transparent`, `no_pg_array`) are sqlx's business.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                if let Ok(syn::Lit::Str(s)) = meta.value()?.parse::<syn::Lit>() {
                    found = Some(s.value());
                }
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// Parses one `#[derive(DbEnum)]` enum. Every problem is reported, each at its span.
pub fn parse_db_enum(input: &syn::DeriveInput) -> Result<DbEnum, syn::Error> {
    let mut cx = Ctxt::new();
    let parsed = parse(&mut cx, input);
    cx.check()?;
    parsed.ok_or_else(|| syn::Error::new_spanned(&input.ident, "invalid DbEnum"))
}

fn parse(cx: &mut Ctxt, input: &syn::DeriveInput) -> Option<DbEnum> {
    let syn::Data::Enum(data) = &input.data else {
        cx.error_spanned_by(
            &input.ident,
            "`DbEnum` is derived for an enum of unit variants (`enum Status { Active, Closed }`)",
        );
        return None;
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "a `DbEnum` cannot be generic: its values are words stored in a column");
    }
    let mut name = None;
    let mut rename_all = None;
    let mut type_renamed_from: Option<(String, Span)> = None;
    let mut seen = Seen::default();
    let opts = read_opts_of(cx, &input.attrs, "db_enum");
    for opt in &opts {
        if !seen.first_time(cx, opt) {
            continue;
        }
        match opt.name() {
            "name" => name = expect_str(cx, opt),
            "rename_all" => match expect_str(cx, opt) {
                Some(case) if CASES.contains(&case.as_str()) => rename_all = Some(case),
                Some(case) => cx.error_at(
                    opt.span(),
                    format!("unknown `rename_all = \"{case}\"`: expected one of {}", CASES.join(", ")),
                ),
                None => {}
            },
            "renamed_from" => type_renamed_from = expect_str(cx, opt).map(|old| (old, opt.span())),
            other => cx.error_at(
                opt.span(),
                format!(
                    "unknown `db_enum` option `{other}` on the enum: expected `name`, `rename_all` or `renamed_from`"
                ),
            ),
        }
    }
    let name = name
        .or_else(|| sqlx_option(&input.attrs, "type_name"))
        .unwrap_or_else(|| input.ident.to_string().to_snake_case());
    if let Some((old, span)) = &type_renamed_from {
        if *old == name {
            cx.error_at(*span, format!("`renamed_from` names the type's own name '{name}'"));
        }
    }
    let case = rename_all.or_else(|| sqlx_option(&input.attrs, "rename_all")).unwrap_or_else(|| "snake_case".into());
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &input.ident,
            "a `DbEnum` needs at least one variant: a column must be able to hold a value",
        );
    }
    let mut values: Vec<String> = Vec::new();
    let mut renamed_from = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &variant.fields,
                format!(
                    "variant `{}` holds data; a `DbEnum` has unit variants only (the column stores one word)",
                    variant.ident
                ),
            );
            continue;
        }
        let mut value = None;
        let mut old = None;
        let mut seen = Seen::default();
        let opts = read_opts_of(cx, &variant.attrs, "db_enum");
        for opt in &opts {
            if !seen.first_time(cx, opt) {
                continue;
            }
            match opt.name() {
                "rename" => value = expect_str(cx, opt),
                "renamed_from" => old = expect_str(cx, opt).map(|o| (o, opt.span())),
                other => cx.error_at(
                    opt.span(),
                    format!("unknown `db_enum` option `{other}` on a variant: expected `rename` or `renamed_from`"),
                ),
            }
        }
        let value = value
            .or_else(|| sqlx_option(&variant.attrs, "rename"))
            .unwrap_or_else(|| cased(&variant.ident.to_string(), &case));
        if values.contains(&value) {
            cx.error_spanned_by(
                &variant.ident,
                format!("two variants are stored as '{value}'; give one `#[db_enum(rename = \"...\")]`"),
            );
        }
        if let Some((old, span)) = old {
            if old == value {
                cx.error_at(span, format!("`renamed_from` names the value's own name '{value}'"));
            } else {
                renamed_from.push((old, value.clone()));
            }
        }
        values.push(value);
    }
    for (old, _) in &renamed_from {
        if values.contains(old) {
            cx.error_spanned_by(
                &input.ident,
                format!(
                    "'{old}' is renamed (`renamed_from`) and still a value: remove the `renamed_from`, or the variant"
                ),
            );
        }
    }
    Some(DbEnum {
        ident: input.ident.clone(),
        ty: EnumType { name, values },
        renamed_from,
        type_renamed_from: type_renamed_from.map(|(old, _)| old),
        span: input.ident.span(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> Result<DbEnum, String> {
        let input: syn::DeriveInput = syn::parse_str(source).expect("rust");
        parse_db_enum(&input).map_err(|e| e.to_string())
    }

    #[test]
    fn names_and_values_default_to_snake_case() {
        let e = parse("enum AccountStatus { Active, PastDue }").unwrap();
        assert_eq!(e.ty, EnumType::new("account_status", &["active", "past_due"]));
    }

    #[test]
    fn db_enum_then_sqlx_options_name_the_type_and_values() {
        let e = parse(
            r#"#[sqlx(type_name = "mood", rename_all = "UPPERCASE")]
            enum Mood { Happy, #[db_enum(rename = "meh", renamed_from = "so_so")] SoSo, #[sqlx(rename = "sad!")] Sad }"#,
        )
        .unwrap();
        assert_eq!(e.ty, EnumType::new("mood", &["HAPPY", "meh", "sad!"]));
        assert_eq!(e.renamed_from, [("so_so".to_string(), "meh".to_string())]);
    }

    #[test]
    fn misuse_is_refused_with_what_to_do() {
        for (source, says) in [
            ("struct S { a: i32 }", "unit variants"),
            ("enum E {}", "at least one variant"),
            ("enum E { A(i32) }", "holds data"),
            ("enum E { A, #[db_enum(rename = \"a\")] B }", "two variants are stored as 'a'"),
            ("#[db_enum(rename_all = \"Title\")] enum E { A }", "unknown `rename_all"),
            ("#[db_enum(colour = \"x\")] enum E { A }", "unknown `db_enum` option `colour`"),
            ("enum E<T> { A }", "cannot be generic"),
        ] {
            let err = parse(source).unwrap_err();
            assert!(err.contains(says), "{source}: {err}");
        }
    }
}
