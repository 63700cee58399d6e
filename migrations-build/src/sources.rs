//! Finding the crate's models: the lib and bin roots from `Cargo.toml`, the module tree
//! from there (`mod x;` → `x.rs` or `x/mod.rs`, `#[path]` honoured), and every
//! `#[derive(Model)]` struct at any depth.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use migrations_core::model::{derives_model, parse_model, Model};

use crate::error::{Error, Located, Location, Result};

/// A model and the file it was found in.
#[derive(Debug, Clone)]
pub struct FoundModel {
    /// The parsed model.
    pub model: Model,
    /// Its file.
    pub path: PathBuf,
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every file read, in the order read (for `rerun-if-changed`).
    pub files: Vec<PathBuf>,
    /// Every model, in the order found.
    pub models: Vec<FoundModel>,
    /// A file that does not parse: rustc will report it, the build writes nothing.
    pub unparsable: Option<PathBuf>,
    /// Models with errors, each at its place.
    pub errors: Vec<Located>,
}

/// The target roots of the package at `manifest_dir`: `[lib] path` or `src/lib.rs`,
/// each `[[bin]] path`, `src/main.rs` and `src/bin/*.rs` / `src/bin/*/main.rs`.
pub fn crate_roots(manifest_dir: &Path) -> Result<Vec<PathBuf>> {
    let manifest = manifest_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(Error::io("read", &manifest))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::Manifest { path: manifest.clone(), message: e.message().to_string() })?;
    let mut roots = BTreeSet::new();
    let path_of = |t: &toml::Value| t.get("path").and_then(|p| p.as_str()).map(|p| manifest_dir.join(p));
    match doc.get("lib").and_then(path_of) {
        Some(p) => {
            roots.insert(p);
        }
        None => {
            roots.insert(manifest_dir.join("src/lib.rs"));
        }
    }
    roots.insert(manifest_dir.join("src/main.rs"));
    if let Some(bins) = doc.get("bin").and_then(|b| b.as_array()) {
        roots.extend(bins.iter().filter_map(path_of));
    }
    if let Ok(entries) = std::fs::read_dir(manifest_dir.join("src/bin")) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rs") {
                roots.insert(p);
            } else if p.join("main.rs").is_file() {
                roots.insert(p.join("main.rs"));
            }
        }
    }
    Ok(roots.into_iter().filter(|p| p.is_file()).collect())
}

/// Reads the module tree from `roots` and collects every model. Bad models are
/// collected in [`Scan::errors`], so the caller still learns every file that was read.
pub fn scan(roots: &[PathBuf]) -> Result<Scan> {
    let mut scan = Scan::default();
    let mut seen = BTreeSet::new();
    let mut errors = Vec::new();
    for root in roots {
        let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
        visit_file(root, &dir, &mut scan, &mut seen, &mut errors)?;
    }
    scan.errors = errors;
    Ok(scan)
}

fn visit_file(
    path: &Path,
    child_dir: &Path,
    scan: &mut Scan,
    seen: &mut BTreeSet<PathBuf>,
    errors: &mut Vec<Located>,
) -> Result<()> {
    if !seen.insert(path.to_path_buf()) {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(Error::io("read", path))?;
    scan.files.push(path.to_path_buf());
    // Cheap skip: a file that declares no module and no model need not be parsed.
    if !text.contains("mod ") && !text.contains("Model") {
        return Ok(());
    }
    let file = match syn::parse_file(&text) {
        Ok(f) => f,
        Err(_) => {
            scan.unparsable.get_or_insert_with(|| path.to_path_buf());
            return Ok(());
        }
    };
    visit_items(&file.items, path, child_dir, scan, seen, errors)
}

fn visit_items(
    items: &[syn::Item],
    path: &Path,
    dir: &Path,
    scan: &mut Scan,
    seen: &mut BTreeSet<PathBuf>,
    errors: &mut Vec<Located>,
) -> Result<()> {
    for item in items {
        match item {
            syn::Item::Struct(s) if derives_model(&s.attrs) => match parse_model(&syn::DeriveInput::from(s.clone())) {
                Ok(model) => scan.models.push(FoundModel { model, path: path.to_path_buf() }),
                Err(e) => errors.extend(located(path, &e)),
            },
            syn::Item::Mod(m) => {
                let explicit = path_attr(&m.attrs);
                match &m.content {
                    Some((_, inner)) => {
                        let sub = match &explicit {
                            Some(p) => dir.join(p),
                            None => dir.join(m.ident.to_string()),
                        };
                        visit_items(inner, path, &sub, scan, seen, errors)?;
                    }
                    None => {
                        let name = m.ident.to_string();
                        let (file, child_dir) = match explicit {
                            Some(p) => {
                                let file = dir.join(p);
                                let child = file.parent().map(Path::to_path_buf).unwrap_or_default();
                                (file, child)
                            }
                            None if dir.join(format!("{name}.rs")).is_file() => {
                                (dir.join(format!("{name}.rs")), dir.join(&name))
                            }
                            None => (dir.join(&name).join("mod.rs"), dir.join(&name)),
                        };
                        // A missing file is a module cfg'd out for another platform; rustc judges it.
                        if file.is_file() {
                            visit_file(&file, &child_dir, scan, seen, errors)?;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find(|a| a.path().is_ident("path")).and_then(|a| match &a.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Every message of a (combined) `syn::Error`, each at its place in `path`.
pub fn located(path: &Path, err: &syn::Error) -> Vec<Located> {
    err.clone()
        .into_iter()
        .map(|e| {
            let start = e.span().start();
            Located {
                location: Location { path: path.to_path_buf(), line: start.line, column: start.column + 1 },
                message: e.to_string(),
            }
        })
        .collect()
}
