//! Parsing `#[derive(Model)]` structs into the schema IR. One grammar, used by both the
//! derive (for spanned compile errors) and the build script (for the diff).

mod attr;
mod column;
mod ctxt;
mod db_enum;
mod index;
mod naming;
mod options;
mod resolve;
mod rust_type;
mod struct_opts;

pub use column::{enum_candidate, enum_type_of};
pub use ctxt::Ctxt;
pub use db_enum::{parse_db_enum, DbEnum};
pub use naming::{default_table_name, plural, singular};
pub use resolve::{resolve_models, resolve_models_indexed, ModelSet};
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
    /// `foreign_key(a, b, references = "table(x, y)")` on the struct, resolved likewise.
    pub foreign_keys: Vec<CompositeKey>,
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RefTarget {
    /// `references = "table(col)"` or `"app.table(col)"`.
    Table {
        /// The app (crate) named before the dot, if any.
        app: Option<String>,
        /// Referenced table.
        table: String,
        /// Referenced column.
        column: String,
    },
    /// `references = Model` or `references = app::Model`: the model's table and its
    /// single-column primary key.
    Model {
        /// The first segment of a path of two or more (`auth` in `auth::User`), unless it
        /// is `crate`, `self` or `super`; the build decides whether it names an app.
        app: Option<String>,
        /// The struct (the last segment of the path).
        name: String,
    },
}

/// A struct-level `foreign_key(...)`: a foreign key over one or more columns, to a key of
/// the same columns' count.
#[derive(Debug, Clone)]
pub struct CompositeKey {
    /// The referencing columns, in order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub table: String,
    /// The referenced columns, in order.
    pub ref_columns: Vec<String>,
    /// `on_delete`.
    pub on_delete: FkAction,
    /// `on_update`.
    pub on_update: FkAction,
    /// `name = "..."`: the constraint's name as a person (or the database) gave it.
    pub name: Option<String>,
    /// `deferrable` (`foreign_key_deferrable` on a field).
    pub deferrable: crate::schema::Deferrable,
    /// `not_valid`: the rows there when it is added are not checked (PostgreSQL).
    pub not_valid: bool,
    /// Span of the `foreign_key` option.
    pub span: Span,
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
    /// `foreign_key_name`: the constraint's name as a person (or the database) gave it.
    pub name: Option<String>,
    /// `deferrable` (`foreign_key_deferrable` on a field).
    pub deferrable: crate::schema::Deferrable,
    /// `not_valid`: the rows there when it is added are not checked (PostgreSQL).
    pub not_valid: bool,
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
    derives(attrs, "Model")
}

/// Whether `attrs` holds a derive whose path ends in `name`.
pub fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| match &a.meta {
        syn::Meta::List(list) if list.path.is_ident("derive") => {
            // The last identifier before each `,` (or the end) ends a derived path. Read
            // from the tokens: syn's meta parser builds a parse buffer per attribute,
            // which the build script pays for every struct of a model file.
            let mut last = None;
            for tree in list.tokens.clone() {
                match tree {
                    proc_macro2::TokenTree::Ident(i) => last = Some(i),
                    // (`take`: the next path starts afresh.)
                    proc_macro2::TokenTree::Punct(p)
                        if p.as_char() == ',' && last.take().is_some_and(|i| i == name) =>
                    {
                        return true
                    }
                    _ => {}
                }
            }
            last.is_some_and(|i| i == name)
        }
        _ => false,
    })
}

/// Parses every `#[derive(Model)]` struct of a source file (at any module depth) and
/// resolves them into one [`ModelSet`]. Used by tests and tools that hold source text.
pub fn parse_source(source: &str, external: &crate::schema::Schema) -> Result<ModelSet, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut structs = Vec::new();
    collect_structs(&file.items, &mut structs);
    let mut models = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let mut keep = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for item in structs {
        match parse_model(&syn::DeriveInput::from(item)) {
            Ok(m) => models.push(m),
            Err(e) => keep(e),
        }
    }
    let mut enums = Vec::new();
    for item in collect_enums(&file.items) {
        match parse_db_enum(&syn::DeriveInput::from(item)) {
            Ok(e) => enums.push(e),
            Err(e) => keep(e),
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    resolve_models(models, &enums, external)
}

/// Every enum deriving `DbEnum` in `items`, descending into inline modules.
pub fn collect_enums(items: &[syn::Item]) -> Vec<syn::ItemEnum> {
    let mut out = Vec::new();
    for item in items {
        match item {
            syn::Item::Enum(e) if derives(&e.attrs, "DbEnum") => out.push(e.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    out.extend(collect_enums(inner));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every struct deriving `Model` in `items`, descending into inline modules.
pub fn collect_structs(items: &[syn::Item], out: &mut Vec<syn::ItemStruct>) {
    for item in items {
        match item {
            syn::Item::Struct(s) if derives_model(&s.attrs) => out.push(s.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_structs(inner, out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    /// A field's unique constraint and index take the names the database has, or keep
    /// the generated ones.
    #[test]
    fn field_level_unique_and_index_may_be_named() {
        let source = r#"
            #[derive(Model)]
            pub struct User {
                #[model(primary_key)]
                pub id: i64,
                #[model(max_length = 100, unique = "users_email_key")]
                pub email: String,
                #[model(max_length = 40, index = "users_nick_idx")]
                pub nick: String,
                #[model(max_length = 40, unique, index)]
                pub plain: String,
            }
        "#;
        let set = super::parse_source(source, &crate::Schema::new()).expect("parses");
        let users = set.schema.table("users").expect("users");
        let uniques: Vec<(&str, bool)> = users.uniques.iter().map(|u| (u.name.as_str(), u.explicit_name)).collect();
        assert_eq!(uniques, [("users_email_key", true), ("uq_users_plain", false)]);
        let indexes: Vec<(&str, bool)> = users.indexes.iter().map(|i| (i.name.as_str(), i.explicit_name)).collect();
        assert_eq!(indexes, [("users_nick_idx", true), ("ix_users_plain", false)]);
    }

    /// A struct's `index(...)`: keys in the order written, each option where it belongs,
    /// and the automatic foreign-key index given up for a declared one that leads with
    /// the same column.
    #[test]
    fn struct_level_indexes_take_every_option() {
        let source = r#"
            #[derive(Model)]
            #[model(table = "users")]
            pub struct User {
                #[model(primary_key)]
                pub id: i64,
            }

            #[derive(Model)]
            #[model(index(author_id, created_at, order(created_at = "desc nulls last"), include(title)))]
            #[model(index(expr = "lower(title)", unique, where = "deleted_at IS NULL", name = "ux_posts_live_title"))]
            #[model(index(title, method = "gin", opclass(title = "gin_trgm_ops")))]
            pub struct Post {
                #[model(primary_key)]
                pub id: i64,
                #[model(references = User)]
                pub author_id: i64,
                pub created_at: i64,
                pub title: String,
                pub deleted_at: Option<i64>,
            }
        "#;
        let set = super::parse_source(source, &crate::Schema::new()).expect("parses");
        let posts = set.schema.table("posts").expect("posts");
        let shown: Vec<String> = posts.indexes.iter().map(|i| format!("{} {}", i.name, i.definition())).collect();
        assert_eq!(
            shown,
            [
                "ix_posts_author_id_created_at (author_id, created_at DESC NULLS LAST) include (title)",
                "ux_posts_live_title unique ((lower(title))) where deleted_at IS NULL",
                "ix_posts_title gin (title gin_trgm_ops)",
            ]
        );
    }

    #[test]
    fn a_derive_of_model_is_found_by_the_last_segment_of_its_path() {
        let derives = |attrs: &str| {
            let item: syn::ItemStruct = syn::parse_str(&format!("{attrs} struct S;")).expect("struct");
            super::derives_model(&item.attrs)
        };
        for yes in [
            "#[derive(Model)]",
            "#[derive(Debug, Model)]",
            "#[derive(Model, Debug,)]",
            "#[derive(migrations_runtime::Model)]",
            "#[derive(::migrations_runtime::Model, Clone)]",
            "#[doc = \"x\"] #[derive(Debug)] #[derive(Model)]",
        ] {
            assert!(derives(yes), "{yes}");
        }
        for no in
            ["", "#[derive(Debug)]", "#[derive(ModelX)]", "#[derive(Model::Other)]", "#[model(Model)]", "#[derive]"]
        {
            assert!(!derives(no), "{no}");
        }
    }
}
