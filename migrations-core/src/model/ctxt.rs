//! Collects every spanned error of a model instead of stopping at the first.

use std::fmt::Display;

use quote::ToTokens;

/// Error collector. Each error keeps the span of the attribute or field at fault.
#[derive(Debug, Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// A new, empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error at the tokens of `at`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&mut self, at: T, message: M) {
        self.errors.push(syn::Error::new_spanned(at.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub fn error_at<M: Display>(&mut self, span: proc_macro2::Span, message: M) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records a `syn` error as is.
    pub fn syn_error(&mut self, err: syn::Error) {
        self.errors.push(err);
    }

    /// Whether nothing went wrong so far.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// All errors combined into one (`syn::Error` iterates over its parts), or `Ok`.
    pub fn check(self) -> Result<(), syn::Error> {
        let mut iter = self.errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(iter);
                Err(first)
            }
        }
    }
}
