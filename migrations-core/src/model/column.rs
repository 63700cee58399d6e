//! A field as a column: its Rust type or `column_type`, nullability, default and
//! numbering, with the errors of a type that does not fit at the field.

use super::attr::FieldOpts;
use super::ctxt::Ctxt;
use super::rust_type::{field_type, RustKind};
use crate::schema::{Column, ColumnType, DefaultValue};

pub(super) fn build_column(cx: &mut Ctxt, f: &syn::Field, fo: &FieldOpts) -> Option<Column> {
    let ident = f.ident.as_ref()?;
    let ft = match field_type(&f.ty) {
        Ok(ft) => ft,
        Err(msg) => {
            cx.error_spanned_by(&f.ty, msg);
            return None;
        }
    };
    let name = fo.column.clone().unwrap_or_else(|| ident.to_string());
    let ty = match (&fo.column_type, ft.kind) {
        (Some(t), _) => {
            for (what, span) in [
                ("max_length", fo.max_length.map(|m| m.1)),
                ("precision", fo.precision.map(|m| m.1)),
                ("scale", fo.scale.map(|m| m.1)),
            ] {
                if let Some(span) = span {
                    cx.error_at(
                        span,
                        format!(
                            "`{what}` has no effect with `column_type`; write it into the type, e.g. `varchar(50)`"
                        ),
                    );
                }
            }
            t.clone()
        }
        (None, None) if is_unsigned_or_odd_int(&f.ty) => {
            cx.error_spanned_by(
                &f.ty,
                format!("field `{ident}`: PostgreSQL has no unsigned or 8/128-bit integers, so this type is not portable; use i16, i32 or i64, or give `column_type = \"...\"`"),
            );
            return None;
        }
        (None, None) if !ft.array && enum_candidate(&f.ty).is_some() => {
            for (what, span) in [
                ("max_length", fo.max_length.map(|m| m.1)),
                ("precision", fo.precision.map(|m| m.1)),
                ("scale", fo.scale.map(|m| m.1)),
            ] {
                if let Some(span) = span {
                    cx.error_at(span, format!("`{what}` does not apply to a `DbEnum` field"));
                }
            }
            // A type this parser does not know is taken for a `#[derive(DbEnum)]` enum,
            // which the build finds by name among the crate's (the derive checks the
            // trait): the list is filled in then (see `resolve_models`).
            ColumnType::Enum(crate::schema::EnumType { name: enum_candidate(&f.ty)?, values: Vec::new() })
        }
        (None, None) => {
            cx.error_spanned_by(
                &f.ty,
                format!("unknown column type for field `{ident}`: the build cannot resolve type aliases or newtypes; add `#[model(column_type = \"...\")]` (e.g. \"text\", \"bigint\", \"sql:citext\")"),
            );
            return None;
        }
        (None, Some(kind)) if ft.array => ColumnType::array_of(type_for(cx, kind, fo, ident)?),
        (None, Some(kind)) => type_for(cx, kind, fo, ident)?,
    };
    if let Some(span) = fo.auto_increment {
        if !ty.is_integer() {
            cx.error_at(span, format!("`auto_increment` needs an integer field (i16, i32, i64), not {ty}"));
        }
    }
    for (v, span) in fo.default.iter().chain(fo.backfill.iter()) {
        if let Some(msg) = default_mismatch(v, &ty) {
            cx.error_at(*span, msg);
        }
    }
    let integer = ty.is_integer();
    if fo.primary_key && ft.nullable {
        cx.error_spanned_by(&f.ty, "a primary key column cannot be `Option<_>`");
    }
    Some(Column {
        name,
        ty,
        nullable: ft.nullable,
        default: fo.default.as_ref().map(|(v, _)| v.clone()),
        auto_increment: fo.auto_increment.is_some() && integer,
        serial: fo.serial && fo.auto_increment.is_some() && integer,
        comment: fo.comment.clone(),
    })
}

fn type_for(cx: &mut Ctxt, kind: RustKind, fo: &FieldOpts, ident: &syn::Ident) -> Option<ColumnType> {
    if let (Some((_, span)), false) = (fo.max_length, kind == RustKind::String) {
        cx.error_at(span, format!("`max_length` applies to `String` fields only; `{ident}` is not a string"));
    }
    if kind != RustKind::Decimal {
        for (what, span) in [("precision", fo.precision.map(|m| m.1)), ("scale", fo.scale.map(|m| m.1))] {
            if let Some(span) = span {
                cx.error_at(span, format!("`{what}` applies to decimal fields only"));
            }
        }
    }
    Some(match kind {
        RustKind::I16 => ColumnType::SmallInt,
        RustKind::I32 => ColumnType::Integer,
        RustKind::I64 => ColumnType::BigInt,
        RustKind::Bool => ColumnType::Boolean,
        RustKind::F32 => ColumnType::Real,
        RustKind::F64 => ColumnType::Double,
        RustKind::String => match fo.max_length {
            Some((n, _)) => ColumnType::Varchar(n),
            None => ColumnType::Text,
        },
        RustKind::Bytes => ColumnType::Binary,
        RustKind::Date => ColumnType::Date,
        RustKind::Time => ColumnType::Time,
        RustKind::DateTime => ColumnType::Timestamp,
        RustKind::DateTimeTz => ColumnType::TimestampTz,
        RustKind::Uuid => ColumnType::Uuid,
        RustKind::Json => ColumnType::Json,
        RustKind::IpAddr => ColumnType::Inet,
        RustKind::Interval => ColumnType::Interval,
        RustKind::TimeTz => ColumnType::TimeTz,
        RustKind::Decimal => match (fo.precision, fo.scale) {
            (Some((precision, _)), Some((scale, span))) => {
                if scale > precision {
                    cx.error_at(span, "`scale` cannot be larger than `precision`");
                    return None;
                }
                ColumnType::Decimal { precision, scale }
            }
            _ => {
                cx.error_at(ident.span(), format!("decimal field `{ident}` needs `precision = N, scale = M` (digits in all, digits after the point)"));
                return None;
            }
        },
    })
}

fn default_mismatch(v: &DefaultValue, ty: &ColumnType) -> Option<String> {
    match (v, ty) {
        (DefaultValue::Expr(_) | DefaultValue::PerDialect(_), _) => None,
        (_, t) if t.is_verbatim() => None,
        (DefaultValue::Bool(_), ColumnType::Boolean) => None,
        (DefaultValue::Bool(_), _) => Some(format!("a boolean default does not fit column type {ty}")),
        (DefaultValue::Number(n), t) if t.is_integer() && n.contains('.') => {
            Some(format!("`{n}` is not an integer, but the column is {t}"))
        }
        (DefaultValue::Number(n), ColumnType::Decimal { precision, scale }) => {
            let (whole, frac) = n.trim_start_matches('-').split_once('.').unwrap_or((n.trim_start_matches('-'), ""));
            let whole_digits = if whole == "0" { 0 } else { whole.len() };
            if frac.len() > *scale as usize || whole_digits + *scale as usize > *precision as usize {
                Some(format!("`{n}` does not fit decimal({precision},{scale}); the database would round or refuse it"))
            } else {
                None
            }
        }
        (DefaultValue::Number(_), t) if t.is_numeric() => None,
        (DefaultValue::Number(_), _) => {
            Some(format!("a number default does not fit column type {ty}; for text write it in quotes"))
        }
        (DefaultValue::Text(_), t) if t.is_numeric() || *t == ColumnType::Boolean => {
            Some(format!("a string default does not fit column type {ty}; write the value without quotes"))
        }
        (DefaultValue::Text(s), ColumnType::Timestamp | ColumnType::TimestampTz | ColumnType::Date) => {
            match crate::civil::DateTimeText::parse(s) {
                Some(t) if *ty == ColumnType::Date && t.has_time => {
                    Some(format!("`{s}` is a date and time, but the column is a date; write `YYYY-MM-DD`"))
                }
                Some(_) => None,
                None => Some(format!(
                    "`{s}` is not a date and time every database reads the same way; write `2024-01-31T09:30:00Z` (RFC 3339), `2024-01-31 09:30:00` or `2024-01-31`"
                )),
            }
        }
        (DefaultValue::Text(_), _) => None,
    }
}

fn is_unsigned_or_odd_int(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            ["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i128", "isize"].iter().any(|n| s.ident == n)
        }),
        _ => false,
    }
}

/// The name of the type a field of type `ty` (or `Option<ty>`) declares, when it could be
/// a `#[derive(DbEnum)]` enum: a path without generic arguments.
pub fn enum_candidate(ty: &syn::Type) -> Option<String> {
    const PRIMITIVES: [&str; 11] = ["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i128", "isize", "char", "str"];
    let inner = enum_type_of(ty)?;
    match inner {
        syn::Type::Path(p) => {
            p.path.segments.last().map(|s| s.ident.to_string()).filter(|name| !PRIMITIVES.contains(&name.as_str()))
        }
        _ => None,
    }
}

/// The type inside `Option<...>` (or the type itself) when it is a plain path: the one
/// the derive asks to implement `DbEnum`.
pub fn enum_type_of(ty: &syn::Type) -> Option<&syn::Type> {
    let inner = match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            match &last.arguments {
                syn::PathArguments::None => return Some(ty),
                syn::PathArguments::AngleBracketed(a) if last.ident == "Option" && a.args.len() == 1 => {
                    match a.args.first() {
                        Some(syn::GenericArgument::Type(t)) => t,
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        syn::Type::Group(g) => return enum_type_of(&g.elem),
        syn::Type::Paren(p) => return enum_type_of(&p.elem),
        _ => return None,
    };
    match inner {
        syn::Type::Path(p) if p.qself.is_none() && p.path.segments.last()?.arguments.is_none() => Some(inner),
        _ => None,
    }
}
