//! `OUT_DIR/chakra_migrations.rs`: one block expression that `include!`s every
//! migration module and lists them, with checksums computed here (never at boot) and the
//! snapshot, as a `const`-constructible `migrations_runtime::Migrations`.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use crate::migration_files::MigrationFile;

/// File name of the registry inside `OUT_DIR`.
pub const REGISTRY_FILE: &str = "chakra_migrations.rs";

/// SHA-256 of a module's text, with `\r\n` read as `\n` so a Windows checkout does not
/// look edited.
pub fn checksum(text: &str) -> String {
    // Without a CR (the usual case) the text is hashed as it is: `replace` would copy
    // it through a generic string searcher, which is slow at opt-level 0, and a sealed
    // migration can be megabytes.
    let digest = if text.as_bytes().contains(&b'\r') {
        Sha256::digest(text.replace("\r\n", "\n").as_bytes())
    } else {
        Sha256::digest(text.as_bytes())
    };
    hex(&digest)
}

/// The checksum a migration is recorded with when applied: what the migration *does*, not
/// how its file is laid out. SHA-256 over the file's tokens, leaving out what cannot change
/// what it does: comments (doc comments too), whitespace and line breaks, `use` items (what
/// `cargo clippy --fix` or an IDE rewrites), the `DATA_LOSS_ACKNOWLEDGED` constant (which
/// check mode asks a person to add after it was applied), and a comma before a closing
/// bracket or after a `{...}` block (what `rustfmt` adds or removes). Written `2:` (the
/// scheme) and the first 62 hex digits, so it fits the history table's 64 characters and a
/// row says which scheme wrote it. `None` when the text is not Rust tokens (rustc will say
/// why when it compiles the module).
pub fn semantic_checksum(text: &str) -> Option<String> {
    let tokens: proc_macro2::TokenStream = text.parse().ok()?;
    let mut hasher = Sha256::new();
    feed(&mut hasher, tokens, true);
    let mut hex = hex(&hasher.finalize());
    hex.truncate(62);
    Some(format!("2:{hex}"))
}

/// Feeds the tokens of `stream` to `hasher` as [`semantic_checksum`] reads them.
fn feed(hasher: &mut Sha256, stream: proc_macro2::TokenStream, top_level: bool) {
    use proc_macro2::{Delimiter, TokenTree};
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let is_ident = |t: Option<&TokenTree>, name: &str| matches!(t, Some(TokenTree::Ident(i)) if i == name);
    let is_punct = |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    let mut k = 0;
    while k < tokens.len() {
        // An attribute: `#[doc = ...]` (a doc comment) is left out, any other is kept.
        if is_punct(tokens.get(k), '#') {
            let bang = usize::from(is_punct(tokens.get(k + 1), '!'));
            if let Some(TokenTree::Group(g)) = tokens.get(k + 1 + bang) {
                if g.delimiter() == Delimiter::Bracket && is_ident(g.stream().into_iter().next().as_ref(), "doc") {
                    k += 2 + bang;
                    continue;
                }
            }
        }
        if top_level {
            // `pub(...)` before an item does not decide whether it is left out.
            let mut start = k;
            if is_ident(tokens.get(start), "pub") {
                start += 1;
                if matches!(tokens.get(start), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) {
                    start += 1;
                }
            }
            let acknowledgement = is_ident(tokens.get(start), "const")
                && (is_ident(tokens.get(start + 1), crate::data_loss::ACKNOWLEDGEMENT)
                    || is_ident(tokens.get(start + 1), crate::data_loss::REWRITE_ACKNOWLEDGEMENT));
            if is_ident(tokens.get(start), "use") || acknowledgement {
                while k < tokens.len() && !is_punct(tokens.get(k), ';') {
                    k += 1;
                }
                k += 1;
                continue;
            }
        }
        match &tokens[k] {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                let closes = k + 1 == tokens.len();
                let after_block = matches!(k.checked_sub(1).map(|j| &tokens[j]), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace);
                if !closes && !after_block {
                    hasher.update(b",");
                }
            }
            TokenTree::Punct(p) => {
                let mut buf = [0; 4];
                hasher.update(p.as_char().encode_utf8(&mut buf).as_bytes());
                if p.spacing() == proc_macro2::Spacing::Alone {
                    hasher.update(b" ");
                }
            }
            TokenTree::Ident(i) => {
                hasher.update(i.to_string().as_bytes());
                hasher.update(b" ");
            }
            TokenTree::Literal(l) => {
                hasher.update(l.to_string().as_bytes());
                hasher.update(b" ");
            }
            TokenTree::Group(g) => {
                let (open, close): (&[u8], &[u8]) = match g.delimiter() {
                    Delimiter::Parenthesis => (b"(", b")"),
                    Delimiter::Brace => (b"{", b"}"),
                    Delimiter::Bracket => (b"[", b"]"),
                    Delimiter::None => (b"", b""),
                };
                hasher.update(open);
                feed(hasher, g.stream(), false);
                hasher.update(close);
            }
        }
        k += 1;
    }
}

/// `bytes` as lower-case hex, by table (`write!` goes through the formatter, slow at
/// opt-level 0).
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

/// The checksum recorded when the migration in `text` is applied: a sealed migration's
/// [`semantic_checksum`]; a draft's, `d:` and its text's (a draft is rewritten by every
/// build, and reading what it does costs a lexing of the file each time it changes, which
/// for a large first draft is most of a build; a database that applied a draft is a
/// development database, where the runtime takes the sealed migration for the draft it
/// applied).
pub fn recorded_checksum(text: &str, draft: bool) -> String {
    if draft {
        let mut sum = checksum(text);
        sum.truncate(62);
        return format!("d:{sum}");
    }
    semantic_checksum(text).unwrap_or_default()
}

/// The registry text. `snapshot` is the snapshot file, embedded with `include_str!` (so
/// its text is not copied through here), or `None` when there is none.
///
/// Written piece by piece, paths and checksums quoted as they are: `{:?}` escapes a
/// string a character at a time and a path's `Display` goes through the formatter,
/// both slow at opt-level 0, and every build writes two lines per migration.
pub fn registry(app: &str, files: &[MigrationFile], snapshot: Option<&std::path::Path>) -> String {
    let mut out = String::with_capacity(512 + files.len() * 400);
    out.push_str("// @generated by migrations-build: the migrations that `embed_migrations!()` embeds.\n{\n");
    for f in files {
        out.push_str("    #[allow(dead_code, unused_imports, missing_docs, clippy::all)]\n    mod m_");
        out.push_str(&f.id);
        out.push_str(" {\n        include!(");
        path_literal(&mut out, &f.path);
        out.push_str(");\n    }\n");
    }
    out.push_str("    ::migrations_runtime::Migrations {\n        app: ");
    string_literal(&mut out, app);
    out.push_str(",\n        migrations: &[\n");
    for f in files {
        let m = |out: &mut String, item: &str| {
            out.push_str("m_");
            out.push_str(&f.id);
            out.push_str("::");
            out.push_str(item);
        };
        out.push_str("            ::migrations_runtime::EmbeddedMigration { id: ");
        m(&mut out, "ID");
        out.push_str(", dependencies: ");
        m(&mut out, "DEPENDENCIES");
        if f.replaces.is_empty() {
            out.push_str(", replaces: &[]");
        } else {
            out.push_str(", replaces: ");
            m(&mut out, "REPLACES");
        }
        // What the runtime records (the semantic checksum), then the checksum of the text
        // that rows recorded before the semantic scheme hold.
        out.push_str(", checksum: \"");
        out.push_str(&f.semantic_checksum);
        out.push(' ');
        out.push_str(&f.checksum);
        out.push('"');
        out.push_str(if f.draft { ", draft: true, up: " } else { ", draft: false, up: " });
        m(&mut out, "up");
        out.push_str(", down: ");
        m(&mut out, "down");
        out.push_str(" },\n");
    }
    out.push_str("        ],\n");
    match snapshot {
        Some(path) => {
            out.push_str("        snapshot: include_str!(");
            path_literal(&mut out, path);
            out.push_str("),\n");
        }
        None => out.push_str("        snapshot: \"\",\n"),
    }
    out.push_str("    }\n}\n");
    out
}

/// `path` as a Rust string literal (`Display` goes through the formatter, slow at
/// opt-level 0, so only for a path that is not UTF-8).
fn path_literal(out: &mut String, path: &std::path::Path) {
    match path.to_str() {
        Some(text) => string_literal(out, text),
        None => string_literal(out, &path.display().to_string()),
    }
}

/// `text` as a Rust string literal: as it is between quotes when it holds nothing a
/// literal cannot (the usual path or checksum), else as `{:?}` writes it. (A literal
/// may hold any character but `"`, `\` and a lone CR; looking for three bytes goes
/// through `memchr`, fast even at opt-level 0, where a loop over bytes is not.)
fn string_literal(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    if bytes.contains(&b'"') || bytes.contains(&b'\\') || bytes.contains(&b'\r') {
        let _ = write!(out, "{text:?}");
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::{checksum, string_literal};

    #[test]
    fn string_literals_read_back_as_the_text() {
        for text in [
            "/tmp/app/migrations/0001_initial.rs",
            "C:\\app\\0001.rs",
            "a \"quoted\" name",
            "tab\there",
            "line\nbreak",
            "cr\rhere",
            "café",
            "",
        ] {
            let mut out = String::new();
            string_literal(&mut out, text);
            let lit: syn::LitStr = syn::parse_str(&out).expect("a string literal");
            assert_eq!(lit.value(), text, "{out}");
        }
    }

    #[test]
    fn checksums_are_sha256_and_ignore_line_endings() {
        let unix = "pub const ID: &str = \"0001_a\";\n";
        // The digest a database recorded stays the digest: SHA-256, lower-case hex.
        assert_eq!(checksum(unix), "a652f924fb90e3aba4c576752e11f6bf8367d6b0884af2ac10987ad2a0c021e9");
        assert_eq!(checksum(&unix.replace('\n', "\r\n")), checksum(unix));
        // A lone CR is content, not a line ending.
        assert_ne!(checksum("a\rb\n"), checksum("a\nb\n"));
    }
}
