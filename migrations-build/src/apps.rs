//! Other apps: the crates this crate depends on by path that own migrations (they have a
//! `.chakra/snapshot.toml`). Found with `cargo metadata --no-deps --offline`, which reads
//! the workspace's manifests without resolving the registry, so it neither downloads nor
//! waits on the lock the outer `cargo build` holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use migrations_core::schema::Constraint;
use migrations_core::{Operation, Schema};

use crate::error::{Error, Result};
use crate::migration_files::{self, MigrationFile};

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
