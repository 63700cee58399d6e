//! `#[derive(Model)]` for Chakra migrations.
//!
//! The derive parses the struct with the same parser the build script uses
//! (`migrations_core::model`), so every bad annotation is a compile error at the
//! offending attribute, shown in the editor — and the build script never sees a model
//! the compiler accepted differently. On success it implements
//! `migrations_runtime::Model` with the table and column names.
#![warn(missing_docs)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, DeriveInput};

/// Declares a database table. Every option of `#[model(...)]` is documented, with
/// examples, on the `migrations_runtime::Model` trait this derive implements.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match migrations_core::model::parse_model(&input) {
        Ok(model) => {
            let columns: Vec<&str> = model.table.columns.iter().map(|c| c.name.as_str()).collect();
            implement(&input, &model.table.name, &columns).into()
        }
        // The errors plus a stub impl, so the user sees only the errors that matter
        // and not a cascade of "trait not implemented" that follow from them.
        Err(errors) => {
            let errors = errors.to_compile_error();
            let stub = implement(&input, "", &[]);
            quote!(#errors #stub).into()
        }
    }
}

fn implement(input: &DeriveInput, table: &str, columns: &[&str]) -> proc_macro2::TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::migrations_runtime::Model for #ident #ty_generics #where_clause {
            const TABLE: &'static str = #table;
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];
        }
    }
}
