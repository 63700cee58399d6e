//! Reading the fields of a struct body from its text (see [`crate::skim`] for why).
//!
//! Only the plain shape is read: attributes, `pub` or `pub(crate|self|super)`, a name, a
//! type that is a path with type arguments (`Option<chrono::DateTime<Utc>>`), commas.
//! Anything else (a lifetime, a reference, an array, a macro, a keyword where a name
//! goes, a character outside ASCII) is `None`, and the caller parses the file with
//! `syn`, which also words the error when there is one. So what is read here is what
//! `syn` reads, never more: a body this accepts is valid Rust.
//!
//! The fields carry no spans (`Span::call_site()`): models read on a cold cache are
//! cached without spans anyway, and an error in one makes the build read everything
//! again with `syn` to say where.
//!
//! Doc comments (and `#[doc]` attributes) are left out: nothing in a model reads them.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::{Field, Token};

use crate::skim::{comment_end, ident_end, skip_non_delimiter};

/// The fields of the struct body that starts at `from` in `text` (just after its `{`),
/// and where its closing `}` is; `None` for anything but the plain shape.
pub(crate) fn read_fields(text: &str, from: usize) -> Option<(Punctuated<Field, Token![,]>, usize)> {
    let mut r = Reader { bytes: text.as_bytes(), text, at: from, docs: 0 };
    let mut fields = Vec::new();
    let mut attrs = Vec::new();
    let mut trailing_comma = false;
    loop {
        r.docs = 0;
        r.space_or_docs(true)?;
        if r.peek()? == b'}' {
            // (A doc comment after the last field documents nothing: an error.)
            if r.docs > 0 {
                return None;
            }
            break;
        }
        attrs.clear();
        while r.eat(b"#") {
            r.space()?;
            let attr = attribute(attribute_tokens(r.bracketed()?)?)?;
            if !attr.path().is_ident("doc") {
                attrs.push(attr);
            }
            r.space_or_docs(true)?;
        }
        let vis = r.visibility()?;
        r.space()?;
        let ident = r.ident()?;
        r.space()?;
        if !r.eat(b":") || r.peek() == Some(b':') {
            return None;
        }
        r.space()?;
        let ty = r.ty()?;
        fields.push(Field {
            attrs: std::mem::take(&mut attrs),
            vis,
            mutability: syn::FieldMutability::None,
            ident: Some(ident),
            colon_token: Some(Token![:](Span::call_site())),
            ty,
        });
        trailing_comma = false;
        r.space()?;
        if r.peek()? == b'}' {
            break;
        }
        if !r.eat(b",") {
            return None;
        }
        trailing_comma = true;
    }
    let mut fields: Punctuated<Field, Token![,]> = fields.into_iter().collect();
    if trailing_comma {
        fields.push_punct(Token![,](Span::call_site()));
    }
    Some((fields, r.at))
}

/// The tokens of what is inside an attribute's brackets. The common content (words,
/// `=`, `,`, parentheses, plain strings and numbers: `model(max_length = 100)`) is
/// turned into tokens here, which costs a fraction of what the lexer does at opt-level
/// 0; anything else is lexed.
fn attribute_tokens(text: &str) -> Option<TokenStream> {
    let mut at = 0;
    match plain_tokens(text.as_bytes(), &mut at, false) {
        Some(tokens) => Some(tokens),
        // (The lexer drops a byte order mark that starts its text: here it would be in
        // the middle of the file, where it is an error.)
        None if text.starts_with('\u{feff}') => None,
        None => text.parse().ok(),
    }
}

/// The tokens from `at` to the end of `bytes` (or, `in_parens`, to the `)` that closes
/// the group, moving `at` past it); `None` at anything but the plain content.
fn plain_tokens(bytes: &[u8], at: &mut usize, in_parens: bool) -> Option<TokenStream> {
    use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing};
    let span = Span::call_site();
    let mut out: Vec<TokenTree> = Vec::new();
    loop {
        while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
            *at += 1;
        }
        let Some(&b) = bytes.get(*at) else {
            return (!in_parens).then(|| out.into_iter().collect());
        };
        let start = *at;
        match b {
            b')' if in_parens => {
                *at += 1;
                return Some(out.into_iter().collect());
            }
            b'(' => {
                *at += 1;
                let inner = plain_tokens(bytes, at, true)?;
                out.push(Group::new(Delimiter::Parenthesis, inner).into());
            }
            b'=' | b',' => {
                *at += 1;
                // As the lexer sets it: joint when another operator character follows.
                let joint = bytes.get(*at).is_some_and(|n| b"~!@#$%^&*-=+|;:,<.>/?'".contains(n));
                out.push(Punct::new(char::from(b), if joint { Spacing::Joint } else { Spacing::Alone }).into());
            }
            b'"' => {
                *at += 1;
                while *at < bytes.len() && bytes[*at] != b'"' {
                    // (An escape, a control or a non-ASCII character: left to the lexer.)
                    if bytes[*at] == b'\\' || !(b' '..=b'~').contains(&bytes[*at]) {
                        return None;
                    }
                    *at += 1;
                }
                if *at == bytes.len() {
                    return None;
                }
                *at += 1;
                // (A suffix, `"text"x`, is part of the literal to the lexer: left to it.)
                if bytes.get(*at).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80) {
                    return None;
                }
                let inner = std::str::from_utf8(bytes.get(start + 1..*at - 1)?).ok()?;
                out.push(Literal::string(inner).into());
            }
            b'0'..=b'9' => {
                *at = ident_end(bytes, start);
                let digits = std::str::from_utf8(&bytes[start..*at]).ok()?;
                // (A suffix, a float, another base or a leading zero: left to the lexer.)
                if bytes.get(*at) == Some(&b'.') || (digits.len() > 1 && digits.starts_with('0')) {
                    return None;
                }
                out.push(Literal::u64_unsuffixed(digits.parse().ok()?).into());
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                *at = ident_end(bytes, start);
                // (A raw identifier, a raw or byte string, a lifetime: left to the lexer.)
                if matches!(bytes.get(*at), Some(b'"' | b'#' | b'\'')) {
                    return None;
                }
                let word = std::str::from_utf8(&bytes[start..*at]).ok()?;
                if !word.is_ascii() {
                    return None;
                }
                out.push(Ident::new(word, span).into());
            }
            _ => return None,
        }
    }
}

/// `#[...]` from what is inside the brackets: a path alone, a path and a delimited
/// group, or a path `=` a literal, as `syn` reads them.
fn attribute(tokens: TokenStream) -> Option<syn::Attribute> {
    let mut trees = tokens.into_iter().peekable();
    let mut path = syn::Path { leading_colon: None, segments: Punctuated::new() };
    loop {
        let Some(TokenTree::Ident(ident)) = trees.next() else { return None };
        if is_keyword(&ident.to_string()) {
            return None;
        }
        path.segments.push(syn::PathSegment::from(ident));
        match trees.peek() {
            Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Joint => {
                trees.next();
                match trees.next() {
                    Some(TokenTree::Punct(p)) if p.as_char() == ':' => {}
                    _ => return None,
                }
            }
            _ => break,
        }
    }
    let span = Span::call_site();
    let meta = match (trees.next(), trees.next(), trees.next()) {
        (None, ..) => syn::Meta::Path(path),
        (Some(TokenTree::Group(g)), None, _) => {
            let delimiter = match g.delimiter() {
                proc_macro2::Delimiter::Parenthesis => syn::MacroDelimiter::Paren(syn::token::Paren(span)),
                proc_macro2::Delimiter::Brace => syn::MacroDelimiter::Brace(syn::token::Brace(span)),
                proc_macro2::Delimiter::Bracket => syn::MacroDelimiter::Bracket(syn::token::Bracket(span)),
                proc_macro2::Delimiter::None => return None,
            };
            syn::Meta::List(syn::MetaList { path, delimiter, tokens: g.stream() })
        }
        (Some(TokenTree::Punct(eq)), Some(value), None)
            if eq.as_char() == '=' && eq.spacing() == proc_macro2::Spacing::Alone =>
        {
            let lit = match value {
                TokenTree::Literal(l) => syn::Lit::new(l),
                TokenTree::Ident(i) if i == "true" || i == "false" => {
                    syn::Lit::Bool(syn::LitBool::new(i == "true", span))
                }
                _ => return None,
            };
            syn::Meta::NameValue(syn::MetaNameValue {
                path,
                eq_token: Token![=](span),
                value: syn::Expr::Lit(syn::ExprLit { attrs: Vec::new(), lit }),
            })
        }
        _ => return None,
    };
    Some(syn::Attribute {
        pound_token: Token![#](span),
        style: syn::AttrStyle::Outer,
        bracket_token: syn::token::Bracket(span),
        meta,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    /// Doc comments skipped since the count was last reset.
    docs: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, what: &[u8]) -> bool {
        let found = self.bytes[self.at..].starts_with(what);
        if found {
            self.at += what.len();
        }
        found
    }

    /// Whitespace and comments. A doc comment is an attribute: only where attributes
    /// may stand (`docs`), and then it is skipped and counted in `self.docs`. `None` at
    /// one anywhere else, and at an inner doc comment (`//!`, `/*!`), which cannot stand
    /// in a struct body.
    fn space_or_docs(&mut self, docs: bool) -> Option<()> {
        loop {
            while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
                self.at += 1;
            }
            let Some(end) = comment_end(self.bytes, self.at) else { return Some(()) };
            let rest = &self.bytes[self.at..];
            let inner = rest.starts_with(b"//!") || rest.starts_with(b"/*!");
            let outer = (rest.starts_with(b"///") && !rest.starts_with(b"////"))
                || (rest.starts_with(b"/**") && !rest.starts_with(b"/***") && !rest.starts_with(b"/**/"));
            if inner || (outer && !docs) {
                return None;
            }
            // A carriage return in a doc comment must end a line (the lexer's rule).
            if outer && (self.at..end).any(|i| self.bytes[i] == b'\r' && self.bytes.get(i + 1) != Some(&b'\n')) {
                return None;
            }
            self.docs += usize::from(outer);
            self.at = end;
        }
    }

    /// Whitespace and comments, where no attribute may stand.
    fn space(&mut self) -> Option<()> {
        self.space_or_docs(false)
    }

    /// The text inside `[...]`, brackets, braces and parentheses balanced, literals and
    /// comments skipped whole.
    fn bracketed(&mut self) -> Option<&'a str> {
        if !self.eat(b"[") {
            return None;
        }
        let start = self.at;
        let mut open = vec![b']'];
        while let Some(&b) = self.bytes.get(self.at) {
            if let Some(end) = skip_non_delimiter(self.bytes, self.at) {
                self.at = end;
                continue;
            }
            match b {
                b'[' => open.push(b']'),
                b'(' => open.push(b')'),
                b'{' => open.push(b'}'),
                b']' | b')' | b'}' => {
                    if open.pop() != Some(b) {
                        return None;
                    }
                    if open.is_empty() {
                        self.at += 1;
                        return Some(&self.text[start..self.at - 1]);
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
        None
    }

    /// Nothing, `pub`, or `pub(crate)`, `pub(self)`, `pub(super)`.
    fn visibility(&mut self) -> Option<syn::Visibility> {
        let start = self.at;
        let Some(word) = self.word() else { return Some(syn::Visibility::Inherited) };
        if word != "pub" {
            self.at = start;
            return Some(syn::Visibility::Inherited);
        }
        let span = Span::call_site();
        let after_pub = self.at;
        self.space()?;
        if !self.eat(b"(") {
            self.at = after_pub;
            return Some(syn::Visibility::Public(Token![pub](span)));
        }
        self.space()?;
        let scope = self.word()?;
        if !matches!(scope, "crate" | "self" | "super") {
            return None;
        }
        self.space()?;
        if !self.eat(b")") {
            return None;
        }
        Some(syn::Visibility::Restricted(syn::VisRestricted {
            pub_token: Token![pub](span),
            paren_token: syn::token::Paren(span),
            in_token: None,
            path: Box::new(syn::Path::from(syn::Ident::new(scope, span))),
        }))
    }

    /// An ASCII word at the cursor (a keyword or not), moving past it.
    fn word(&mut self) -> Option<&'a str> {
        let start = self.at;
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let end = ident_end(self.bytes, start);
        let word = &self.text[start..end];
        if !word.is_ascii() {
            return None;
        }
        self.at = end;
        Some(word)
    }

    /// An identifier that is not a keyword (`r#type` is one), moving past it.
    fn ident(&mut self) -> Option<syn::Ident> {
        let raw = self.eat(b"r#");
        let word = self.word()?;
        let span = Span::call_site();
        if raw {
            // `r#crate`, `r#self`, `r#super`, `r#Self` and `r#_` are not identifiers.
            return (!matches!(word, "crate" | "self" | "super" | "Self" | "_"))
                .then(|| syn::Ident::new_raw(word, span));
        }
        if word == "_" || is_keyword(word) {
            return None;
        }
        Some(syn::Ident::new(word, span))
    }

    /// A path type, each segment with type arguments or none: `Option<Vec<u8>>`,
    /// `::chrono::DateTime<chrono::Utc>`.
    fn ty(&mut self) -> Option<syn::Type> {
        let span = Span::call_site();
        let leading_colon = self.eat(b"::").then(|| Token![::](span));
        let mut segments = Punctuated::new();
        loop {
            self.space()?;
            let ident = self.ident()?;
            self.space()?;
            let arguments = if self.eat(b"<") {
                let mut args = Punctuated::new();
                loop {
                    self.space()?;
                    if self.eat(b">") {
                        break;
                    }
                    args.push_value(syn::GenericArgument::Type(self.ty()?));
                    self.space()?;
                    if self.eat(b">") {
                        break;
                    }
                    if !self.eat(b",") {
                        return None;
                    }
                    args.push_punct(Token![,](span));
                }
                if args.is_empty() {
                    return None;
                }
                syn::PathArguments::AngleBracketed(syn::AngleBracketedGenericArguments {
                    colon2_token: None,
                    lt_token: Token![<](span),
                    args,
                    gt_token: Token![>](span),
                })
            } else {
                syn::PathArguments::None
            };
            segments.push(syn::PathSegment { ident, arguments });
            self.space()?;
            if !self.eat(b"::") {
                break;
            }
            if self.peek() == Some(b'<') {
                return None;
            }
        }
        Some(syn::Type::Path(syn::TypePath { qself: None, path: syn::Path { leading_colon, segments } }))
    }
}

/// The words `syn` does not take for an identifier (Rust's strict and reserved keywords),
/// and `gen`, reserved in the 2024 edition. (Weak keywords such as `union`, `default` or
/// `raw` are names.)
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of `{body}`, if read, having found its end.
    fn read(body: &str) -> Option<Punctuated<Field, Token![,]>> {
        let text = format!("{{{body}}}");
        let (fields, close) = read_fields(&text, 1)?;
        assert_eq!(close, text.len() - 1, "the closing brace of {text}");
        Some(fields)
    }

    /// The fields as `syn` reads the same body, doc comments left out.
    fn syn_fields(body: &str) -> Option<Punctuated<Field, Token![,]>> {
        let mut named: syn::FieldsNamed = syn::parse_str(&format!("{{{body}}}")).ok()?;
        for f in named.named.iter_mut() {
            f.attrs.retain(|a| !a.path().is_ident("doc"));
        }
        Some(named.named)
    }

    #[test]
    fn reads_what_syn_reads() {
        for body in [
            "",
            "\n    pub id: i64,\n",
            "id: i64, name: String",
            "  #[model(primary_key, auto_increment)]\n  pub id: i64,\n  /// The name.\n  #[model(max_length = 100, default = \"a]b\")]\n  pub name: String,\n",
            "pub(crate) a: Option<i32>, pub(super) b: Vec<u8>, pub ( self ) c: bool",
            "r#type: String, r#loop: i32, raw: i32, union: i32, default: i32",
            "at: Option<::chrono::DateTime<chrono::Utc>>, j: serde_json::Value, n: Json<Vec<Vec<String>>>,",
            "a: Option<i32,>, b: HashMap<String, Vec<u8>>, c: Option < Vec < u8 > >",
            "#[serde(rename = \"x\")] #[model(references = User, on_delete = \"cascade\")] #[doc = \"x\"] #[allow(dead_code)] user: i64",
            "#[model(comment = r#\"say \"hi\" ]\"#)] a: i32 /* } */, // , x: y\n b: i32",
            "#[model(default = -1)] a: i32, #[model(default = 1.5, index = false)] b: f64",
            "#[model::x] a: i32, #[model = true] b: i32",
            "/** block doc */ a: i32, /**/ b: i32, /*** not doc */ c: i32, //// not doc\n d: i32",
            "/// line doc\r\n a: i32, /* bare \r in a comment */ b: i32",
            "#[model(default = \"a\\\"b\", comment = \"é\")] a: String, #[model(x = 007, y = 1u8, z = 0x1f)] b: i32",
            "#[model(references = crate::users::User, check(a = (1, 2)), e = \"\")] a: i64, #[model(a,,b,=c)] b: i32",
            "#[model(r#type = \"x\", b = br\"y\", c = 'c', d = b'd')] a: i32, #[model(\"\\n\")] b: i32",
            "#[model(column_type = \"sql:citext\"a, x = 1u8)] a: i32",
            // (A word that ends in `r` before a string does not make it raw.)
            r#"#[model(x = ér"a\"]")] a: i32"#,
        ] {
            let ours = read(body).unwrap_or_else(|| panic!("not read: {body}"));
            assert_eq!(Some(ours), syn_fields(body), "in: {body}");
        }
    }

    #[test]
    fn stops_at_the_closing_brace() {
        let text = "{ a: i32 } struct B { b: i32 }";
        assert_eq!(read_fields(text, 1).map(|(f, close)| (f.len(), close)), Some((1, 9)));
        assert!(read_fields("{ a: i32", 1).is_none());
        assert!(read_fields("{ a: i32,", 1).is_none());
    }

    #[test]
    fn leaves_anything_else_to_syn() {
        for body in [
            "a: &'static str",
            "a: [u8; 4]",
            "a: (i32, i32)",
            "type: String",
            "a: Vec<'a, u8>",
            "a: Vec::<u8>",
            "a i32",
            "a: i32 b: i32",
            "a:: i32",
            "pub(in crate::x) a: i32",
            "#![allow(x)] a: i32",
            "//! inner\n a: i32",
            "a: Option<>",
            "a: Option<i32",
            "#[model(x] a: i32",
            "#[model(a) b] a: i32",
            "#[model = x] a: i32",
            "é: i32",
            "a: fn()",
            "a: m!()",
            "_: i32",
            "r#self: i32",
            "a: i32,,",
            "a: /// doc\n i32",
            "a: i32,\n/// documents nothing\n",
            "/** bare \r return */ a: i32",
            "/// bare \r return\n a: i32",
            "#[\u{feff}model(index)] a: i32",
            "#[model(x)]",
        ] {
            assert!(read(body).is_none(), "read: {body}");
        }
    }
}
