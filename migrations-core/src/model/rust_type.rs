//! Rust field type → column type, by the last path segment. The build script cannot
//! resolve types, so anything it does not know is an error, never a guess.

use syn::{GenericArgument, PathArguments, Type};

/// The Rust types a column can be declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RustKind {
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `bool`
    Bool,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `String`
    String,
    /// `Vec<u8>`
    Bytes,
    /// `NaiveDate`, `time::Date`
    Date,
    /// `NaiveTime`, `time::Time`
    Time,
    /// `NaiveDateTime`, `PrimitiveDateTime`
    DateTime,
    /// `DateTime<Tz>`, `OffsetDateTime`
    DateTimeTz,
    /// `Uuid`
    Uuid,
    /// `Decimal`, `BigDecimal`
    Decimal,
    /// `serde_json::Value`, `JsonValue`, `Json<T>`
    Json,
    /// `IpAddr`, `IpNetwork`, `IpNet` (PostgreSQL's `inet`)
    IpAddr,
    /// `PgInterval` (PostgreSQL's `interval`)
    Interval,
    /// `PgTimeTz` (PostgreSQL's `time with time zone`)
    TimeTz,
}

/// A field's Rust type understood: the kind and whether it is `Option<_>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    /// The inner kind, or `None` for a type we do not know (needs `column_type`).
    pub kind: Option<RustKind>,
    /// Whether the field is `Option<T>`.
    pub nullable: bool,
    /// Whether the field is `Vec<T>` of a kind (other than `Vec<u8>`, which is bytes): a
    /// PostgreSQL array of `kind`.
    pub array: bool,
}

/// Reads a field type. `Err` only for shapes that are never valid (nested `Option`).
pub fn field_type(ty: &Type) -> Result<FieldType, String> {
    let (inner, nullable) = match generic_of(ty, "Option") {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    if nullable && generic_of(inner, "Option").is_some() {
        return Err("`Option<Option<T>>` cannot be stored in one column".into());
    }
    if let Some(element) = generic_of(inner, "Vec")
        .filter(|e| kind_of(e) != Some(RustKind::Bytes) && last_segment(e).is_some_and(|s| s.ident != "u8"))
    {
        if generic_of(element, "Vec").is_some() || generic_of(element, "Option").is_some() {
            return Err(
                "an array holds values of one portable type: `Vec<T>`, not `Vec<Vec<T>>` or `Vec<Option<T>>`".into()
            );
        }
        return Ok(FieldType { kind: kind_of(element), nullable, array: true });
    }
    Ok(FieldType { kind: kind_of(inner), nullable, array: false })
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn generic_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let seg = last_segment(ty)?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn path_text(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::"),
        _ => String::new(),
    }
}

fn kind_of(ty: &Type) -> Option<RustKind> {
    if let Some(inner) = generic_of(ty, "Vec") {
        return (last_segment(inner)?.ident == "u8").then_some(RustKind::Bytes);
    }
    let seg = last_segment(ty)?;
    let name = seg.ident.to_string();
    Some(match name.as_str() {
        "i16" => RustKind::I16,
        "i32" => RustKind::I32,
        "i64" => RustKind::I64,
        "bool" => RustKind::Bool,
        "f32" => RustKind::F32,
        "f64" => RustKind::F64,
        "String" => RustKind::String,
        "NaiveDate" | "Date" => RustKind::Date,
        "NaiveTime" | "Time" => RustKind::Time,
        "NaiveDateTime" | "PrimitiveDateTime" => RustKind::DateTime,
        "DateTime" if !seg.arguments.is_empty() => RustKind::DateTimeTz,
        "OffsetDateTime" => RustKind::DateTimeTz,
        "Uuid" => RustKind::Uuid,
        "Decimal" | "BigDecimal" => RustKind::Decimal,
        "JsonValue" | "Json" => RustKind::Json,
        "Value" if path_text(ty).ends_with("serde_json::Value") => RustKind::Json,
        "IpAddr" | "IpNetwork" | "IpNet" => RustKind::IpAddr,
        "PgInterval" => RustKind::Interval,
        "PgTimeTz" => RustKind::TimeTz,
        _ => return None,
    })
}
