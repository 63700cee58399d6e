//! Parsing `#[derive(Model)]` structs into the schema IR. One grammar, used by both the
//! derive (for spanned compile errors) and the build script (for the diff).

mod attr;
mod ctxt;
mod naming;
mod resolve;
mod rust_type;

pub use ctxt::Ctxt;
pub use naming::{default_table_name, plural};
pub use resolve::{resolve_models, ModelSet};
pub use rust_type::{field_type, FieldType, RustKind};

use proc_macro2::Span;

use crate::schema::{DefaultValue, FkAction, Table};

/// One parsed model: the table it declares plus what only the autodetector needs.
#[derive(Debug, Clone)]
pub struct Model {
    /// The struct's name.
    pub ident: syn::Ident,
    /// The table, with foreign keys still to be resolved (see [`Model::references`]).
    pub table: Table,
    /// `#[model(renamed_from = "...")]` on the struct.
    pub renamed_from: Option<String>,
    /// Per-column facts that are not schema.
    pub fields: Vec<Field>,
    /// `references = ...` on fields, resolved against the other models by [`resolve_models`].
    pub references: Vec<Reference>,
    /// Span of the struct name, for errors about the whole model.
    pub span: Span,
}

/// A field's facts that are not part of the schema.
#[derive(Debug, Clone)]
pub struct Field {
    /// The Rust field name.
    pub ident: String,
    /// The SQL column name.
    pub column: String,
    /// `renamed_from = "old"`.
    pub renamed_from: Option<String>,
    /// `backfill = ...` / `backfill_expr = "..."`.
    pub backfill: Option<DefaultValue>,
    /// Span of the field.
    pub span: Span,
}

/// Where a foreign key points before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefTarget {
    /// `references = "table(col)"`.
    Table {
        /// Referenced table.
        table: String,
        /// Referenced column.
        column: String,
    },
    /// `references = Model`: the model's table and its single-column primary key.
    Model(String),
}

/// A field-level `references`.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The referencing column.
    pub column: String,
    /// The target.
    pub target: RefTarget,
    /// `on_delete`.
    pub on_delete: FkAction,
    /// `on_update`.
    pub on_update: FkAction,
    /// Span of the `references` option.
    pub span: Span,
}

/// Parses one `#[derive(Model)]` struct. Every problem is reported, each at its span.
pub fn parse_model(input: &syn::DeriveInput) -> Result<Model, syn::Error> {
    let mut cx = Ctxt::new();
    let model = attr::parse(&mut cx, input);
    cx.check()?;
    model.ok_or_else(|| syn::Error::new_spanned(&input.ident, "invalid model"))
}

/// Whether `attrs` holds a derive whose path ends in `Model`.
pub fn derives_model(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.segments.last().is_some_and(|s| s.ident == "Model") {
                found = true;
            }
            Ok(())
        });
        found
    })
}
