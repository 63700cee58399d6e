//! `#[model(...)]` options as written, read into a neutral shape ([`Opt`]) before any is
//! interpreted, so that a wrong value in one option does not hide the errors in the
//! others; and the small readers that interpret one option's value, each recording its
//! error at the option's span.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, UnOp};

use super::ctxt::Ctxt;
use crate::schema::DefaultValue;

/// One option as written, before interpretation.
pub(super) struct Opt {
    /// Where its key is (errors point there): taken once, as a path's span is made by
    /// printing it to tokens.
    pub(super) span: Span,
    /// The key as text, made once: every check of the option compares it.
    pub(super) name: String,
    pub(super) value: OptValue,
}

pub(super) enum OptValue {
    Flag,
    Expr(Box<Expr>),
    List(Vec<ListItem>),
}

pub(super) enum ListItem {
    Word(syn::Path),
    KeyValue(syn::Path, Box<Expr>),
    /// `key(a, b = "x")`, one level down (an index's `order(...)` and `include(...)`).
    List(syn::Path, Vec<ListItem>),
}

impl Opt {
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn span(&self) -> Span {
        self.span
    }
}

/// Reads every `#[model(...)]` attribute in `attrs`; other attributes are ignored.
pub(super) fn read_opts(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> Vec<Opt> {
    read_opts_of(cx, attrs, "model")
}

/// Reads every `#[<attribute>(...)]` attribute in `attrs`; other attributes are ignored.
pub(super) fn read_opts_of(cx: &mut Ctxt, attrs: &[syn::Attribute], attribute: &str) -> Vec<Opt> {
    let mut opts = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident(attribute)) {
        if let syn::Meta::Path(p) = &attr.meta {
            cx.error_spanned_by(p, format!("expected options: `#[{attribute}(...)]`"));
            continue;
        }
        if let syn::Meta::List(list) = &attr.meta {
            if let Some(simple) = simple_opts(&list.tokens) {
                opts.extend(simple);
                continue;
            }
        }
        if let Err(e) = meta_opts(attr, &mut opts) {
            cx.syn_error(e);
        }
    }
    opts
}

/// The options of one attribute as syn's meta parser reads them, onto `opts`.
pub(super) fn meta_opts(attr: &syn::Attribute, opts: &mut Vec<Opt>) -> syn::Result<()> {
    attr.parse_nested_meta(|meta| {
        let key = meta.path.clone();
        let name = match key.get_ident() {
            Some(ident) => ident.to_string(),
            None => key.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::"),
        };
        let value = if meta.input.peek(syn::Token![=]) {
            OptValue::Expr(Box::new(meta.value()?.parse()?))
        } else if meta.input.peek(syn::token::Paren) {
            OptValue::List(nested_items(&meta, true)?)
        } else {
            OptValue::Flag
        };
        opts.push(Opt { span: key.span(), name, value });
        Ok(())
    })
}

/// The items of `key(...)`; `deeper` when they may be lists themselves (one level).
fn nested_items(meta: &syn::meta::ParseNestedMeta<'_>, deeper: bool) -> syn::Result<Vec<ListItem>> {
    let mut items = Vec::new();
    meta.parse_nested_meta(|inner| {
        if inner.input.peek(syn::Token![=]) {
            let expr: Expr = inner.value()?.parse()?;
            items.push(ListItem::KeyValue(inner.path, Box::new(expr)));
        } else if deeper && inner.input.peek(syn::token::Paren) {
            let list = nested_items(&inner, false)?;
            items.push(ListItem::List(inner.path, list));
        } else {
            items.push(ListItem::Word(inner.path));
        }
        Ok(())
    })?;
    Ok(items)
}

/// The options of one `#[model(...)]` read straight from its tokens, when each is
/// `name`, `name = literal` or `name(...)` of those (nearly every attribute): syn's meta
/// parser builds a token buffer and a parse stream for each attribute, which a cold
/// build of 1,000 models pays some 5,000 times at opt-level 0. `None` for anything else
/// (a path, an expression, a stray token), which the meta parser then reads and, when
/// wrong, words the error for. What comes out is what the meta parser gives.
pub(super) fn simple_opts(tokens: &proc_macro2::TokenStream) -> Option<Vec<Opt>> {
    use proc_macro2::Delimiter;
    let mut opts = Vec::new();
    for (key, value) in simple_items(tokens)? {
        let value = match value {
            SimpleValue::None => OptValue::Flag,
            SimpleValue::Lit(lit) => OptValue::Expr(lit),
            SimpleValue::List(group) => {
                let inside = group.stream();
                // (`key()` is an error the meta parser words.)
                if group.delimiter() != Delimiter::Parenthesis || inside.is_empty() {
                    return None;
                }
                let mut items = Vec::new();
                for (inner, value) in simple_items(&inside)? {
                    items.push(match value {
                        SimpleValue::None => ListItem::Word(syn::Path::from(inner)),
                        SimpleValue::Lit(lit) => ListItem::KeyValue(syn::Path::from(inner), lit),
                        SimpleValue::List(_) => return None,
                    });
                }
                OptValue::List(items)
            }
        };
        opts.push(Opt { span: key.span(), name: key.to_string(), value });
    }
    Some(opts)
}

/// What follows a key in [`simple_items`].
pub(super) enum SimpleValue {
    None,
    Lit(Box<Expr>),
    List(proc_macro2::Group),
}

/// `key`, `key = literal` and `key(...)`, separated by commas (one may trail); `None` if
/// the tokens are anything else.
pub(super) fn simple_items(tokens: &proc_macro2::TokenStream) -> Option<Vec<(proc_macro2::Ident, SimpleValue)>> {
    use proc_macro2::{Spacing, TokenTree};
    let mut items = Vec::new();
    let mut iter = tokens.clone().into_iter();
    let mut next = iter.next();
    while let Some(tree) = next {
        let TokenTree::Ident(key) = tree else { return None };
        let mut after = iter.next();
        let value = match after {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == Spacing::Alone => {
                let lit = match iter.next()? {
                    TokenTree::Literal(l) => Lit::new(l),
                    TokenTree::Ident(i) if i == "true" || i == "false" => {
                        Lit::Bool(syn::LitBool::new(i == "true", i.span()))
                    }
                    _ => return None,
                };
                after = iter.next();
                SimpleValue::Lit(Box::new(Expr::Lit(ExprLit { attrs: Vec::new(), lit })))
            }
            Some(TokenTree::Group(g)) => {
                after = iter.next();
                SimpleValue::List(g)
            }
            _ => SimpleValue::None,
        };
        items.push((key, value));
        match after {
            None => break,
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => next = iter.next(),
            Some(_) => return None,
        }
    }
    Some(items)
}

/// Remembers which keys were given, to refuse a key given twice. (A list: an attribute
/// holds a handful of keys, and a map's allocations cost more at opt-level 0.)
#[derive(Default)]
pub(super) struct Seen<'a>(Vec<&'a str>);

impl<'a> Seen<'a> {
    pub(super) fn first_time(&mut self, cx: &mut Ctxt, opt: &'a Opt) -> bool {
        let name = opt.name();
        if self.0.contains(&name) {
            cx.error_at(opt.span(), format!("duplicate option `{name}`: give it once"));
            return false;
        }
        self.0.push(name);
        true
    }
}

pub(super) fn expect_flag(cx: &mut Ctxt, opt: &Opt) -> bool {
    match &opt.value {
        OptValue::Flag => true,
        OptValue::Expr(e) => match lit_bool(e) {
            Some(b) => b,
            None => {
                cx.error_spanned_by(e, format!("`{}` is a flag: write `{0}` or `{0} = true`", opt.name()));
                false
            }
        },
        OptValue::List(_) => {
            cx.error_at(opt.span(), format!("`{}` takes no list: write `{0}`", opt.name()));
            false
        }
    }
}

pub(super) fn expect_expr<'a>(cx: &mut Ctxt, opt: &'a Opt, what: &str) -> Option<&'a Expr> {
    match &opt.value {
        OptValue::Expr(e) => Some(e),
        _ => {
            cx.error_at(opt.span(), format!("`{}` needs a value: `{0} = {what}`", opt.name()));
            None
        }
    }
}

/// A flag that may instead give a name: `unique`, `unique = false`, `unique = "uq_x"`
/// (on, named). `(on, name)`.
pub(super) fn expect_flag_or_name(cx: &mut Ctxt, opt: &Opt) -> (bool, Option<String>) {
    if let OptValue::Expr(e) = &opt.value {
        if let Some(name) = lit_str(e) {
            if name.trim().is_empty() {
                cx.error_spanned_by(e, format!("`{}` cannot be an empty name", opt.name()));
                return (false, None);
            }
            return (true, Some(name));
        }
        if lit_bool(e).is_none() {
            cx.error_spanned_by(
                e,
                format!("`{0}` is a flag or a name: write `{0}`, `{0} = false` or `{0} = \"name\"`", opt.name()),
            );
            return (false, None);
        }
    }
    (expect_flag(cx, opt), None)
}

pub(super) fn expect_str(cx: &mut Ctxt, opt: &Opt) -> Option<String> {
    let e = expect_expr(cx, opt, "\"...\"")?;
    match lit_str(e) {
        Some(s) if !s.trim().is_empty() => Some(s),
        Some(_) => {
            cx.error_spanned_by(e, format!("`{}` cannot be empty", opt.name()));
            None
        }
        None => {
            cx.error_spanned_by(e, format!("`{}` expects a string literal, e.g. `{0} = \"...\"`", opt.name()));
            None
        }
    }
}

pub(super) fn expect_u32(cx: &mut Ctxt, opt: &Opt) -> Option<u32> {
    let e = expect_expr(cx, opt, "<number>")?;
    let parsed = match e {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
        _ => None,
    };
    if parsed.is_none() {
        cx.error_spanned_by(e, format!("`{}` expects a positive integer, e.g. `{0} = 50`", opt.name()));
    }
    parsed
}

pub(super) fn lit_str(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
        _ => None,
    }
}

pub(super) fn lit_bool(e: &Expr) -> Option<bool> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => Some(b.value),
        _ => None,
    }
}

/// A literal default: bool, number (possibly negative) or string.
pub(super) fn literal_value(e: &Expr) -> Option<DefaultValue> {
    match e {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Bool(b) => Some(DefaultValue::Bool(b.value)),
            Lit::Str(s) => Some(DefaultValue::Text(s.value())),
            Lit::Int(i) => DefaultValue::number(i.base10_digits()),
            Lit::Float(f) => DefaultValue::number(f.base10_digits()),
            _ => None,
        },
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr, .. }) => match literal_value(expr)? {
            DefaultValue::Number(n) => DefaultValue::number(&format!("-{n}")),
            _ => None,
        },
        Expr::Group(g) => literal_value(&g.expr),
        _ => None,
    }
}

pub(super) fn path_name(p: &syn::Path) -> String {
    p.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;
    use syn::parse::Parser;

    use super::{ListItem, Opt, OptValue};

    /// An option as text: its name, where its key starts, and its value's tokens.
    fn described(opts: &[Opt]) -> Vec<String> {
        let path = |p: &syn::Path| p.to_token_stream().to_string();
        opts.iter()
            .map(|o| {
                let value = match &o.value {
                    OptValue::Flag => String::new(),
                    OptValue::Expr(e) => format!("= {:?} at {:?}", e, syn::spanned::Spanned::span(&**e).start()),
                    OptValue::List(items) => items
                        .iter()
                        .map(|i| match i {
                            ListItem::Word(p) => format!("{} at {:?}", path(p), p.segments[0].ident.span().start()),
                            ListItem::KeyValue(p, e) => {
                                format!("{} at {:?} = {:?}", path(p), p.segments[0].ident.span().start(), e)
                            }
                            ListItem::List(p, items) => format!("{}({} items)", path(p), items.len()),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                format!("{} at {:?} {value}", o.name, o.span.start())
            })
            .collect()
    }

    /// The attributes the token reader takes give exactly what syn's meta parser gives,
    /// spans included; the rest it leaves to the meta parser.
    #[test]
    fn simple_options_read_as_the_meta_parser_reads_them() {
        let simple = [
            "#[model(primary_key, auto_increment)]",
            "#[model(max_length = 100, index)]",
            "#[model(default = true, comment = \"a \\\"quoted\\\" note\")]",
            "#[model(default = 1.5e3, precision = 10u32, scale = 2,)]",
            "#[model(index(name = \"ix_a\", columns = \"a, b\"), unique(a, b), primary_key(id))]",
            "#[model(check(name = \"positive\", expr = \"n > 0\"))]",
            "#[model(r#type = \"x\", default = b'a')]",
            "#[model()]",
        ];
        // The attribute and the tokens inside its parentheses.
        let attribute = |text: &str| {
            let attr = syn::Attribute::parse_outer.parse_str(text).expect("attribute").remove(0);
            let syn::Meta::List(list) = &attr.meta else { panic!("{text}") };
            let tokens = list.tokens.clone();
            (attr, tokens)
        };
        for text in simple {
            let (attr, tokens) = attribute(text);
            let fast = super::simple_opts(&tokens).unwrap_or_else(|| panic!("not simple: {text}"));
            let mut slow = Vec::new();
            super::meta_opts(&attr, &mut slow).expect(text);
            assert_eq!(described(&fast), described(&slow), "{text}");
        }
        let other = [
            "#[model(default = -1)]",
            "#[model(default = 1 + 2)]",
            "#[model(references = auth::User)]",
            "#[model(a::b)]",
            "#[model(max_length 100)]",
            "#[model(index[a])]",
            "#[model(a,, b)]",
            "#[model(index(a(b)))]",
            "#[model(x == 1)]",
            "#[model(primary_key())]",
        ];
        for text in other {
            assert!(super::simple_opts(&attribute(text).1).is_none(), "{text}");
        }
    }
}
