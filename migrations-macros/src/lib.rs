//! `#[derive(Model)]` and `#[derive(DbEnum)]` for Chakra migrations.
//!
//! The derives parse the item with the same parser the build script uses
//! (`migrations_core::model`), so every bad annotation is a compile error at the
//! offending attribute, shown in the editor — and the build script never sees a model
//! the compiler accepted differently. On success they implement
//! `migrations_runtime::Model` (the table and column names) and
//! `migrations_runtime::DbEnum` (the type's name and values).
#![warn(missing_docs)]

use proc_macro::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{parse_macro_input, DeriveInput};

/// Declares a database table. Every option of `#[model(...)]` is documented, with
/// examples, on the `migrations_runtime::Model` trait this derive implements.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match migrations_core::model::parse_model(&input) {
        Ok(model) => {
            let columns: Vec<&str> = model.table.columns.iter().map(|c| c.name.as_str()).collect();
            let implementation = implement(&input, &model.table.name, &columns);
            let enums = enum_fields_are_db_enums(&input, Some(&model));
            quote!(#implementation #enums).into()
        }
        // The errors plus a stub impl, so the user sees only the errors that matter
        // and not a cascade of "trait not implemented" that follow from them.
        Err(errors) => {
            let errors = errors.to_compile_error();
            let stub = implement(&input, "", &[]);
            let enums = enum_fields_are_db_enums(&input, None);
            quote!(#errors #stub #enums).into()
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

/// A field whose type the parser does not know is taken for a `#[derive(DbEnum)]` enum
/// (the build finds it by name): the compiler checks it is one, and says so at the
/// field's type when it is not. Without a model (it has errors of its own), every field
/// of an unknown type without `column_type` or `skip` is checked, so that its error
/// comes with the others.
fn enum_fields_are_db_enums(
    input: &DeriveInput,
    model: Option<&migrations_core::model::Model>,
) -> proc_macro2::TokenStream {
    let syn::Data::Struct(data) = &input.data else { return quote!() };
    let generic = |ty: &syn::Type| {
        input.generics.type_params().any(|p| matches!(ty, syn::Type::Path(t) if t.path.is_ident(&p.ident)))
    };
    let mut checks = Vec::new();
    for field in &data.fields {
        let Some(ident) = &field.ident else { continue };
        let pending = match model {
            Some(model) => {
                let Some(f) = model.fields.iter().find(|f| ident == f.ident.as_str()) else { continue };
                model.table.column(&f.column).and_then(|c| c.ty.enum_type()).is_some_and(|e| e.values.is_empty())
            }
            None => {
                let typed_otherwise = field.attrs.iter().filter(|a| a.path().is_ident("model")).any(|a| {
                    let tokens = a.meta.to_token_stream().to_string();
                    tokens.contains("column_type") || tokens.contains("skip")
                });
                let known = migrations_core::model::field_type(&field.ty).is_ok_and(|t| t.kind.is_some());
                !typed_otherwise && !known && migrations_core::model::enum_candidate(&field.ty).is_some()
            }
        };
        let Some(ty) = migrations_core::model::enum_type_of(&field.ty).filter(|_| pending) else { continue };
        if generic(ty) {
            continue;
        }
        checks.push(quote_spanned!(ty.span()=> let _ = __chakra_is_db_enum::<#ty>;));
    }
    if checks.is_empty() {
        return quote!();
    }
    quote! {
        const _: () = {
            fn __chakra_is_db_enum<T: ::migrations_runtime::DbEnum>() {}
            #(#checks)*
        };
    }
}

/// Declares an enumerated column type: PostgreSQL's `CREATE TYPE ... AS ENUM`, MySQL's
/// `ENUM(...)`, text with a `CHECK` of the values on SQLite. Every option of
/// `#[db_enum(...)]` is documented, with examples, on the `migrations_runtime::DbEnum`
/// trait this derive implements.
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let ident = &input.ident;
    let parsed = migrations_core::model::parse_db_enum(&input);
    let (name, values, errors) = match &parsed {
        Ok(e) => (e.ty.name.clone(), e.ty.values.clone(), quote!()),
        Err(errors) => (String::new(), Vec::new(), errors.to_compile_error()),
    };
    let variants: Vec<&syn::Ident> = match (&input.data, &parsed) {
        (syn::Data::Enum(data), Ok(_)) => data.variants.iter().map(|v| &v.ident).collect(),
        _ => Vec::new(),
    };
    let (to_str, from_str) = if variants.is_empty() {
        (quote!(unreachable!("an invalid DbEnum has no values")), quote!(None))
    } else {
        let value = &values;
        (
            quote!(match self { #(Self::#variants => #value,)* }),
            quote!(match value { #(#value => Some(Self::#variants),)* _ => None }),
        )
    };
    quote! {
        #errors
        #[automatically_derived]
        impl ::migrations_runtime::DbEnum for #ident {
            const TYPE_NAME: &'static str = #name;
            const VALUES: &'static [&'static str] = &[#(#values),*];
            fn as_db_str(&self) -> &'static str {
                #to_str
            }
            fn from_db_str(value: &str) -> ::core::option::Option<Self> {
                #from_str
            }
        }
    }
    .into()
}
