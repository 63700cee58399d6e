//! Finding the crate's models: the lib and bin roots from `Cargo.toml`, the module tree
//! from there (`mod x;` → `x.rs` or `x/mod.rs`, `#[path]` honoured), and every
//! `#[derive(Model)]` struct at any depth. What each file holds is cached by content
//! (see [`crate::cache`]): an unchanged file is not parsed again.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use migrations_core::model::{
    derives, derives_model, parse_db_enum, parse_model, CompositeKey, DbEnum, Field, Model, RefTarget, Reference,
};
use migrations_core::schema::{DefaultValue, Deferrable, EnumType, FkAction, Table};
use proc_macro2::Span;
use serde::{Deserialize, Serialize};

use crate::cache::Cache;
use crate::error::{Error, Located, Location, Result};
use crate::parallel::in_parallel;

/// A model and the file it was found in.
#[derive(Debug, Clone)]
pub struct FoundModel {
    /// The parsed model. Models read from the cache carry no spans.
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
    /// Every `#[derive(DbEnum)]` enum, in the order found. Enums read from the cache
    /// carry no spans.
    pub enums: Vec<DbEnum>,
    /// A file that does not parse: rustc will report it, the build writes nothing.
    pub unparsable: Option<PathBuf>,
    /// Models with errors, each at its place.
    pub errors: Vec<Located>,
    /// Files that had to be parsed (not found in the cache).
    pub parsed: usize,
    /// Where a declared module's file would be, when it is not there yet (see
    /// [`AwaitedModule`]).
    pub awaited: Vec<AwaitedModule>,
}

/// A `mod name;` whose file does not exist (yet): rustc fails on it, unless it is
/// cfg'd out. The build watches for the file, so that creating it runs the build again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedModule {
    /// The folder the file would be created in.
    pub folder: PathBuf,
    /// The paths the file may take (`name.rs`, `name/mod.rs`, or its `#[path]`).
    pub files: Vec<PathBuf>,
}

/// What the build reads from the package's `Cargo.toml`, read once per run.
#[derive(Debug, Clone)]
pub struct Package {
    /// The target roots (see [`crate_roots`]).
    pub roots: Vec<PathBuf>,
    /// `[package.metadata.chakra] app`, if the package renames its app.
    pub app: Option<String>,
    /// `[package.metadata.chakra] dialects = ["postgres"]`: the databases the models must
    /// fit, when not all three (what `cargo chakra` reads too, as a build script's
    /// `Config::dialects` is out of its reach).
    pub dialects: Option<Vec<migrations_core::Dialect>>,
}

/// Reads the package at `manifest_dir`.
pub fn read_package(manifest_dir: &Path) -> Result<Package> {
    let manifest = manifest_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(Error::io("read", &manifest))?;
    // Cheap skip, as for sources: a manifest whose text names no `lib`, no `bin` and no
    // `metadata` has the default roots and no app name, and reading TOML is slow in an
    // unoptimised build script. (Cargo has read it already: it is valid.)
    if !["lib", "bin", "metadata"].iter().any(|key| text.contains(key)) {
        return Ok(Package { roots: roots_of(manifest_dir, &toml::Table::new()), app: None, dialects: None });
    }
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::Manifest { path: manifest.clone(), message: e.message().to_string() })?;
    let chakra = doc.get("package").and_then(|p| p.get("metadata")).and_then(|m| m.get("chakra"));
    let app = chakra.and_then(|c| c.get("app")).and_then(|a| a.as_str()).map(str::to_string);
    let dialects = match chakra.and_then(|c| c.get("dialects")) {
        None => None,
        Some(value) => {
            let bad = |what: String| Error::Manifest {
                path: manifest.clone(),
                message: format!("[package.metadata.chakra] dialects: {what}; write e.g. dialects = [\"postgres\"]"),
            };
            let list = value.as_array().ok_or_else(|| bad("expected a list".into()))?;
            let parsed: Result<Vec<migrations_core::Dialect>> = list
                .iter()
                .map(|d| {
                    d.as_str()
                        .ok_or_else(|| bad(format!("{d} is not a name")))
                        .and_then(|d| d.parse().map_err(|e| bad(format!("{e}"))))
                })
                .collect();
            Some(parsed?).filter(|l| !l.is_empty())
        }
    };
    Ok(Package { roots: roots_of(manifest_dir, &doc), app, dialects })
}

/// The target roots of the package at `manifest_dir`: `[lib] path` or `src/lib.rs`,
/// each `[[bin]] path`, `src/main.rs` and `src/bin/*.rs` / `src/bin/*/main.rs`.
pub fn crate_roots(manifest_dir: &Path) -> Result<Vec<PathBuf>> {
    read_package(manifest_dir).map(|p| p.roots)
}

fn roots_of(manifest_dir: &Path, doc: &toml::Table) -> Vec<PathBuf> {
    let mut roots = BTreeSet::new();
    let path_of = |t: &toml::Value| t.get("path").and_then(|p| p.as_str()).map(|p| manifest_dir.join(p));
    roots.insert(doc.get("lib").and_then(path_of).unwrap_or_else(|| manifest_dir.join("src/lib.rs")));
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
    roots.into_iter().filter(|p| p.is_file()).collect()
}

/// A `mod name;` declaration, resolved against the file system when visited.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModRef {
    /// The folder the module lives under.
    dir: PathBuf,
    /// The module name.
    name: String,
    /// `#[path = "..."]`, relative to `dir`.
    explicit: Option<String>,
}

/// A model as cached: everything but spans, which only errors need (and an error
/// makes the build scan again without the cache).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedModel {
    ident: String,
    table: Table,
    renamed_from: Option<String>,
    fields: Vec<(String, String, Option<String>, Option<DefaultValue>)>,
    references: Vec<CachedReference>,
    foreign_keys: Vec<CachedKey>,
}

/// A field-level `references` as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedReference {
    column: String,
    target: RefTarget,
    on_delete: FkAction,
    on_update: FkAction,
    name: Option<String>,
    deferrable: Deferrable,
    not_valid: bool,
}

/// A struct-level foreign key as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedKey {
    columns: Vec<String>,
    table: String,
    ref_columns: Vec<String>,
    on_delete: FkAction,
    on_update: FkAction,
    name: Option<String>,
    deferrable: Deferrable,
    not_valid: bool,
}

/// A `#[derive(DbEnum)]` enum as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedEnum {
    ident: String,
    ty: EnumType,
    renamed_from: Vec<(String, String)>,
    type_renamed_from: Option<String>,
}

impl CachedEnum {
    fn from_enum(e: &DbEnum) -> Self {
        CachedEnum {
            ident: e.ident.to_string(),
            ty: e.ty.clone(),
            renamed_from: e.renamed_from.clone(),
            type_renamed_from: e.type_renamed_from.clone(),
        }
    }

    fn into_enum(self) -> Option<DbEnum> {
        Some(DbEnum {
            ident: ident(&self.ident)?,
            ty: self.ty,
            renamed_from: self.renamed_from,
            type_renamed_from: self.type_renamed_from,
            span: Span::call_site(),
        })
    }
}

/// What one file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FileContents {
    mods: Vec<ModRef>,
    models: Vec<CachedModel>,
    #[serde(default)]
    enums: Vec<CachedEnum>,
}

impl CachedModel {
    fn from_model(m: &Model) -> Self {
        CachedModel {
            ident: m.ident.to_string(),
            table: m.table.clone(),
            renamed_from: m.renamed_from.clone(),
            fields: m
                .fields
                .iter()
                .map(|f| (f.ident.clone(), f.column.clone(), f.renamed_from.clone(), f.backfill.clone()))
                .collect(),
            references: m
                .references
                .iter()
                .map(|r| CachedReference {
                    column: r.column.clone(),
                    target: r.target.clone(),
                    on_delete: r.on_delete,
                    on_update: r.on_update,
                    name: r.name.clone(),
                    deferrable: r.deferrable,
                    not_valid: r.not_valid,
                })
                .collect(),
            foreign_keys: m
                .foreign_keys
                .iter()
                .map(|k| CachedKey {
                    columns: k.columns.clone(),
                    table: k.table.clone(),
                    ref_columns: k.ref_columns.clone(),
                    on_delete: k.on_delete,
                    on_update: k.on_update,
                    name: k.name.clone(),
                    deferrable: k.deferrable,
                    not_valid: k.not_valid,
                })
                .collect(),
        }
    }

    fn into_model(self) -> Option<Model> {
        let span = Span::call_site();
        Some(Model {
            ident: ident(&self.ident)?,
            table: self.table,
            renamed_from: self.renamed_from,
            fields: self
                .fields
                .into_iter()
                .map(|(ident, column, renamed_from, backfill)| Field { ident, column, renamed_from, backfill, span })
                .collect(),
            references: self
                .references
                .into_iter()
                .map(|r| Reference {
                    column: r.column,
                    target: r.target,
                    on_delete: r.on_delete,
                    on_update: r.on_update,
                    name: r.name,
                    deferrable: r.deferrable,
                    not_valid: r.not_valid,
                    span,
                })
                .collect(),
            foreign_keys: self
                .foreign_keys
                .into_iter()
                .map(|k| CompositeKey {
                    columns: k.columns,
                    table: k.table,
                    ref_columns: k.ref_columns,
                    on_delete: k.on_delete,
                    on_update: k.on_update,
                    name: k.name,
                    deferrable: k.deferrable,
                    not_valid: k.not_valid,
                    span,
                })
                .collect(),
            span,
        })
    }
}

/// The identifier `text` (as `Ident::to_string` wrote it), or `None` if it is not one.
fn ident(text: &str) -> Option<syn::Ident> {
    let (raw, name) = match text.strip_prefix("r#") {
        Some(name) => (true, name),
        None => (false, text),
    };
    // Exactly the rule `Ident::new` checks (it panics otherwise): a cache entry from a
    // damaged file must be a miss, not a crash.
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = (unicode_ident::is_xid_start(first) || first == '_') && chars.all(unicode_ident::is_xid_continue);
    if !valid || name == "_" {
        return None;
    }
    let span = Span::call_site();
    Some(if raw { syn::Ident::new_raw(name, span) } else { syn::Ident::new(name, span) })
}

/// Reads the module tree from `roots` and collects every model. Bad models are
/// collected in [`Scan::errors`], so the caller still learns every file that was read.
///
/// With a cache, the files are first read wave by wave (a wave is what the previous one
/// declared) and the files of a wave that the cache lacks are parsed on several threads;
/// then the tree is walked in declaration order. Without one (the rerun that reports an
/// error at its place), each file is parsed on this thread, so its models keep their
/// spans (which cannot leave the thread that parsed them).
pub fn scan(roots: &[PathBuf], cache: &Cache) -> Result<Scan> {
    let mut prepared = if cache.is_enabled() { read_in_waves(roots, cache)? } else { HashMap::new() };
    let mut scan = Scan::default();
    let mut seen = BTreeSet::new();
    let mut queue: Vec<(PathBuf, PathBuf)> =
        roots.iter().map(|r| (r.clone(), r.parent().map(Path::to_path_buf).unwrap_or_default())).collect();
    queue.reverse();
    while let Some((path, child_dir)) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (read, fresh) = match prepared.remove(&path) {
            Some(read) => (read, None),
            None => {
                let text = std::fs::read_to_string(&path).map_err(Error::io("read", &path))?;
                read_file(&path, &text, &child_dir, cache, true)
            }
        };
        scan.files.push(path.clone());
        scan.parsed += usize::from(read.parsed);
        scan.errors.extend(read.errors);
        let Some(FileContents { mods, models, enums }) = read.contents else {
            scan.unparsable.get_or_insert_with(|| path.clone());
            continue;
        };
        let unreadable = |what: &str| Located {
            location: Location { path: path.clone(), line: 1, column: 1 },
            message: format!("internal error: unreadable cached {what}; run `cargo clean -p <this crate>`"),
        };
        match fresh.as_ref().map(|(_, enums)| enums.clone()) {
            Some(parsed) => scan.enums.extend(parsed),
            None => {
                for e in enums {
                    match e.into_enum() {
                        Some(e) => scan.enums.push(e),
                        None => scan.errors.push(unreadable("enum")),
                    }
                }
            }
        }
        let fresh = fresh.map(|(models, _)| models);
        match fresh {
            // Parsed just now, on this thread: the models keep their spans.
            Some(models) => {
                scan.models.extend(models.into_iter().map(|model| FoundModel { model, path: path.clone() }))
            }
            None => {
                for m in models {
                    match m.into_model() {
                        Some(model) => scan.models.push(FoundModel { model, path: path.clone() }),
                        None => scan.errors.push(unreadable("model")),
                    }
                }
            }
        }
        let mut children = Vec::new();
        for m in &mods {
            match resolve_mod(m) {
                Some(child) => children.push(child),
                None => scan.awaited.push(awaited(m)),
            }
        }
        children.reverse();
        queue.extend(children);
    }
    Ok(scan)
}

/// What reading one file found.
struct FileRead {
    /// What it holds; `None` when it does not parse.
    contents: Option<FileContents>,
    /// Bad models, each at its place.
    errors: Vec<Located>,
    /// Whether it had to be parsed (the cache did not have it).
    parsed: bool,
}

/// Reads every file of the module tree from `roots`, parsing the files of each wave that
/// the cache lacks on as many threads as the machine has.
fn read_in_waves(roots: &[PathBuf], cache: &Cache) -> Result<HashMap<PathBuf, FileRead>> {
    let mut done: HashMap<PathBuf, FileRead> = HashMap::new();
    let mut wave: Vec<(PathBuf, PathBuf)> =
        roots.iter().map(|r| (r.clone(), r.parent().map(Path::to_path_buf).unwrap_or_default())).collect();
    while !wave.is_empty() {
        let mut in_wave = BTreeSet::new();
        wave.retain(|(path, _)| !done.contains_key(path) && in_wave.insert(path.clone()));
        let reads = in_parallel(&wave, |(path, child_dir)| {
            let text = std::fs::read_to_string(path).map_err(Error::io("read", path))?;
            Ok(read_file(path, &text, child_dir, cache, false).0)
        });
        let mut next = Vec::new();
        for ((path, _), read) in wave.into_iter().zip(reads) {
            let read = read?;
            if let Some(contents) = &read.contents {
                next.extend(contents.mods.iter().filter_map(resolve_mod));
            }
            done.insert(path, read);
        }
        wave = next;
    }
    Ok(done)
}

/// The smallest file whose contents are cached: below, parsing it (at opt-level 0) takes
/// less time than the cache's write, read and compare.
const MIN_CACHED: usize = 1024;

/// What `path` holds, from the cache or by parsing; with `spans`, the models as parsed
/// (spans and all) when it was parsed.
#[allow(clippy::type_complexity)]
fn read_file(
    path: &Path,
    text: &str,
    child_dir: &Path,
    cache: &Cache,
    spans: bool,
) -> (FileRead, Option<(Vec<Model>, Vec<DbEnum>)>) {
    let mut read = FileRead { contents: Some(FileContents::default()), errors: Vec::new(), parsed: false };
    // Cheap skip: a file that declares no module, no model and no enum need not be parsed.
    if !text.contains("mod ") && !text.contains("Model") && !text.contains("DbEnum") {
        return (read, None);
    }
    // The child folder is part of the key: the same text means other modules elsewhere.
    // A small file (a `mod.rs` of `mod` lines, say) is parsed again each time instead:
    // that costs less than writing its entry and reading it back.
    let key = path.join(child_dir);
    let cached = text.len() >= MIN_CACHED;
    if let Some(hit) = cached.then(|| cache.get::<FileContents>("src", &key, text)).flatten() {
        read.contents = Some(hit);
        return (read, None);
    }
    read.parsed = true;
    let Ok(file) = syn::parse_file(text) else {
        read.contents = None;
        return (read, None);
    };
    let mut contents = FileContents::default();
    let mut found = Found::default();
    if !test_only(&file.attrs) {
        collect(file.items, path, child_dir, false, &mut contents, &mut found, &mut read.errors);
    }
    if read.errors.is_empty() && cached {
        cache.put("src", &key, text, &contents);
    }
    read.contents = Some(contents);
    (read, spans.then_some((found.models, found.enums)))
}

/// The models and enums of a file as parsed, spans and all.
#[derive(Default)]
struct Found {
    models: Vec<Model>,
    enums: Vec<DbEnum>,
}

/// Takes the items by value: a model struct becomes the `DeriveInput` it is read as
/// without a copy (copying a syntax tree is slow in an unoptimised build script).
///
/// `dir` is the folder of the modules declared here; `inline`, whether these items are
/// inside an inline module of `path`. A `#[path]` outside any inline module is relative
/// to the folder of `path` itself, as rustc reads it (in `src/a.rs`, `#[path = "x.rs"]`
/// names `src/x.rs`, where a plain `mod x;` names `src/a/x.rs`).
fn collect(
    items: Vec<syn::Item>,
    path: &Path,
    dir: &Path,
    inline: bool,
    contents: &mut FileContents,
    found: &mut Found,
    errors: &mut Vec<Located>,
) {
    for item in items {
        match item {
            syn::Item::Struct(s) if derives_model(&s.attrs) && !test_only(&s.attrs) => {
                match parse_model(&syn::DeriveInput::from(s)) {
                    Ok(model) => {
                        contents.models.push(CachedModel::from_model(&model));
                        found.models.push(model);
                    }
                    Err(e) => errors.extend(located(path, &e)),
                }
            }
            syn::Item::Enum(e) if derives(&e.attrs, "DbEnum") && !test_only(&e.attrs) => {
                match parse_db_enum(&syn::DeriveInput::from(e)) {
                    Ok(parsed) => {
                        contents.enums.push(CachedEnum::from_enum(&parsed));
                        found.enums.push(parsed);
                    }
                    Err(e) => errors.extend(located(path, &e)),
                }
            }
            syn::Item::Mod(m) if !test_only(&m.attrs) => {
                let explicit = path_attr(&m.attrs);
                match m.content {
                    Some((_, inner)) => {
                        let sub = dir.join(explicit.unwrap_or_else(|| module_name(&m.ident)));
                        collect(inner, path, &sub, true, contents, found, errors);
                    }
                    None => {
                        let base = match (&explicit, inline) {
                            (Some(_), false) => path.parent().unwrap_or(dir),
                            _ => dir,
                        };
                        contents.mods.push(ModRef { dir: base.to_path_buf(), name: module_name(&m.ident), explicit })
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether `attrs` hold `#[cfg(test)]`. What only a test build compiles is no part of the
/// schema the migrations build: a model in a `#[cfg(test)]` module would otherwise give
/// the production database a table for a test.
fn test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(l) if l.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
    })
}

/// The file of a `mod name;` and the folder of its own children; `None` when the file
/// does not exist (a module cfg'd out for another platform: rustc judges it).
fn resolve_mod(m: &ModRef) -> Option<(PathBuf, PathBuf)> {
    let (file, child) = match &m.explicit {
        Some(p) => {
            let file = m.dir.join(p);
            let child = file.parent().map(Path::to_path_buf).unwrap_or_default();
            (file, child)
        }
        None => {
            let flat = m.dir.join(format!("{}.rs", m.name));
            if flat.is_file() {
                (flat, m.dir.join(&m.name))
            } else {
                (m.dir.join(&m.name).join("mod.rs"), m.dir.join(&m.name))
            }
        }
    };
    file.is_file().then_some((file, child))
}

/// The name a module's file and folder take: `mod r#type;` is `type.rs`.
fn module_name(ident: &syn::Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// Where the file of `m`, which does not exist, would be.
fn awaited(m: &ModRef) -> AwaitedModule {
    match &m.explicit {
        Some(p) => {
            let file = m.dir.join(p);
            AwaitedModule { folder: file.parent().map(Path::to_path_buf).unwrap_or_default(), files: vec![file] }
        }
        None => AwaitedModule {
            folder: m.dir.clone(),
            files: vec![m.dir.join(format!("{}.rs", m.name)), m.dir.join(&m.name).join("mod.rs")],
        },
    }
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

#[cfg(test)]
mod tests {
    /// The manifest's `[lib] path`, `[[bin]] path` and app name are read, and a manifest
    /// that names none of them (read without parsing) gives the default roots.
    #[test]
    fn package_roots_and_app_name() {
        let dir = std::env::temp_dir().join(format!("chakra-roots-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src/bin")).expect("dir");
        for f in ["src/main.rs", "src/lib.rs", "src/core.rs", "src/bin/tool.rs", "src/extra.rs"] {
            std::fs::write(dir.join(f), "").expect("file");
        }
        let package = "[package]\nname = \"shop\"\nversion = \"0.1.0\"\n";
        let roots = |manifest: &str| {
            std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
            let p = super::read_package(&dir).expect("package");
            let names: Vec<String> =
                p.roots.iter().map(|r| r.strip_prefix(&dir).expect("inside").display().to_string()).collect();
            (names, p.app)
        };
        assert_eq!(roots(package), (vec!["src/bin/tool.rs".into(), "src/lib.rs".into(), "src/main.rs".into()], None));
        let custom = format!(
            "{package}\n[package.metadata.chakra]\napp = \"store\"\n\n[lib]\npath = \"src/core.rs\"\n\n[[bin]]\nname = \"x\"\npath = \"src/extra.rs\"\n"
        );
        assert_eq!(
            roots(&custom),
            (
                vec!["src/bin/tool.rs".into(), "src/core.rs".into(), "src/extra.rs".into(), "src/main.rs".into()],
                Some("store".into())
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn model(name: &str) -> String {
        format!("#[derive(Model)]\npub struct {name} {{\n    #[model(primary_key)]\n    pub id: i64,\n}}\n")
    }

    /// The models a crate of `files` (path, text) holds, scanned without the cache and
    /// with one, which must agree; and what the scan awaited.
    fn scan_crate(test: &str, files: &[(&str, String)]) -> (Vec<String>, Vec<super::AwaitedModule>) {
        let dir = std::env::temp_dir().join(format!("chakra-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let manifest = ("Cargo.toml", "[package]\nname = \"p\"\nversion = \"0.1.0\"\n".to_string());
        for (path, text) in files.iter().chain([&manifest]) {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("folder")).expect("dir");
            std::fs::write(path, text).expect("file");
        }
        let mut seen = Vec::new();
        for cache in [super::Cache::none(), super::Cache::new(Some(&dir.join("out")))] {
            let scan = super::scan(&super::crate_roots(&dir).expect("roots"), &cache).expect("scan");
            seen.push((scan.models.iter().map(|m| m.model.ident.to_string()).collect::<Vec<_>>(), scan.awaited));
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(seen[0], seen[1], "the cache changed what was found");
        seen.swap_remove(0)
    }

    /// A second scan reads every file large enough to cache from the cache, parsing
    /// none, and finds the same models. (A value the cache's encoding cannot read back
    /// made every build parse everything again, 4–5× slower at a thousand models,
    /// without anything else noticing.)
    #[test]
    fn an_unchanged_crate_is_read_from_the_cache() {
        let dir = std::env::temp_dir().join(format!("chakra-cache-hit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let fields: String = (0..40)
            .map(|i| format!("    #[model(max_length = 20, default = \"x\", index, comment = \"field {i}\")]\n    pub f{i}: String,\n"))
            .collect();
        let things = format!(
            "#[derive(Model)]\n#[model(table = \"things\", index(f1, f2, unique))]\npub struct Thing {{\n    #[model(primary_key)]\n    pub id: i64,\n    #[model(references = \"kinds(id)\", on_delete = \"cascade\")]\n    pub kind_id: i64,\n    pub mood: Mood,\n{fields}}}\n\n#[derive(DbEnum)]\npub enum Mood {{\n    Happy,\n    #[db_enum(renamed_from = \"sad\")]\n    Blue,\n}}\n"
        );
        let kinds = format!("{}{}", model("Kind"), "// padding\n".repeat(100));
        let files = [
            ("Cargo.toml", "[package]\nname = \"p\"\nversion = \"0.1.0\"\n".to_string()),
            ("src/main.rs", "mod things;\nmod kinds;\nfn main() {}\n".into()),
            ("src/things.rs", things),
            ("src/kinds.rs", kinds),
        ];
        for (path, text) in &files {
            std::fs::create_dir_all(dir.join(path).parent().expect("folder")).expect("dir");
            std::fs::write(dir.join(path), text).expect("file");
        }
        let cache = super::Cache::new(Some(&dir.join("out")));
        let roots = super::crate_roots(&dir).expect("roots");
        let first = super::scan(&roots, &cache).expect("scan");
        let second = super::scan(&roots, &cache).expect("scan");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        assert_eq!(first.parsed, 3, "every file is parsed on a cold cache");
        assert_eq!(second.parsed, 1, "only main.rs, too small to cache, is parsed again");
        let seen = |s: &super::Scan| {
            let models: Vec<_> = s.models.iter().map(|m| (m.model.ident.to_string(), m.model.table.clone())).collect();
            let enums: Vec<_> = s.enums.iter().map(|e| (e.ident.to_string(), e.ty.clone())).collect();
            format!("{models:?} {enums:?}")
        };
        assert_eq!(seen(&first), seen(&second));
    }

    /// `#[path]` is read as rustc reads it: outside an inline module, relative to the
    /// folder of the file that declares it (also in a file that is not a `mod.rs`);
    /// inside one, relative to that file's module folder and the inline modules. A raw
    /// module name has its file without the `r#`.
    #[test]
    fn path_attributes_resolve_as_rustc_resolves_them() {
        let a = "#[path = \"other.rs\"]\npub mod b;\npub mod c {\n    #[path = \"inner.rs\"]\n    pub mod d;\n}\n";
        let (found, awaited) = scan_crate(
            "paths",
            &[
                ("src/main.rs", "mod a;\nmod r#type;\nfn main() {}\n".into()),
                ("src/type.rs", model("Kind")),
                ("src/a.rs", a.into()),
                ("src/other.rs", model("Other")),
                ("src/a/c/inner.rs", model("Inner")),
            ],
        );
        assert_eq!(found, ["Other", "Inner", "Kind"]);
        assert!(awaited.is_empty(), "{awaited:?}");
    }

    /// What only a test build compiles (`#[cfg(test)]` on a model, a module, or a whole
    /// file) is not scanned: its models are not the production schema.
    #[test]
    fn test_only_models_are_left_out() {
        let lib = format!(
            "{}\n#[cfg(test)]\n{}\n#[cfg(test)]\nmod tests {{\n{}}}\n#[cfg(test)]\nmod fixtures;\nmod helpers;\n",
            model("Kept"),
            model("Fake"),
            model("Inline")
        );
        let (found, _) = scan_crate(
            "cfg-test",
            &[
                ("src/lib.rs", lib),
                ("src/fixtures.rs", model("Fixture")),
                ("src/helpers.rs", format!("#![cfg(test)]\n{}", model("Helper"))),
            ],
        );
        assert_eq!(found, ["Kept"]);
    }
}
