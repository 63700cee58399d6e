//! Finding the bodies of model structs in a file's text without lexing it whole.
//!
//! Build scripts run unoptimised by default, and there `proc_macro2`'s lexer is most of
//! what `syn::parse_file` costs: some 8 MB/s. The bodies of model structs (the fields and
//! their attributes) are most of a model file's text. So, on a cold cache, the scan
//! blanks them ([`blank_model_bodies`]), lets `syn` parse the rest (which still checks
//! every item of the file), and reads each body's fields from its text
//! ([`crate::field_list`]). Anything unusual makes the scan parse the file whole instead.
//!
//! What this file knows of Rust's lexical grammar is what it takes not to be fooled by
//! a brace or a `struct` inside a comment, a string or a character literal.

use syn::punctuated::Punctuated;

use crate::field_list::read_fields;

/// A file's text with the bodies of the structs that may be models blanked, and where
/// those bodies were.
#[derive(Debug)]
pub(crate) struct Blanked {
    /// The text, each body's contents replaced by as many line breaks and spaces as keep
    /// every later token at its line and column.
    pub text: String,
    /// The bodies, in the order of the text.
    pub bodies: Vec<Body>,
}

/// One blanked struct body.
#[derive(Debug)]
pub(crate) struct Body {
    /// The line (from 1) and column (in characters, from 0) of its `{`, as `proc_macro2`
    /// gives a span's start.
    pub line: usize,
    /// See `line`.
    pub column: usize,
    /// The text between the braces, as the file has it.
    pub text: std::ops::Range<usize>,
    /// Its fields, read from that text.
    pub fields: Punctuated<syn::Field, syn::Token![,]>,
}

/// Blanks the body of every `struct Name { ... }` whose attributes (the text since the
/// previous `;`, `{` or `}`) mention `Model` and whose fields [`read_fields`] reads; the
/// body's fields are kept beside. `None` when there is no such body. Any other struct
/// (with generics, a `where` clause, fields of another shape) is left as it is.
pub(crate) fn blank_model_bodies(text: &str) -> Option<Blanked> {
    let bytes = text.as_bytes();
    let mut bodies = Vec::new();
    let mut boundary = 0;
    let mut counted = (0, 1);
    let mut i = 0;
    // One `match` per byte, few calls: this runs unoptimised, like the rest of the build
    // script, and the bodies it blanks are read by `read_fields` in the same pass.
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b';' | b'{' | b'}' => {
                boundary = i + 1;
                i += 1;
            }
            b'/' | b'"' | b'\'' => i = skip_trivia_or_literal(bytes, i).unwrap_or(i + 1),
            b if is_ident_start(b) => {
                let end = ident_end(bytes, i);
                if let Some(after) = raw_string_after_prefix(bytes, i, end) {
                    i = after;
                    continue;
                }
                if &bytes[i..end] == b"struct" && text[boundary..i].contains("Model") {
                    let read = struct_open(bytes, end).and_then(|open| Some((open, read_fields(text, open + 1)?)));
                    if let Some((open, (fields, close))) = read {
                        bodies.push(body_at(text, &mut counted, open, close, fields));
                        boundary = close + 1;
                        i = close + 1;
                        continue;
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    if bodies.is_empty() {
        return None;
    }
    let mut blanked = String::with_capacity(text.len());
    let mut from = 0;
    for body in &bodies {
        let inside = &text[body.text.clone()];
        blanked.push_str(&text[from..body.text.start]);
        let breaks = inside.matches('\n').count();
        let last_line = &inside[inside.rfind('\n').map_or(0, |n| n + 1)..];
        blanked.extend(std::iter::repeat_n('\n', breaks));
        blanked.extend(std::iter::repeat_n(' ', last_line.chars().count()));
        from = body.text.end;
    }
    blanked.push_str(&text[from..]);
    Some(Blanked { text: blanked, bodies })
}

/// After the keyword `struct` (ending at `from`): the name, then `{`; where that brace
/// is, or `None` for any other shape (generics, a tuple struct, ...).
fn struct_open(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = skip_space(bytes, from);
    if bytes.get(i..i + 2) == Some(b"r#") {
        i += 2;
    }
    if !bytes.get(i).copied().is_some_and(is_ident_start) {
        return None;
    }
    i = skip_space(bytes, ident_end(bytes, i));
    (bytes.get(i) == Some(&b'{')).then_some(i)
}

/// The body between the braces at `open` and `close`; `counted` is how far the lines
/// are counted (a position and its line), moved on to `open`.
fn body_at(
    text: &str,
    counted: &mut (usize, usize),
    open: usize,
    close: usize,
    fields: Punctuated<syn::Field, syn::Token![,]>,
) -> Body {
    let (from, line) = *counted;
    // (`matches` finds line breaks with `memchr`: several times faster unoptimised.)
    let line = line + text[from..open].matches('\n').count();
    *counted = (open, line);
    let before = &text[..open];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    Body { line, column: before[line_start..].chars().count(), text: open + 1..close, fields }
}

/// If whitespace, a comment, a literal or a word (with the raw string it may prefix)
/// starts at `i`, where it ends: what a search for delimiters steps over whole.
pub(crate) fn skip_non_delimiter(bytes: &[u8], i: usize) -> Option<usize> {
    if let Some(end) = skip_trivia_or_literal(bytes, i) {
        return Some(end);
    }
    is_ident_start(bytes[i]).then(|| {
        let end = ident_end(bytes, i);
        raw_string_after_prefix(bytes, i, end).unwrap_or(end)
    })
}

/// Whitespace and comments from `i` on; where they end.
fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if let Some(end) = comment_end(bytes, i) {
            i = end;
        } else {
            break;
        }
    }
    i
}

/// If a comment starts at `i`, where it ends (block comments nest).
pub(crate) fn comment_end(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i..i + 2)? {
        b"//" => Some(bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| i + n + 1)),
        b"/*" => {
            let mut depth = 0usize;
            let mut j = i;
            while j + 1 < bytes.len() {
                match &bytes[j..j + 2] {
                    b"/*" => {
                        depth += 1;
                        j += 2;
                    }
                    b"*/" => {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                    _ => j += 1,
                }
            }
            Some(bytes.len())
        }
        _ => None,
    }
}

/// If whitespace, a comment, a string or a character literal starts at `i`, where it
/// ends. (Raw strings start with an identifier-like prefix: see
/// [`raw_string_after_prefix`].)
pub(crate) fn skip_trivia_or_literal(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes[i] {
        b if b.is_ascii_whitespace() => Some(i + 1),
        b'/' => comment_end(bytes, i),
        b'"' => Some(string_end(bytes, i + 1)),
        b'\'' => Some(quote_end(bytes, i)),
        _ => None,
    }
}

/// The end of a (non-raw) string whose contents start at `i`: after its closing quote.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// After a `'` at `i`: the end of the character literal, or just past the quote when it
/// starts a lifetime or a label (`'a'` is a character, `'a` a lifetime).
fn quote_end(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1) {
        Some(b'\\') => {
            let mut j = i + 3;
            while j < bytes.len() && bytes[j] != b'\'' && bytes[j] != b'\n' {
                j += 1;
            }
            (j + 1).min(bytes.len())
        }
        Some(&c) => {
            let width = utf8_width(c);
            if bytes.get(i + 1 + width) == Some(&b'\'') {
                i + 2 + width
            } else {
                i + 1
            }
        }
        None => i + 1,
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// If the identifier-like word `bytes[start..end]` is the prefix of a raw string
/// (`r"…"`, `r#"…"#`, `br"…"`, `cr"…"`) or of a byte or C string (`b"…"`, `c"…"`), where
/// that literal ends.
pub(crate) fn raw_string_after_prefix(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let prefix = &bytes[start..end];
    if matches!(prefix, b"b" | b"c") && bytes.get(end) == Some(&b'"') {
        return Some(string_end(bytes, end + 1));
    }
    if !matches!(prefix, b"r" | b"br" | b"cr") {
        return None;
    }
    let hashes = bytes[end..].iter().take_while(|&&b| b == b'#').count();
    if bytes.get(end + hashes) != Some(&b'"') {
        return None;
    }
    let mut j = end + hashes + 1;
    while j < bytes.len() {
        if bytes[j] == b'"' && bytes[j + 1..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(bytes.len())
}

/// Whether `b` starts an identifier (or a number, which is skipped the same way). Bytes
/// of non-ASCII characters count, so a word is never split inside a character.
pub(crate) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Where the word starting at `i` ends.
pub(crate) fn ident_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_ident_start(bytes[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every body found sits where `syn` sees the struct's brace in the original text,
    /// the blanked text parses, and its structs are the originals without fields.
    fn check(text: &str, expected_bodies: &[&str]) {
        let found = blank_model_bodies(text);
        let bodies: Vec<&str> =
            found.as_ref().map(|b| b.bodies.iter().map(|b| &text[b.text.clone()]).collect()).unwrap_or_default();
        assert_eq!(bodies, expected_bodies, "in:\n{text}");
        let Some(blanked) = found else { return };
        let original = syn::parse_file(text).expect("the original parses");
        let parsed = syn::parse_file(&blanked.text).expect("the blanked text parses");
        fn braces(items: &[syn::Item], out: &mut Vec<(usize, usize)>) {
            for item in items {
                match item {
                    syn::Item::Struct(syn::ItemStruct { fields: syn::Fields::Named(f), .. }) => {
                        let start = f.brace_token.span.open().start();
                        out.push((start.line, start.column));
                    }
                    syn::Item::Mod(syn::ItemMod { content: Some((_, inner)), .. }) => braces(inner, out),
                    _ => {}
                }
            }
        }
        let braces = |file: &syn::File| {
            let mut out = Vec::new();
            braces(&file.items, &mut out);
            out
        };
        let at: Vec<(usize, usize)> = blanked.bodies.iter().map(|b| (b.line, b.column)).collect();
        for place in &at {
            assert!(braces(&original).contains(place), "no struct brace at {place:?} in:\n{text}");
        }
        assert_eq!(braces(&original), braces(&parsed), "tokens moved in:\n{}", blanked.text);
        assert_eq!(original.items.len(), parsed.items.len());
    }

    #[test]
    fn finds_the_bodies_of_structs_that_may_be_models() {
        check(
            "#[derive(Model)]\npub struct A {\n    pub id: i64,\n}\n\n#[derive(Debug)]\nstruct B { x: i32 }\n",
            &["\n    pub id: i64,\n"],
        );
        check("#[derive(Model)] struct A<T> { x: T }\n#[derive(Model)] struct B(i32);\n", &[]);
        // Fields of another shape: left to syn.
        check("#[derive(Model)] struct A { x: &'static str }\n", &[]);
        check("#[derive(Model)]\nstruct r#A { x: i32 }  struct C;", &[" x: i32 "]);
    }

    #[test]
    fn braces_in_comments_strings_and_characters_are_not_code() {
        let text = r####"
// struct Model { }
/* nested /* struct Model { */ } */
const S: &str = "struct Model { \" }";
const R: &str = r##"struct Model { "# }"##;
const B: &[u8] = br#"{"#;
const C: char = '{';
const Q: char = '\'';
fn f<'a>(x: &'a str) -> &'a str { x }
/// A `Model` with a `}` in its docs.
#[derive(Model)]
pub struct Tricky {
    /// `}` in a doc comment
    #[model(default = "}{", comment = r#"a "}" b"#)]
    pub name: String, // }
    pub c: Option<i32>, /* { */
}
#[derive(Model)] pub struct Ünï { pub e: i32 } // é
#[derive(Model)] pub struct Ä { pub é: i32 }
"####;
        check(
            text,
            &[
                "\n    /// `}` in a doc comment\n    #[model(default = \"}{\", comment = r#\"a \"}\" b\"#)]\n    pub name: String, // }\n    pub c: Option<i32>, /* { */\n",
                " pub e: i32 ",
            ],
        );
    }

    #[test]
    fn blanking_keeps_every_later_token_in_place() {
        check(
            "#[derive(Model)] struct A { a: i32,\n b: i32 } #[derive(Model)] struct B { c: i32 } fn f() {}\n",
            &[" a: i32,\n b: i32 ", " c: i32 "],
        );
        check(
            "mod m {\n    #[derive(Model)]\n    pub struct A {\n        a: i32,\n    }\n}\n",
            &["\n        a: i32,\n    "],
        );
    }
}
