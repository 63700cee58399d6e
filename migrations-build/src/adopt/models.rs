//! Model structs for tables read from a live database, written as a person would: one
//! file per table, the options a field needs and no more, names the database gave
//! spelled out only where they are not the ones the models would generate.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use migrations_core::model::{default_table_name, singular};
use migrations_core::schema::{names, ColumnType, DefaultValue, Deferrable, FkAction, Table};

/// The crates a model's field types come from, as the crate depends on them. A type
/// whose crate is missing is written as `String` with its `column_type`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TypeCrates {
    /// `chrono` (dates and times).
    pub chrono: bool,
    /// `time` (dates and times, when `chrono` is not there).
    pub time: bool,
    /// `uuid`.
    pub uuid: bool,
    /// `rust_decimal`.
    pub rust_decimal: bool,
    /// `serde_json`.
    pub serde_json: bool,
}

impl TypeCrates {
    /// The crates `manifest` (a Cargo.toml's text) lists among its dependencies.
    pub fn of_manifest(manifest: &str) -> TypeCrates {
        let value: toml::Table = manifest.parse().unwrap_or_default();
        let has =
            |name: &str| value.get("dependencies").and_then(|d| d.as_table()).is_some_and(|d| d.contains_key(name));
        TypeCrates {
            chrono: has("chrono"),
            time: has("time"),
            uuid: has("uuid"),
            rust_decimal: has("rust_decimal"),
            serde_json: has("serde_json"),
        }
    }
}

/// The struct name for `table`: its singular in UpperCamelCase (`order_items` →
/// `OrderItem`).
pub fn struct_name(table: &str) -> String {
    let name = singular(&table.to_snake_case()).to_upper_camel_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("Table{name}")
    } else {
        name
    }
}

/// The field name for `column`: snake_case, never a keyword, never empty.
fn field_name(column: &str) -> String {
    let snake: String =
        column.to_snake_case().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    let snake = if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("field_{snake}")
    } else {
        snake
    };
    if syn::parse_str::<syn::Ident>(&snake).is_err() {
        format!("{snake}_")
    } else {
        snake
    }
}

/// A Rust string literal of `text` (raw where it holds quotes or backslashes).
pub(crate) fn lit(text: &str) -> String {
    if !text.contains(['"', '\\']) {
        return format!("\"{text}\"");
    }
    let hashes = "#".repeat((1..).find(|n| !text.contains(&format!("\"{}", "#".repeat(*n)))).unwrap_or(1));
    format!("r{hashes}\"{text}\"{hashes}")
}

/// The Rust type of a column of type `ty`, with the options it needs, and the `use` it
/// takes.
fn rust_type(ty: &ColumnType, crates: TypeCrates) -> (String, Vec<String>, Option<&'static str>) {
    let as_text =
        |ty: &ColumnType| ("String".to_string(), vec![format!("column_type = {}", lit(&ty.to_string()))], None);
    match ty {
        ColumnType::SmallInt => ("i16".into(), vec![], None),
        ColumnType::Integer => ("i32".into(), vec![], None),
        ColumnType::BigInt => ("i64".into(), vec![], None),
        ColumnType::Boolean => ("bool".into(), vec![], None),
        ColumnType::Real => ("f32".into(), vec![], None),
        ColumnType::Double => ("f64".into(), vec![], None),
        ColumnType::Text => ("String".into(), vec![], None),
        ColumnType::Varchar(n) => ("String".into(), vec![format!("max_length = {n}")], None),
        ColumnType::Binary => ("Vec<u8>".into(), vec![], None),
        ColumnType::Decimal { precision, scale } if crates.rust_decimal => (
            "Decimal".into(),
            vec![format!("precision = {precision}"), format!("scale = {scale}")],
            Some("rust_decimal::Decimal"),
        ),
        ColumnType::Date if crates.chrono => ("NaiveDate".into(), vec![], Some("chrono::NaiveDate")),
        ColumnType::Time if crates.chrono => ("NaiveTime".into(), vec![], Some("chrono::NaiveTime")),
        ColumnType::Timestamp if crates.chrono => ("NaiveDateTime".into(), vec![], Some("chrono::NaiveDateTime")),
        ColumnType::TimestampTz if crates.chrono => ("DateTime<Utc>".into(), vec![], Some("chrono::{DateTime, Utc}")),
        ColumnType::Date if crates.time => ("Date".into(), vec![], Some("time::Date")),
        ColumnType::Time if crates.time => ("Time".into(), vec![], Some("time::Time")),
        ColumnType::Timestamp if crates.time => ("PrimitiveDateTime".into(), vec![], Some("time::PrimitiveDateTime")),
        ColumnType::TimestampTz if crates.time => ("OffsetDateTime".into(), vec![], Some("time::OffsetDateTime")),
        ColumnType::Uuid if crates.uuid => ("Uuid".into(), vec![], Some("uuid::Uuid")),
        ColumnType::Json if crates.serde_json => ("serde_json::Value".into(), vec![], None),
        // A PostgreSQL array: a `Vec` of the element's Rust type, with its options; of
        // an element that is written as text, a `Vec<String>` with the array's type.
        ColumnType::Array(element) => match rust_type(element, crates) {
            (rust, options, import) if !options.iter().any(|o| o.starts_with("column_type")) => {
                (format!("Vec<{rust}>"), options, import)
            }
            _ => ("Vec<String>".into(), vec![format!("column_type = {}", lit(&ty.to_string()))], None),
        },
        other => as_text(other),
    }
}

/// `index(...)` on the struct: its keys in order (fields, and `expr = "..."`), then
/// every option that is not the default, and its name.
fn index_option(ix: &migrations_core::schema::Index, fields_of: &dyn Fn(&[String]) -> String) -> String {
    use migrations_core::schema::{Index, IndexMethod};
    let mut parts: Vec<String> = ix
        .columns
        .iter()
        .map(|k| match Index::is_expression(k) {
            true => format!("expr = {}", lit(&k[1..k.len() - 1])),
            false => fields_of(std::slice::from_ref(k)),
        })
        .collect();
    if ix.unique {
        parts.push("unique".into());
    }
    if ix.method != IndexMethod::Btree {
        parts.push(format!("method = {}", lit(ix.method.as_str())));
    }
    let per_key = |what: &str, value: &dyn Fn(usize) -> Option<String>| {
        let items: Vec<String> = (0..ix.columns.len())
            .filter(|&i| !Index::is_expression(&ix.columns[i]))
            .filter_map(|i| {
                value(i).map(|v| format!("{} = {}", fields_of(std::slice::from_ref(&ix.columns[i])), lit(&v)))
            })
            .collect();
        (!items.is_empty()).then(|| format!("{what}({})", items.join(", ")))
    };
    parts.extend(per_key("order", &|i| Some(ix.key(i).order_str()).filter(|o| !o.is_empty())));
    parts.extend(per_key("opclass", &|i| ix.key(i).opclass));
    if !ix.include.is_empty() {
        parts.push(format!("include({})", fields_of(&ix.include)));
    }
    if let Some(p) = &ix.predicate {
        parts.push(format!("where = {}", lit(p)));
    }
    parts.push(format!("name = {}", lit(&ix.name)));
    format!("index({})", parts.join(", "))
}

/// `default = ...` or `default_expr = "..."`.
fn default_option(value: &DefaultValue) -> String {
    match value {
        DefaultValue::Bool(b) => format!("default = {b}"),
        DefaultValue::Number(n) => format!("default = {n}"),
        DefaultValue::Text(t) => format!("default = {}", lit(t)),
        DefaultValue::Expr(e) => format!("default_expr = {}", lit(e)),
        DefaultValue::PerDialect(spellings) => {
            let each: Vec<String> = spellings.spellings().map(|(d, sql)| format!("{d} = {}", lit(sql))).collect();
            format!("default_expr({})", each.join(", "))
        }
    }
}

fn action(name: &str, a: FkAction) -> Option<String> {
    (a != FkAction::NoAction).then(|| format!("{name} = {}", lit(a.as_str())))
}

/// `deferrable`, or `deferrable = "initially deferred"`; nothing for a key checked at
/// each statement.
fn deferrable(d: Deferrable) -> Option<String> {
    match d {
        Deferrable::No => None,
        Deferrable::InitiallyImmediate => Some("deferrable".into()),
        Deferrable::InitiallyDeferred => Some(format!("deferrable = {}", lit(d.as_str()))),
    }
}

/// The Rust name of every enumerated type of `schema` (type name → enum name): its
/// UpperCamelCase, made different from the structs' names and each other's.
pub fn enum_idents(schema: &migrations_core::Schema, structs: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for name in schema.enums().into_keys() {
        let mut ident: String = name.to_upper_camel_case().chars().filter(|c| c.is_alphanumeric()).collect();
        if ident.is_empty()
            || ident.starts_with(|c: char| c.is_ascii_digit())
            || syn::parse_str::<syn::Ident>(&ident).is_err()
        {
            ident = format!("Enum{ident}");
        }
        while structs.values().any(|s| *s == ident) || out.values().any(|o| *o == ident) {
            ident.push_str("Kind");
        }
        out.insert(name, ident);
    }
    out
}

/// The source of the `enums` module: each enumerated type of `schema` as a
/// `#[derive(DbEnum)]` enum named as in `idents`, a variant per value (a value that its
/// variant's name does not give is written out).
pub fn enums_source(schema: &migrations_core::Schema, idents: &BTreeMap<String, String>) -> String {
    let mut out = String::from(
        "//! The enumerated types of the database this crate adopted (`cargo chakra inspect`).\n\nuse migrations_runtime::DbEnum;\n",
    );
    for (name, ty) in schema.enums() {
        let Some(ident) = idents.get(&name) else { continue };
        out.push_str("\n#[derive(DbEnum)]\n");
        if ident.to_snake_case() != name {
            out.push_str(&format!("#[db_enum(name = {})]\n", lit(&name)));
        }
        out.push_str(&format!("pub enum {ident} {{\n"));
        let mut variants: Vec<String> = Vec::new();
        for value in &ty.values {
            let mut variant: String =
                value.to_upper_camel_case().chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
            if variant.is_empty()
                || variant.starts_with(|c: char| c.is_ascii_digit())
                || syn::parse_str::<syn::Ident>(&variant).is_err()
            {
                variant = format!("V{variant}");
            }
            while variants.contains(&variant) {
                variant.push('_');
            }
            if variant.to_snake_case() != *value {
                out.push_str(&format!("    #[db_enum(rename = {})]\n", lit(value)));
            }
            out.push_str(&format!("    {variant},\n"));
            variants.push(variant);
        }
        out.push_str("}\n");
    }
    out
}

/// The source of one model file: `table` as a struct named `name`; a column of an
/// enumerated type has the enum `enums` names (written by [`enums_source`]).
pub fn model_source(table: &Table, name: &str, crates: TypeCrates, enums: &BTreeMap<String, String>) -> String {
    let mut uses: Vec<&str> = vec!["migrations_runtime::Model"];
    let mut enum_uses: Vec<String> = Vec::new();
    let mut struct_opts: Vec<String> = Vec::new();
    if default_table_name(name) != table.name {
        struct_opts.push(format!("table = {}", lit(&table.name)));
    }
    if let Some(c) = &table.comment {
        struct_opts.push(format!("comment = {}", lit(c)));
    }
    // Struct options list fields by their Rust names.
    let idents: BTreeMap<&str, String> = table.columns.iter().map(|c| (c.name.as_str(), field_name(&c.name))).collect();
    let fields_of = |columns: &[String]| -> String {
        columns
            .iter()
            .map(|c| idents.get(c.as_str()).cloned().unwrap_or_else(|| field_name(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A one-column key the database did not name is a field option; a composite or
    // named one is the struct's.
    let single_pk = table.primary_key.len() == 1 && table.primary_key_name.is_none();
    match &table.primary_key_name {
        Some(name) => {
            struct_opts.push(format!("primary_key({}, name = {})", fields_of(&table.primary_key), lit(name)));
        }
        None if table.primary_key.len() > 1 => {
            struct_opts.push(format!("primary_key({})", fields_of(&table.primary_key)));
        }
        None => {}
    }
    // A single-column unique or index is a field option (`unique`, or `unique = "name"`
    // when the database names it otherwise than the models would); one over several
    // columns, or a second one on a column, is a struct option with its name.
    let as_named = |name: &str, generated: String| (name != generated).then(|| name.to_string());
    let mut unique_fields: Vec<(&str, Option<String>)> = Vec::new();
    for u in &table.uniques {
        match u.columns.as_slice() {
            [one] if !unique_fields.iter().any(|(c, _)| c == one) => {
                unique_fields.push((one, as_named(&u.name, names::unique(&table.name, &u.columns))));
            }
            _ => struct_opts.push(format!("unique({}, name = {})", fields_of(&u.columns), lit(&u.name))),
        }
    }
    let field_option = |fields: &[(&str, Option<String>)], column: &str, option: &str| {
        fields.iter().find(|(c, _)| *c == column).map(|(_, name)| match name {
            Some(name) => format!("{option} = {}", lit(name)),
            None => option.to_string(),
        })
    };
    let fk_of = |column: &str| table.foreign_keys.iter().find(|fk| fk.columns == [column.to_string()]);
    // A foreign key over several columns is the struct's; the index the models give it is
    // the one of its columns with the generated name.
    let mut composite_indexes: Vec<&str> = Vec::new();
    for fk in table.foreign_keys.iter().filter(|fk| fk.columns.len() > 1) {
        let mut parts = vec![
            fields_of(&fk.columns),
            format!("references = {}", lit(&format!("{}({})", fk.ref_table, fk.ref_columns.join(", ")))),
        ];
        parts.extend(action("on_delete", fk.on_delete));
        parts.extend(action("on_update", fk.on_update));
        parts.extend(deferrable(fk.deferrable));
        if fk.not_valid {
            parts.push("not_valid".into());
        }
        if fk.name != names::foreign_key(&table.name, &fk.columns, &fk.ref_table) {
            parts.push(format!("name = {}", lit(&fk.name)));
        }
        let generated = names::index(&table.name, &fk.columns, false);
        let indexed = table.indexes.iter().find(|i| i.columns == fk.columns && !i.unique && i.name == generated);
        match indexed {
            Some(ix) => composite_indexes.push(&ix.name),
            None if !table.primary_key.starts_with(&fk.columns) => parts.push("index = false".into()),
            None => {}
        }
        struct_opts.push(format!("foreign_key({})", parts.join(", ")));
    }
    let mut index_fields: Vec<(&str, Option<String>)> = Vec::new();
    for ix in table.indexes.iter().filter(|ix| !composite_indexes.contains(&ix.name.as_str())) {
        match ix.columns.as_slice() {
            [one] if !ix.unique && ix.is_plain() && !index_fields.iter().any(|(c, _)| c == one) => {
                index_fields.push((one, as_named(&ix.name, names::index(&table.name, &ix.columns, false))));
            }
            _ => struct_opts.push(index_option(ix, &fields_of)),
        }
    }
    for c in &table.checks {
        let not_valid = if c.not_valid { ", not_valid" } else { "" };
        struct_opts.push(format!("check(name = {}, expr = {}{not_valid})", lit(&c.name), lit(&c.expr)));
    }

    let mut fields = String::new();
    for column in &table.columns {
        let ident = field_name(&column.name);
        let (ty, mut opts, import) = match column.ty.enum_type().and_then(|e| enums.get(&e.name)) {
            Some(enum_ident) => {
                enum_uses.push(format!("super::enums::{enum_ident}"));
                (enum_ident.clone(), Vec::new(), None)
            }
            None => rust_type(&column.ty, crates),
        };
        uses.extend(import);
        if single_pk && table.primary_key[0] == column.name {
            opts.insert(0, "primary_key".into());
        }
        if column.auto_increment && column.serial {
            opts.push("auto_increment = \"serial\"".into());
        } else if column.auto_increment {
            opts.push("auto_increment".into());
        }
        if ident != column.name {
            opts.push(format!("column = {}", lit(&column.name)));
        }
        let unique = field_option(&unique_fields, &column.name, "unique");
        opts.extend(unique.clone());
        let index = field_option(&index_fields, &column.name, "index");
        match fk_of(&column.name) {
            Some(fk) => {
                opts.push(format!("references = {}", lit(&format!("{}({})", fk.ref_table, fk.ref_columns[0]))));
                opts.extend(action("on_delete", fk.on_delete));
                opts.extend(action("on_update", fk.on_update));
                opts.extend(deferrable(fk.deferrable));
                if fk.not_valid {
                    opts.push("not_valid".into());
                }
                if fk.name != names::foreign_key(&table.name, &fk.columns, &fk.ref_table) {
                    opts.push(format!("foreign_key_name = {}", lit(&fk.name)));
                }
                // A foreign key gets an index with the generated name unless the column
                // is a key or says not.
                let covered = unique.is_some() || (single_pk && table.primary_key[0] == column.name);
                // An automatic one gives way to a declared index that leads with the
                // column; this one is in the database too, so the field asks for it.
                let own = names::index(&table.name, std::slice::from_ref(&column.name), false);
                let led = table.indexes.iter().any(|i| {
                    i.name != own
                        && i.columns[0] == column.name
                        && i.method == migrations_core::schema::IndexMethod::Btree
                        && i.predicate.is_none()
                });
                match (index, covered) {
                    (None, false) => opts.push("index = false".into()),
                    (Some(index), true) => opts.push(index),
                    (Some(index), false) if index != "index" || led => opts.push(index),
                    _ => {}
                }
            }
            None => opts.extend(index),
        }
        if let Some(d) = &column.default {
            opts.push(default_option(d));
        }
        if let Some(c) = &column.comment {
            opts.push(format!("comment = {}", lit(c)));
        }
        let ty = if column.nullable { format!("Option<{ty}>") } else { ty };
        if !opts.is_empty() {
            fields.push_str(&format!("    #[model({})]\n", opts.join(", ")));
        }
        fields.push_str(&format!("    pub {ident}: {ty},\n"));
    }

    uses.extend(enum_uses.iter().map(String::as_str));
    uses.sort_unstable();
    uses.dedup();
    let mut out = String::new();
    for u in &uses {
        out.push_str(&format!("use {u};\n"));
    }
    out.push('\n');
    out.push_str("#[derive(Model)]\n");
    if !struct_opts.is_empty() {
        out.push_str(&format!("#[model({})]\n", struct_opts.join(", ")));
    }
    out.push_str(&format!("pub struct {name} {{\n{fields}}}\n"));
    out
}

/// The struct name of every table, made different from each other where two singulars
/// meet (`table` → name).
pub fn struct_names<'a>(tables: impl Iterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for table in tables {
        let base = struct_name(table);
        let n = taken.entry(base.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { base } else { format!("{base}{n}") };
        out.insert(table.to_string(), name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrations_core::schema::{Column, ForeignKey};

    #[test]
    fn struct_names_are_singular_and_the_table_name_is_written_when_it_differs() {
        assert_eq!(struct_name("order_items"), "OrderItem");
        assert_eq!(struct_name("categories"), "Category");
        assert_eq!(struct_name("addresses"), "Address");
        assert_eq!(struct_name("status"), "Status");
        assert_eq!(struct_name("2fa"), "Table2fa");
        let users =
            Table::new("users").field(Column::new("id", ColumnType::BigInt).auto_increment()).primary_key(&["id"]);
        assert!(!model_source(&users, "User", TypeCrates::default(), &BTreeMap::new()).contains("table ="));
        let people = Table { name: "people".into(), ..users };
        assert!(model_source(&people, "People", TypeCrates::default(), &BTreeMap::new())
            .contains(r#"#[model(table = "people")]"#));
    }

    #[test]
    fn a_table_with_database_names_reads_as_written_by_hand() {
        let mut t = Table::new("orders")
            .field(Column::new("id", ColumnType::BigInt).auto_increment())
            .field(Column::new("account_id", ColumnType::BigInt))
            .field(Column::new("placed_at", ColumnType::TimestampTz).default(DefaultValue::expr("now()")))
            .field(Column::new("type", ColumnType::Varchar(20)).nullable())
            .field(Column::new("total", ColumnType::Decimal { precision: 12, scale: 2 }))
            .field(Column::new("tags", ColumnType::array_of(ColumnType::Text)))
            .field(Column::new("path", ColumnType::Custom("ltree".into())))
            .primary_key(&["id"]);
        t.foreign_keys.push(ForeignKey {
            name: "orders_account_id_fkey".into(),
            columns: vec!["account_id".into()],
            ref_table: "accounts".into(),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: Deferrable::No,
            not_valid: false,
            explicit_name: true,
        });
        let crates = TypeCrates { chrono: true, rust_decimal: true, ..TypeCrates::default() };
        let source = model_source(&t, "Order", crates, &BTreeMap::new());
        assert_eq!(
            source,
            r#"use chrono::{DateTime, Utc};
use migrations_runtime::Model;
use rust_decimal::Decimal;

#[derive(Model)]
pub struct Order {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = "accounts(id)", on_delete = "cascade", foreign_key_name = "orders_account_id_fkey", index = false)]
    pub account_id: i64,
    #[model(default_expr = "now()")]
    pub placed_at: DateTime<Utc>,
    #[model(max_length = 20, column = "type")]
    pub type_: Option<String>,
    #[model(precision = 12, scale = 2)]
    pub total: Decimal,
    pub tags: Vec<String>,
    #[model(column_type = "sql:ltree")]
    pub path: String,
}
"#
        );
        let plain = model_source(&t, "Order", TypeCrates::default(), &BTreeMap::new());
        assert!(
            plain.contains("#[model(default_expr = \"now()\", column_type = \"timestamptz\")]")
                || plain.contains("column_type = \"timestamptz\""),
            "{plain}"
        );
    }
}
