//! Other apps: the crates this crate depends on by path that own migrations (they have a
//! `.chakra/snapshot.toml`). Found with `cargo metadata --no-deps --offline`, which reads
//! the workspace's manifests without resolving the registry, so it neither downloads nor
//! waits on the lock the outer `cargo build` holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use migrations_core::model::RefTarget;
use migrations_core::schema::{Constraint, ForeignKey};
use migrations_core::{Operation, Schema};

use crate::error::{Error, Located, Location, Result};
use crate::migration_files::{self, MigrationFile};
use crate::sources::{crate_roots, scan, FoundModel};

/// How long `cargo metadata` may take before the build gives up on it.
const METADATA_TIMEOUT: Duration = Duration::from_secs(60);

/// One app this crate depends on.
#[derive(Debug, Clone)]
pub(crate) struct App {
    /// The app label (`[package.metadata.chakra] app`, else the crate name with `_`).
    pub label: String,
    /// The crate name as Rust paths write it (`example_auth`).
    pub crate_ident: String,
    /// The package folder.
    pub dir: PathBuf,
    /// Its `.chakra/snapshot.toml`.
    pub snapshot_path: PathBuf,
    /// Its `migrations/` folder.
    pub migrations_dir: PathBuf,
    /// Its schema as of its newest sealed migration.
    pub schema: Schema,
}

impl App {
    /// Whether `name` (a path's first segment or the part before the dot) names this app.
    pub fn is_named(&self, name: &str) -> bool {
        name == self.label || name == self.crate_ident || name.replace('-', "_") == self.crate_ident
    }
}

/// The app label a package declares, if any: `[package.metadata.chakra] app = "auth"`.
fn declared_label(metadata: &serde_json::Value) -> Option<String> {
    metadata.get("chakra")?.get("app")?.as_str().map(str::to_string)
}

/// Runs `cargo metadata --no-deps --offline` for the package in `dir`, with a timeout.
fn metadata(dir: &Path) -> Result<cargo_metadata::Metadata> {
    let fail = |what: String| {
        Error::Usage(format!(
            "cannot list the path dependencies of {} with `cargo metadata`: {what}",
            dir.join("Cargo.toml").display()
        ))
    };
    let mut cmd = cargo_metadata::MetadataCommand::new()
        .manifest_path(dir.join("Cargo.toml"))
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        .cargo_command();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start cargo: {e}")))?;
    // Read stdout on a thread so a large answer cannot fill the pipe while we wait.
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        if let Some(s) = stdout.as_mut() {
            let _ = std::io::Read::read_to_string(s, &mut out);
        }
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > METADATA_TIMEOUT => {
                let _ = child.kill();
                return Err(fail(format!("no answer within {} s", METADATA_TIMEOUT.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(fail(e.to_string())),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut s) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut s, &mut err);
        }
        return Err(fail(err.trim().to_string()));
    }
    cargo_metadata::MetadataCommand::parse(out).map_err(|e| fail(e.to_string()))
}

/// Every app among this crate's path dependencies, direct or through other path
/// dependencies, in a stable order (by label).
pub(crate) fn dependency_apps(manifest_dir: &Path) -> Result<Vec<App>> {
    let mut known: BTreeMap<PathBuf, (String, Option<String>, Vec<PathBuf>)> = BTreeMap::new();
    let mut queue = vec![canonical(manifest_dir)];
    let mut seen = BTreeSet::new();
    while let Some(dir) = queue.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        if !known.contains_key(&dir) {
            for p in metadata(&dir)?.packages {
                let Some(pdir) = p.manifest_path.parent().map(|d| canonical(d.as_std_path())) else { continue };
                let deps = p
                    .dependencies
                    .iter()
                    .filter(|d| d.kind == cargo_metadata::DependencyKind::Normal)
                    .filter_map(|d| d.path.as_ref().map(|p| canonical(p.as_std_path())))
                    .collect();
                known.entry(pdir).or_insert((p.name.to_string(), declared_label(&p.metadata), deps));
            }
        }
        if let Some((_, _, deps)) = known.get(&dir) {
            queue.extend(deps.iter().cloned());
        }
    }
    let own = canonical(manifest_dir);
    let mut apps = Vec::new();
    for dir in seen {
        if dir == own {
            continue;
        }
        let Some((name, label, _)) = known.get(&dir) else { continue };
        let snapshot_path = dir.join(".chakra").join("snapshot.toml");
        let Ok(text) = std::fs::read_to_string(&snapshot_path) else { continue };
        let schema = migrations_core::snapshot::from_toml(&text)
            .map_err(|source| Error::Snapshot { path: snapshot_path.clone(), source })?;
        let crate_ident = name.replace('-', "_");
        apps.push(App {
            label: label.clone().unwrap_or_else(|| crate_ident.clone()),
            crate_ident,
            migrations_dir: dir.join("migrations"),
            snapshot_path,
            dir,
            schema,
        });
    }
    apps.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(apps)
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The tables of every app in one schema, for resolving references; a table two apps
/// both declare is an error naming both.
pub(crate) fn external_schema(apps: &[App]) -> Result<Schema> {
    let mut all = Schema::new();
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    for app in apps {
        for (name, table) in &app.schema.tables {
            if let Some(other) = owner.insert(name.clone(), &app.label) {
                return Err(Error::Usage(format!(
                    "table `{name}` is declared by two apps, `{other}` and `{}`; rename one with `#[model(table = \"...\")]`",
                    app.label
                )));
            }
            all.tables.insert(name.clone(), table.clone());
        }
    }
    Ok(all)
}

/// The migration of `app` that a foreign key to `table(columns)` must come after: the
/// newest one that created or changed the table or one of those columns (replayed from
/// the app's sealed migration files).
pub(crate) fn migration_providing(app: &App, table: &str, columns: &[String]) -> Result<Option<String>> {
    let files = migration_files::read_dir(&app.migrations_dir)?;
    let (sealed, _) = migration_files::split_draft(files);
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    for f in &sealed {
        for op in read(f)? {
            touch(&op, &f.id, &mut created, &mut last);
        }
    }
    let mut best = created.get(table).cloned();
    for c in columns {
        if let Some(id) = last.get(&(table.to_string(), c.clone())) {
            if best.as_ref().is_none_or(|b| id > b) {
                best = Some(id.clone());
            }
        }
    }
    Ok(best)
}

fn read(f: &MigrationFile) -> Result<Vec<Operation>> {
    let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
    // Only names matter here: drops given by name need not be looked up.
    crate::interpret::read_migration(&text, false).map(|m| m.into_operations()).map_err(|e| {
        Error::MigrationFile(crate::error::Located {
            location: crate::error::Location { path: f.path.clone(), line: e.line, column: 1 },
            message: e.message,
        })
    })
}

/// Records which migration last created or changed each table and column.
fn touch(
    op: &Operation,
    id: &str,
    created: &mut BTreeMap<String, String>,
    last: &mut BTreeMap<(String, String), String>,
) {
    fn mark(last: &mut BTreeMap<(String, String), String>, t: &str, c: &str, id: &str) {
        last.insert((t.to_string(), c.to_string()), id.to_string());
    }
    match op {
        Operation::CreateModel { table } => {
            created.insert(table.name.clone(), id.to_string());
            for c in &table.columns {
                mark(last, &table.name, &c.name, id);
            }
        }
        Operation::DeleteModel { table } => {
            created.remove(&table.name);
        }
        Operation::RenameModel { old, new } => {
            if created.remove(old).is_some() {
                created.insert(new.clone(), id.to_string());
            }
            let moved: Vec<_> = last.keys().filter(|(t, _)| t == old).cloned().collect();
            for k in moved {
                last.remove(&k);
                mark(last, new, &k.1, id);
            }
        }
        Operation::AddField { table, column, .. } => mark(last, table, &column.name, id),
        Operation::AlterField { table, new, .. } => mark(last, table, &new.name, id),
        Operation::RenameField { table, new, .. } => mark(last, table, new, id),
        Operation::AddConstraint { table, constraint: Constraint::Unique(u) } => {
            for c in &u.columns {
                mark(last, table, c, id);
            }
        }
        _ => {}
    }
}

/// Turns references to other apps' models (`auth::User`) into references to their
/// tables, and returns the apps among the path dependencies. `cargo metadata` runs only
/// when some reference reaches outside this crate.
pub(crate) fn link_apps(
    manifest: &Path,
    found: &mut [FoundModel],
    cargo: bool,
    cache: &crate::cache::Cache,
) -> Result<Vec<App>> {
    let structs: BTreeSet<String> = found.iter().map(|f| f.model.ident.to_string()).collect();
    let tables: BTreeSet<String> = found.iter().map(|f| f.model.table.name.clone()).collect();
    let reaches_out = found.iter().flat_map(|f| &f.model.references).any(|r| match &r.target {
        RefTarget::Model { app, name } => app.is_some() || !structs.contains(name),
        RefTarget::Table { app, table, .. } => app.is_some() || !tables.contains(table),
    });
    if !reaches_out {
        return Ok(Vec::new());
    }
    let apps = dependency_apps(manifest)?;
    if cargo {
        for app in &apps {
            println!("cargo:rerun-if-changed={}", app.snapshot_path.display());
            println!("cargo:rerun-if-changed={}", app.migrations_dir.display());
        }
    }
    let names = || {
        let list: Vec<&str> = apps.iter().map(|a| a.label.as_str()).collect();
        if list.is_empty() {
            "none of this crate's path dependencies has migrations".to_string()
        } else {
            format!("the apps among this crate's path dependencies are: {}", list.join(", "))
        }
    };
    let mut models_of: BTreeMap<String, Vec<FoundModel>> = BTreeMap::new();
    let mut errors = Vec::new();
    for f in found.iter_mut() {
        for r in &mut f.model.references {
            let at = |message: String| Located {
                location: Location {
                    path: f.path.clone(),
                    line: r.span.start().line,
                    column: r.span.start().column + 1,
                },
                message,
            };
            match &r.target {
                RefTarget::Model { app: Some(qualifier), name } => {
                    // `models::User` names a module of this crate, not an app.
                    let Some(app) = apps.iter().find(|a| a.is_named(qualifier)) else { continue };
                    if !models_of.contains_key(&app.label) {
                        let scan = scan(&crate_roots(&app.dir)?, cache)?;
                        if cargo {
                            for file in &scan.files {
                                println!("cargo:rerun-if-changed={}", file.display());
                            }
                        }
                        models_of.insert(app.label.clone(), scan.models);
                    }
                    let model = models_of.get(&app.label).and_then(|ms| ms.iter().find(|m| m.model.ident == name));
                    let Some(model) = model.map(|m| &m.model) else {
                        errors.push(at(format!("app `{}` has no model `{name}`", app.label)));
                        continue;
                    };
                    let table = &model.table.name;
                    if app.schema.table(table).is_none() {
                        errors.push(at(format!(
                            "table `{table}` of app `{}` is not in its sealed migrations yet; build and seal `{}` first (`cargo chakra seal` in {})",
                            app.label, app.label, app.dir.display()
                        )));
                        continue;
                    }
                    let [pk] = model.table.primary_key.as_slice() else {
                        errors.push(at(format!(
                            "`{}::{name}` has no single-column primary key to reference; write `references = \"{}.{table}(column)\"`",
                            app.label, app.label
                        )));
                        continue;
                    };
                    r.target =
                        RefTarget::Table { app: Some(app.label.clone()), table: table.clone(), column: pk.clone() };
                }
                RefTarget::Table { app: Some(qualifier), table, .. } => {
                    match apps.iter().find(|a| a.is_named(qualifier)) {
                        None => errors.push(at(format!(
                            "`references` names app `{qualifier}`, which is not known here; {}",
                            names()
                        ))),
                        Some(app) if app.schema.table(table).is_none() => errors.push(at(format!(
                            "app `{}` has no table `{table}` in its sealed migrations; {}",
                            app.label,
                            if app.schema.tables.is_empty() {
                                "it has none yet".to_string()
                            } else {
                                format!(
                                    "its tables are: {}",
                                    app.schema.tables.keys().cloned().collect::<Vec<_>>().join(", ")
                                )
                            }
                        ))),
                        Some(_) => {}
                    }
                }
                _ => {}
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Models(errors));
    }
    Ok(apps)
}

/// `app/id` of each other app's migration that the foreign keys `ops` add must follow.
pub(crate) fn cross_app_dependencies(ops: &[Operation], own: &Schema, apps: &[App]) -> Result<Vec<String>> {
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for op in ops {
        let fks: Vec<&ForeignKey> = match op {
            Operation::CreateModel { table } => table.foreign_keys.iter().collect(),
            Operation::AddConstraint { constraint: Constraint::ForeignKey(fk), .. } => vec![fk],
            _ => Vec::new(),
        };
        for fk in fks {
            if own.table(&fk.ref_table).is_some() {
                continue;
            }
            if let Some(app) = apps.iter().find(|a| a.schema.table(&fk.ref_table).is_some()) {
                if let Some(id) = migration_providing(app, &fk.ref_table, &fk.ref_columns)? {
                    wanted.insert(format!("{}/{id}", app.label));
                }
            }
        }
    }
    Ok(wanted.into_iter().collect())
}
