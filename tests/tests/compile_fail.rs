//! `#[derive(Model)]` diagnostics: every bad annotation is a compile error at the
//! offending attribute, and every error of a struct is reported, not only the first.

#[test]
fn bad_annotations_are_spanned_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

#[test]
fn every_option_compiles() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui-pass/*.rs");
}
