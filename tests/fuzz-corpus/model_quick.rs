//! Models written the ways a text-level reader could trip on: braces and quotes in
//! comments, strings and characters; raw strings; doc comments; restricted visibility;
//! raw names; nested generics; a model in an inline module.
use migrations_runtime::Model;

/* A block comment with a struct Model { id: i64 } in it, /* nested */ still a comment. */

/// The `Model` of a tag: `}` and `{` in the docs, "quotes" too.
#[derive(Debug, Clone, Model)]
#[model(table = "tags", unique(label, kind, name = "one_label_per_kind"))]
pub struct Tag {
    #[model(primary_key, auto_increment)]
    pub id: i64, // the key }
    /** The label, { braced } in block docs. */
    #[model(max_length = 40, default = "un}{named \"tag\"")]
    pub(crate) label: String,
    #[model(comment = r#"a raw "}" comment"#, column = "tag_kind")]
    pub r#type: i16,
    #[model(references = "users(id)", on_delete = "set null")]
    pub(super) owner: Option<i64>,
    pub meta: Option<serde_json::Value>, /* trailing { */
    pub kind: Option < Json < Vec < Vec < String > > > >,
    pub raw: Vec<u8>,
    pub default: f64,
}

pub mod archive {
    use super::*;

    #[derive(Model)]
    pub struct ArchivedTag {
        #[model(primary_key)]
        pub id: i64,
        #[model(default = 1.50, precision = 6, scale = 2)]
        pub weight: rust_decimal::Decimal,
        pub at: ::chrono::DateTime<chrono::Utc>,
    }
}

/// Not a model, though the docs say Model.
#[derive(Debug)]
pub struct Plain<'a> {
    pub name: &'a str,
}

pub fn tricky<'a>(s: &'a str) -> (char, char, &'a str) {
    let _ = "#[derive(Model)] struct InAString { id: i64 }";
    let _ = br##"{"##;
    ('{', '\'', s)
}
