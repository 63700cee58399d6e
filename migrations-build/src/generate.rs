//! The build: scan the models, diff them against the snapshot, write or check the
//! draft, seal on request, and write the registry.

use std::path::{Path, PathBuf};

use std::collections::{BTreeMap, BTreeSet};

use migrations_core::diff::{diff_from, Diff, DiffError, Note};
use migrations_core::model::{resolve_models_indexed, ModelSet, RefTarget};
use migrations_core::schema::{Constraint, ForeignKey};
use migrations_core::snapshot::{from_toml, to_toml};
use migrations_core::{Dialect, Operation, Schema};

use crate::apps::App;
use crate::codegen::{data_loss, module, ModuleSpec};
use crate::config::{Config, Mode};
use crate::error::{Error, Located, Location, Result};
use crate::interpret::DataStep;
use crate::migration_files::{self, check_graph, split_draft, MigrationFile};
use crate::naming::{clean, name_for};
use crate::registry::{registry, REGISTRY_FILE};
use crate::sources::{crate_roots, read_package, scan, FoundModel};

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// The pending operations, in words (empty when the models match the snapshot).
    pub pending: Vec<String>,
    /// The draft written or left in place.
    pub draft: Option<PathBuf>,
    /// The migration sealed by this run.
    pub sealed: Option<PathBuf>,
    /// A draft removed because the change was undone.
    pub removed_draft: Option<PathBuf>,
    /// Messages for the user (printed as `cargo:warning=` in a build).
    pub warnings: Vec<String>,
    /// Whether anything was not written because the sources do not parse or this build
    /// must not write (package verification, rust-analyzer).
    pub skipped: Option<String>,
}

struct Paths {
    manifest: PathBuf,
    migrations: PathBuf,
    snapshot: PathBuf,
    out: Option<PathBuf>,
}

/// `.chakra/snapshot.toml`: its text, and the schema it holds, read only when needed
/// (on a cold cache the TOML reader is the slowest part of an unoptimised build script).
struct SnapshotFile<'a> {
    path: &'a Path,
    text: Option<String>,
    cache: &'a crate::cache::Cache,
}

impl<'a> SnapshotFile<'a> {
    fn read(path: &'a Path, cache: &'a crate::cache::Cache) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", path)(e)),
        };
        Ok(SnapshotFile { path, text, cache })
    }

    /// The schema (empty when there is no snapshot yet).
    fn schema(&self) -> Result<Schema> {
        let Some(text) = &self.text else { return Ok(Schema::new()) };
        if let Some(s) = self.cache.get::<Schema>("snapshot", self.path, text) {
            return Ok(s);
        }
        let schema = from_toml(text).map_err(|source| Error::Snapshot { path: self.path.to_path_buf(), source })?;
        self.cache.put("snapshot", self.path, text, &schema);
        Ok(schema)
    }
}

/// With `CHAKRA_TIMING` set, prints how long each phase took (for the benchmark).
struct Timing(Option<std::time::Instant>);

impl Timing {
    fn new() -> Self {
        Timing(std::env::var_os("CHAKRA_TIMING").map(|_| std::time::Instant::now()))
    }

    fn mark(&mut self, phase: &str) {
        if let Some(start) = self.0 {
            eprintln!("chakra timing: {phase}: {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);
            self.0 = Some(std::time::Instant::now());
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Why this build must not write into the sources, if it must not.
fn read_only_reason(manifest: &Path) -> Option<String> {
    let parts: Vec<String> = manifest.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.windows(2).any(|w| w[0] == "target" && w[1] == "package") {
        return Some("this is `cargo package` verifying a packaged crate".into());
    }
    if parts.iter().any(|p| p == "registry" || p == "git") && parts.iter().any(|p| p == ".cargo" || p == "cargo") {
        return Some("this crate is a dependency downloaded by cargo".into());
    }
    let wrapper = env("RUSTC_WRAPPER").unwrap_or_default();
    if env("RA_RUSTC_WRAPPER").is_some() || wrapper.contains("rust-analyzer") {
        return Some("rust-analyzer is running build scripts on code that may be half-edited".into());
    }
    None
}

fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    }
    // Written aside and renamed over it: a build stopped halfway (Ctrl-C, a killed
    // rust-analyzer) leaves the old file or the new one, never half of one. (The aside
    // name does not end in `.rs`: the migrations folder ignores it.)
    let mut aside = path.as_os_str().to_owned();
    aside.push(".partial");
    let aside = PathBuf::from(aside);
    std::fs::write(&aside, text).map_err(Error::io("write", &aside))?;
    std::fs::rename(&aside, path).map_err(Error::io("write", path))?;
    Ok(true)
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(Error::io("remove", path))
}

/// Today's date (UTC) as `YYYY-MM-DD`, for the header of a sealed migration.
fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    migrations_core::civil::Civil::from_unix(i64::try_from(secs).unwrap_or(0)).date()
}

impl Config {
    fn paths(&self) -> Result<Paths> {
        let manifest = match &self.manifest_dir {
            Some(d) => d.clone(),
            None => PathBuf::from(env("CARGO_MANIFEST_DIR").ok_or(Error::MissingEnv("CARGO_MANIFEST_DIR"))?),
        };
        let under = |p: &Option<PathBuf>, default: &str| match p {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => manifest.join(p),
            None => manifest.join(default),
        };
        Ok(Paths {
            migrations: under(&self.migrations_dir, "migrations"),
            snapshot: under(&self.snapshot_dir, ".chakra").join("snapshot.toml"),
            out: self.out_dir.clone().or_else(|| env("OUT_DIR").map(PathBuf::from)),
            manifest,
        })
    }

    fn effective_mode(&self) -> Result<(Mode, bool)> {
        if let Some(m) = env("CHAKRA_MODE") {
            let mode = Mode::parse(&m)
                .ok_or_else(|| Error::Usage(format!("CHAKRA_MODE={m} is not a mode: use auto, check or off")))?;
            return Ok((mode, false));
        }
        if let Some(m) = self.mode {
            return Ok((m, false));
        }
        let ci = env("CI").is_some_and(|v| v != "false" && v != "0");
        Ok((if ci { Mode::Check } else { Mode::Auto }, ci))
    }

    fn seal_request(&self) -> Option<Option<String>> {
        if let Some(s) = &self.seal {
            return Some(s.clone());
        }
        std::env::var("CHAKRA_SEAL").ok().map(|v| {
            let v = v.trim();
            (!v.is_empty() && v != "1" && v != "true").then(|| v.to_string())
        })
    }

    /// Runs the helper: see the crate documentation for what it does.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// // A crate with one model, in a folder of its own.
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// std::fs::write(
    ///     dir.join("src/lib.rs"),
    ///     "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n",
    /// )?;
    /// let report = Config::new().manifest_dir(&dir).mode(Mode::Auto).cargo_output(false).generate()?;
    /// assert_eq!(report.pending, ["CreateModel notes"]);
    /// assert_eq!(report.draft, Some(dir.join("migrations/0001_initial.rs")));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn generate(&self) -> Result<Report> {
        let paths = self.paths()?;
        let cargo = self.cargo_output.unwrap_or_else(|| env("OUT_DIR").is_some() && self.out_dir.is_none());
        let mut report = Report::default();
        let cache = crate::cache::Cache::new(paths.out.as_deref());
        let mut result = self.generate_into(&paths, &mut report, cargo, &cache);
        if matches!(result, Err(Error::Models(_) | Error::Diff(_) | Error::Portability(_))) {
            // Cached models carry no spans: read everything again to say where.
            report = Report::default();
            result = self.generate_into(&paths, &mut report, false, &crate::cache::Cache::none());
        }
        if cargo {
            for w in &report.warnings {
                for line in w.lines() {
                    println!("cargo:warning={line}");
                }
            }
        }
        result.map(|()| report)
    }

    fn generate_into(
        &self,
        paths: &Paths,
        report: &mut Report,
        cargo: bool,
        cache: &crate::cache::Cache,
    ) -> Result<()> {
        let package = read_package(&paths.manifest)?;
        let roots: Vec<PathBuf> = if self.model_roots.is_empty() {
            package.roots.clone()
        } else {
            self.model_roots.iter().map(|r| if r.is_absolute() { r.clone() } else { paths.manifest.join(r) }).collect()
        };
        let mut timing = Timing::new();
        // The migration files are read (and, on a cold cache, checksummed) on a second
        // thread while this one scans the sources, when there are enough of them.
        let listed = migration_files::list(&paths.migrations);
        let threaded = listed.as_deref().is_ok_and(migration_files::worth_a_thread);
        let read = |listed: Result<Vec<_>>| listed.and_then(|l| migration_files::read_listed(&l, cache));
        let (scanned, files) = if threaded {
            std::thread::scope(|s| {
                let files = s.spawn(|| read(listed));
                let scanned = scan(&roots, cache);
                (scanned, files.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            })
        } else {
            (scan(&roots, cache), read(listed))
        };
        timing.mark("scan sources, read migration files");
        if cargo {
            println!("cargo:rerun-if-changed={}", paths.manifest.join("Cargo.toml").display());
            if let Ok(s) = &scanned {
                for f in &s.files {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
                // A module declared before its file exists: its folder is watched (cargo
                // looks at everything in it), so creating the file runs the build again.
                // Not the package's own folder, which holds `target/`: there, the file
                // paths themselves (cargo reruns while they are missing, and rustc fails
                // on a missing module anyway).
                for m in &s.awaited {
                    if m.folder == paths.manifest {
                        for f in &m.files {
                            println!("cargo:rerun-if-changed={}", f.display());
                        }
                    } else {
                        println!("cargo:rerun-if-changed={}", m.folder.display());
                    }
                }
            }
            println!("cargo:rerun-if-changed={}", paths.snapshot.parent().unwrap_or(&paths.manifest).display());
            println!("cargo:rerun-if-changed={}", paths.snapshot.display());
            // A folder is watched whole (cargo compares the newest time of anything in it):
            // a migration added, edited or removed reruns the script. The files are not
            // listed one by one as well: with a thousand migrations that was a thousand
            // more paths for cargo to read back and check on every build.
            println!("cargo:rerun-if-changed={}", paths.migrations.display());
            // The wrapper variables tell rust-analyzer's runs apart, which write nothing:
            // without them the next plain build would take rust-analyzer's run as its own
            // and not write the draft until another edit.
            for var in ["CHAKRA_MODE", "CHAKRA_SEAL", "CI", "RA_RUSTC_WRAPPER", "RUSTC_WRAPPER"] {
                println!("cargo:rerun-if-env-changed={var}");
            }
        }
        let mut scanned = scanned?;
        if !scanned.errors.is_empty() {
            return Err(Error::Models(std::mem::take(&mut scanned.errors)));
        }
        let files = files?;
        let snapshot = SnapshotFile::read(&paths.snapshot, cache)?;
        timing.mark("read snapshot");
        let (mode, from_ci) = self.effective_mode()?;
        let read_only = read_only_reason(&paths.manifest);
        let mode = match (&scanned.unparsable, &read_only) {
            (Some(file), _) => {
                report.skipped = Some(format!("{} does not parse; rustc will say why", file.display()));
                Mode::Off
            }
            (None, Some(reason)) if mode == Mode::Auto => {
                report.skipped = Some(reason.clone());
                Mode::Off
            }
            _ => mode,
        };
        if mode == Mode::Auto && snapshot.text.is_none() && files.iter().all(|f| f.draft) {
            // Nothing sealed yet: the file says so, ready to be committed with the first
            // migration. (With sealed migrations, a missing snapshot was lost: the
            // replay below says so instead of drafting every table again.)
            write_if_changed(&paths.snapshot, &to_toml(&Schema::new()))?;
        }
        let listed = files.clone();
        if mode != Mode::Off {
            let run = Run { paths, mode, from_ci, cargo, cache };
            self.diff_and_write(&run, std::mem::take(&mut scanned.models), snapshot, files, report)?;
        }
        timing.mark("diff and write");
        if let Some(out) = &paths.out {
            let touched: Vec<&Path> = [&report.draft, &report.sealed, &report.removed_draft]
                .into_iter()
                .flatten()
                .map(PathBuf::as_path)
                .collect();
            // Never freed either: a thousand entries are a few thousand allocations.
            let files = std::mem::ManuallyDrop::new(migration_files::refresh_cached(listed, &touched, cache)?);
            let snapshot_now = paths.snapshot.is_file().then_some(paths.snapshot.as_path());
            let app = self
                .app
                .clone()
                .or_else(|| package.app.clone())
                .or_else(|| env("CARGO_PKG_NAME").map(|n| n.replace('-', "_")))
                .unwrap_or_default();
            write_if_changed(&out.join(REGISTRY_FILE), &registry(&app, &files, snapshot_now))?;
            timing.mark("registry");
        }
        Ok(())
    }

    fn diff_and_write(
        &self,
        run: &Run<'_>,
        found: Vec<FoundModel>,
        snapshot: SnapshotFile<'_>,
        files: Vec<MigrationFile>,
        report: &mut Report,
    ) -> Result<()> {
        let Run { paths, mode, from_ci, cargo, cache } = *run;
        let mut timing = Timing::new();
        let mut found = found;
        let apps = link_apps(paths, &mut found, cargo, cache)?;
        let external = crate::apps::external_schema(&apps)?;
        let (models, files_of): (Vec<_>, Vec<_>) = found.into_iter().map(|f| (f.model, f.path)).unzip();
        // Never freed: the build script exits soon after, and freeing a thousand models
        // one allocation at a time is ~5 % of a build at opt-level 0.
        let set = resolve_models_indexed(models, &external).map(std::mem::ManuallyDrop::new).map_err(|errors| {
            Error::Models(
                errors
                    .iter()
                    .map(|(i, e)| {
                        let start = e.span().start();
                        let path = files_of.get(*i).cloned().unwrap_or_default();
                        Located {
                            location: Location { path, line: start.line, column: start.column + 1 },
                            message: e.to_string(),
                        }
                    })
                    .collect(),
            )
        })?;
        timing.mark("  resolve models");
        let dialects = self.dialects.clone().unwrap_or_else(|| Dialect::ALL.to_vec());
        let portability = migrations_core::portability::check(&set.schema, &dialects);
        if !portability.is_empty() {
            return Err(Error::Portability(
                portability
                    .iter()
                    .map(|p| Located {
                        location: place(&files_of, &set, &p.table, p.column.as_deref()),
                        message: p.to_string(),
                    })
                    .collect(),
            ));
        }
        timing.mark("  portability");
        let (sealed, draft) = split_draft(files);
        let seal = self.seal_request();
        // The snapshot is canonical text: the tables whose text the models no longer
        // match (with their neighbours) are all the autodetector needs to see, and on
        // the common build, where nothing changed, there are none. Sealing writes the
        // whole new snapshot, so it reads the whole old one.
        let part = match (&seal, &snapshot.text) {
            (None, Some(text)) => migrations_core::snapshot::changed_part(text, &set.schema, &set.intent),
            _ => None,
        };
        timing.mark("  compare with the snapshot text");
        let changes = match part {
            // (`schema` is what a seal would write; there is nothing to seal.)
            Some((old, new)) if old.tables.is_empty() && new.tables.is_empty() => {
                Ok(Diff { operations: Vec::new(), notes: Vec::new(), schema: Schema::new() })
            }
            Some((old, new)) => diff_from(old, &new, &set.intent),
            None => diff_from(snapshot.schema()?, &set.schema, &set.intent),
        }
        .map_err(|errors| Error::Diff(errors.iter().map(|e| locate_diff(&files_of, &set, e)).collect()))?;
        timing.mark("  diff");
        for note in &changes.notes {
            // An attribute that is no longer needed is said once, by the build that seals
            // (every build saying it is noise nobody reads).
            let inert = matches!(note, Note::InertRename { .. } | Note::InertBackfill { .. });
            if !inert || seal.is_some() {
                report.warnings.push(note_text(note));
            }
        }
        check_graph(&sealed)?;
        let agreed = self.verify_snapshot(run, &sealed, snapshot.text.as_deref(), &external, report)?;
        let ops = &changes.operations;
        report.pending = ops.iter().map(ToString::to_string).collect();

        if mode == Mode::Check {
            if !ops.is_empty() || draft.is_some() {
                let mut pending: Vec<String> = report.pending.iter().map(|p| format!("  + {p}")).collect();
                if let Some(d) = &draft {
                    pending.push(format!("  (draft {} is not sealed)", d.path.display()));
                }
                return Err(Error::Pending { pending: pending.join("\n"), ci: from_ci });
            }
            let lossy = crate::data_loss::unacknowledged(&sealed, cache)?;
            if !lossy.is_empty() {
                return Err(crate::data_loss::error(&lossy));
            }
            return Ok(());
        }

        let model_name = |table: &str| {
            set.model_for_table(table)
                .map_or_else(|| table.to_string(), |m| heck::ToSnakeCase::to_snake_case(m.ident.to_string().as_str()))
        };
        let number = sealed.iter().map(|f| f.number).max().unwrap_or(0) + 1;
        let mut dependencies: Vec<String> = migration_files::heads(&sealed).iter().map(|f| f.id.clone()).collect();
        dependencies.extend(cross_app_dependencies(ops, &set.schema, &apps)?);

        if ops.is_empty() {
            if let Some(d) = draft {
                remove(&d.path)?;
                report.warnings.push(format!("chakra: removed draft {} (the models match the snapshot again)", d.id));
                report.removed_draft = Some(d.path);
            }
            return Ok(());
        }

        let derived = name_for(ops, sealed.is_empty(), &model_name);
        let name = match &seal {
            Some(Some(n)) => clean(n),
            _ => derived,
        };
        let id = format!("{number:04}_{name}");
        let path = paths.migrations.join(format!("{id}.rs"));
        let today = today();
        let spec = ModuleSpec {
            id: &id,
            dependencies: &dependencies,
            operations: ops,
            sealed_on: seal.is_some().then_some(today.as_str()),
        };
        let text = module(&spec).map_err(|e| Error::Usage(format!("internal error formatting migration {id}: {e}")))?;
        timing.mark("  write the module");
        if let Some(d) = &draft {
            if d.path != path || seal.is_some() {
                remove(&d.path)?;
            }
        }
        write_if_changed(&path, &text)?;
        for op in ops {
            report.warnings.push(format!("chakra: {} {op}", if op.is_destructive() { "-" } else { "+" }));
            if let Some(loss) = data_loss(op) {
                report.warnings.push(format!("chakra: {loss}"));
            }
        }
        if seal.is_some() {
            let new_snapshot = to_toml(&changes.schema);
            write_if_changed(&paths.snapshot, &new_snapshot)?;
            if agreed {
                let sum = crate::registry::checksum(&text);
                crate::replay::record_sealed(&sealed, (&id, &sum), &new_snapshot, cache, &paths.migrations);
            }
            report.warnings.push(format!("chakra: sealed {id}; the snapshot now includes it"));
            if ops.iter().any(Operation::is_destructive) {
                report.warnings.push(format!(
                    "chakra: {id} LOSES DATA: check mode (CI) fails until a person who read it adds `pub const {}: &str = \"<why>\";` to the file",
                    crate::data_loss::ACKNOWLEDGEMENT
                ));
            }
            report.sealed = Some(path);
        } else {
            report.warnings.push(format!(
                "chakra: draft {id} written; seal it with `cargo chakra seal` (or `--name <name>` for another name) before committing"
            ));
            report.draft = Some(path);
        }
        Ok(())
    }
}

/// What one run of the helper works with.
#[derive(Clone, Copy)]
struct Run<'a> {
    paths: &'a Paths,
    mode: Mode,
    from_ci: bool,
    cargo: bool,
    cache: &'a crate::cache::Cache,
}

/// Turns references to other apps' models (`auth::User`) into references to their
/// tables, and returns the apps among the path dependencies. `cargo metadata` runs only
/// when some reference reaches outside this crate.
fn link_apps(paths: &Paths, found: &mut [FoundModel], cargo: bool, cache: &crate::cache::Cache) -> Result<Vec<App>> {
    let structs: BTreeSet<String> = found.iter().map(|f| f.model.ident.to_string()).collect();
    let tables: BTreeSet<String> = found.iter().map(|f| f.model.table.name.clone()).collect();
    let reaches_out = found.iter().flat_map(|f| &f.model.references).any(|r| match &r.target {
        RefTarget::Model { app, name } => app.is_some() || !structs.contains(name),
        RefTarget::Table { app, table, .. } => app.is_some() || !tables.contains(table),
    });
    if !reaches_out {
        return Ok(Vec::new());
    }
    let apps = crate::apps::dependency_apps(&paths.manifest)?;
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
fn cross_app_dependencies(ops: &[Operation], own: &Schema, apps: &[App]) -> Result<Vec<String>> {
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
                if let Some(id) = crate::apps::migration_providing(app, &fk.ref_table, &fk.ref_columns)? {
                    wanted.insert(format!("{}/{id}", app.label));
                }
            }
        }
    }
    Ok(wanted.into_iter().collect())
}

fn note_text(note: &Note) -> String {
    match note {
        Note::InertRename { table, column: Some(c) } => {
            format!("chakra: `renamed_from` on `{table}.{c}` no longer applies (already migrated); it may be removed")
        }
        Note::InertRename { table, column: None } => {
            format!("chakra: `renamed_from` on table `{table}` no longer applies (already migrated); it may be removed")
        }
        Note::InertBackfill { table, column } => {
            format!("chakra: `backfill` on `{table}.{column}` is not needed by this change; it may be removed")
        }
        Note::PossibleRename { table, removed, added } if removed == table || added == table => {
            format!("chakra: table `{removed}` is dropped and `{added}` created with the same columns; if this is a rename, add `#[model(renamed_from = \"{removed}\")]` to the struct")
        }
        Note::PossibleRename { table, removed, added } => format!(
            "chakra: `{table}.{removed}` is dropped and `{table}.{added}` added with the same type; if this is a rename, add `#[model(renamed_from = \"{removed}\")]` to the field"
        ),
    }
}

/// The place of a table (its struct) or a column (its field).
fn place(files_of: &[PathBuf], set: &ModelSet, table: &str, column: Option<&str>) -> Location {
    let Some(i) = set.models.iter().position(|m| m.table.name == table) else {
        return Location { path: PathBuf::from(format!("<table {table}>")), line: 1, column: 1 };
    };
    let model = &set.models[i];
    let span = column.and_then(|c| model.fields.iter().find(|f| f.column == c)).map_or(model.span, |f| f.span);
    Location {
        path: files_of.get(i).cloned().unwrap_or_default(),
        line: span.start().line,
        column: span.start().column + 1,
    }
}

fn locate_diff(files_of: &[PathBuf], set: &ModelSet, e: &DiffError) -> Located {
    let location = match e {
        DiffError::NeedsFill { table, column, .. } | DiffError::IncompatibleTypeChange { table, column, .. } => {
            place(files_of, set, table, Some(column))
        }
        DiffError::PrimaryKeyChanged { table, .. } => place(files_of, set, table, None),
        _ => Location { path: PathBuf::from("<models>"), line: 1, column: 1 },
    };
    Located { location, message: e.to_string() }
}

impl Config {
    /// `cargo chakra make --empty`: writes a sealed migration with no operations, after
    /// the current head, for a hand-written RunSQL or data step.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// // A crate with one model, in a folder of its own.
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// std::fs::write(
    ///     dir.join("src/lib.rs"),
    ///     "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n",
    /// )?;
    /// let mut config = Config::new();
    /// config.manifest_dir(&dir).mode(Mode::Auto).cargo_output(false);
    /// config.clone().seal(Some("initial")).generate()?;
    /// let path = config.make_empty("lowercase_emails")?;
    /// assert_eq!(path, dir.join("migrations/0002_lowercase_emails.rs"));
    /// assert!(std::fs::read_to_string(&path)?.contains(r#"DEPENDENCIES: &[&str] = &["0001_initial"]"#));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn make_empty(&self, name: &str) -> Result<PathBuf> {
        self.write_empty(name, None)
    }

    /// `cargo chakra merge`: writes a migration that depends on every head, joining the
    /// branches of the graph after a git merge.
    ///
    /// ```no_run
    /// // After a git merge brought 0003_add_user_bio and 0003_create_posts:
    /// let path = migrations_build::Config::new().merge(None)?;
    /// assert!(path.ends_with("0004_merge_add_user_bio_and_create_posts.rs"));
    /// # Ok::<(), migrations_build::Error>(())
    /// ```
    pub fn merge(&self, name: Option<&str>) -> Result<PathBuf> {
        let paths = self.paths()?;
        let (sealed, _) = split_draft(migration_files::read_dir(&paths.migrations)?);
        let heads: Vec<String> = migration_files::heads(&sealed).iter().map(|f| f.id.clone()).collect();
        if heads.len() < 2 {
            return Err(Error::Usage(format!("nothing to merge: the migration graph has {} head(s)", heads.len())));
        }
        let derived = format!(
            "merge_{}",
            heads.iter().map(|h| h.split_once('_').map_or(h.as_str(), |(_, n)| n)).collect::<Vec<_>>().join("_and_")
        );
        self.write_empty(name.unwrap_or(&derived), Some(heads))
    }

    fn write_empty(&self, name: &str, dependencies: Option<Vec<String>>) -> Result<PathBuf> {
        let paths = self.paths()?;
        let (sealed, _) = split_draft(migration_files::read_dir(&paths.migrations)?);
        let number = sealed.iter().map(|f| f.number).max().unwrap_or(0) + 1;
        let deps = match dependencies {
            Some(d) => d,
            None => {
                check_graph(&sealed)?;
                migration_files::heads(&sealed).iter().map(|f| f.id.clone()).collect()
            }
        };
        let id = format!("{number:04}_{}", clean(name));
        let path = paths.migrations.join(format!("{id}.rs"));
        if path.exists() {
            return Err(Error::Usage(format!("{} already exists", path.display())));
        }
        write_if_changed(&path, &crate::codegen::empty_module(&id, &deps, &today()))?;
        Ok(path)
    }
}

impl Config {
    /// `cargo chakra sql ID`: the SQL of one migration for `dialect`, forward or
    /// backward, rendered against the schema the earlier migrations leave (replayed from
    /// their files).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// // A crate with one model, in a folder of its own.
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// std::fs::write(
    ///     dir.join("src/lib.rs"),
    ///     "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n",
    /// )?;
    /// use migrations_build::Dialect;
    ///
    /// let mut config = Config::new();
    /// config.manifest_dir(&dir).mode(Mode::Auto).cargo_output(false);
    /// config.clone().seal(Some("initial")).generate()?;
    /// let backward = config.sql("0001_initial", Dialect::Sqlite, true)?;
    /// assert_eq!(backward, [r#"DROP TABLE "notes""#]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sql(&self, id: &str, dialect: Dialect, backward: bool) -> Result<Vec<String>> {
        let paths = self.paths()?;
        let files = migration_files::read_dir(&paths.migrations)?;
        if !files.iter().any(|f| f.id == id) {
            let known: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
            return Err(Error::Usage(format!("no migration `{id}`; the migrations are: {}", known.join(", "))));
        }
        let read = |f: &MigrationFile, backward: bool, start: &Schema| -> Result<(Vec<Operation>, Vec<DataStep>)> {
            let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
            crate::interpret::read_operations_and_steps(&text, backward, start).map_err(|e| {
                Error::MigrationFile(Located {
                    location: Location { path: f.path.clone(), line: e.line, column: 1 },
                    message: e.message,
                })
            })
        };
        let render_err = |e: migrations_core::render::RenderError| Error::Usage(format!("cannot render `{id}`: {e}"));
        // Foreign keys to other apps' tables need those tables in the replayed schema.
        let mut schema = crate::replay::start_schema(&paths.manifest, &files)?;
        for f in &files {
            let (up, up_data) = read(f, false, &schema)?;
            if f.id == id {
                if !backward {
                    return render_with_data_steps(&up, &up_data, &schema, dialect).map_err(render_err);
                }
                schema.apply_all(&up).map_err(|e| Error::Usage(format!("cannot replay `{id}`: {e}")))?;
                let (down, down_data) = read(f, true, &schema)?;
                return render_with_data_steps(&down, &down_data, &schema, dialect).map_err(render_err);
            }
            schema.apply_all(&up).map_err(|e| Error::Usage(format!("cannot replay `{}`: {e}", f.id)))?;
        }
        Ok(Vec::new())
    }
}

impl Config {
    /// `cargo chakra rebuild-snapshot`: writes the snapshot the sealed migrations build
    /// (replayed from their files), and returns what that changed in it, in words. After
    /// a sealed migration was deleted to be redone, the next build drafts its change again.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// let model = "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n";
    /// std::fs::write(dir.join("src/lib.rs"), model)?;
    /// let mut config = Config::new();
    /// config.manifest_dir(&dir).mode(Mode::Auto).cargo_output(false);
    /// config.clone().seal(Some("initial")).generate()?;
    /// std::fs::write(dir.join("src/lib.rs"), model.replace("i64,", "i64,\n    pub body: Option<String>,"))?;
    /// config.clone().seal(Some("add_body")).generate()?;
    ///
    /// // Deleted to be redone: the snapshot still holds `body`, and check mode says so.
    /// std::fs::remove_file(dir.join("migrations/0002_add_body.rs"))?;
    /// assert!(config.clone().mode(Mode::Check).generate().is_err());
    /// let changed = config.rebuild_snapshot()?;
    /// assert_eq!(changed, ["RemoveField notes.body"]);
    /// let report = config.generate()?;
    /// assert_eq!(report.draft, Some(dir.join("migrations/0002_add_note_body.rs")));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rebuild_snapshot(&self) -> Result<Vec<String>> {
        let paths = self.paths()?;
        let (sealed, _) = split_draft(migration_files::read_dir(&paths.migrations)?);
        check_graph(&sealed)?;
        let start = crate::replay::start_schema(&paths.manifest, &sealed)?;
        let replayed = crate::replay::replay(&sealed, &start, &crate::cache::Cache::none())?.map_err(|at| {
            Error::Usage(format!("cannot rebuild the snapshot: {at}; a migration with Rust that only the application runs cannot be replayed here: restore the snapshot from version control instead (`git checkout -- .chakra/snapshot.toml`), or restore the deleted migration (`git checkout -- migrations/`)"))
        })?;
        // The old snapshot is read only to say what changes: one that does not parse (git
        // conflict markers after a merge of two branches that both changed models) is
        // simply replaced.
        let old = match std::fs::read_to_string(&paths.snapshot) {
            Ok(text) => from_toml(&text).ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Schema::new()),
            Err(e) => return Err(Error::io("read", &paths.snapshot)(e)),
        };
        let changed = match old.map(|old| diff_from(old, &replayed, &migrations_core::diff::Intent::default())) {
            Some(Ok(d)) => d.operations.iter().map(ToString::to_string).collect(),
            Some(Err(_)) => vec!["(the old snapshot does not compare; it is replaced whole)".to_string()],
            None => {
                vec!["(the old snapshot could not be read, a merge conflict perhaps; it is replaced whole)".to_string()]
            }
        };
        write_if_changed(&paths.snapshot, &to_toml(&replayed))?;
        Ok(changed)
    }

    /// Checks that the snapshot holds what the sealed migrations build, when that is due
    /// (see [`crate::replay::Verification`]); whether they are known to agree.
    fn verify_snapshot(
        &self,
        run: &Run<'_>,
        sealed: &[MigrationFile],
        snapshot: Option<&str>,
        external: &Schema,
        report: &mut Report,
    ) -> Result<bool> {
        let Run { paths, mode, cache, .. } = *run;
        let verification =
            crate::replay::Verification::new(sealed, snapshot, mode == Mode::Check, cache, &paths.migrations);
        if !verification.due() {
            return Ok(true);
        }
        match crate::replay::replay(sealed, external, cache)? {
            Ok(replayed) => {
                let differences = crate::replay::drift(snapshot, &replayed, &paths.snapshot)?;
                if !differences.is_empty() {
                    return Err(crate::replay::apart(&paths.snapshot, &differences));
                }
                verification.seen(cache, &paths.migrations);
                Ok(true)
            }
            // Rust only the application can run: the snapshot cannot be checked here.
            Err(at) => {
                verification.seen(cache, &paths.migrations);
                if mode == Mode::Check {
                    report
                        .warnings
                        .push(format!("chakra: cannot check the snapshot against the sealed migrations: {at}"));
                }
                Ok(false)
            }
        }
    }
}

/// The SQL of `ops` from `start`, with a comment where each Rust data step runs: its SQL
/// is known only to the application that runs it.
fn render_with_data_steps(
    ops: &[Operation],
    data: &[DataStep],
    start: &Schema,
    dialect: Dialect,
) -> std::result::Result<Vec<String>, migrations_core::render::RenderError> {
    let mut out = Vec::new();
    let mut schema = start.clone();
    let mut done = 0;
    for step in data {
        let upto = step.after.clamp(done, ops.len());
        let (sql, after) = migrations_core::render::render_all(&ops[done..upto], &schema, dialect)?;
        out.extend(sql);
        out.push(format!("-- the Rust data step `{}` runs here (only the application can run it)", step.name));
        schema = after;
        done = upto;
    }
    out.extend(migrations_core::render::render_all(&ops[done..], &schema, dialect)?.0);
    Ok(out)
}

/// The operations of a change, in words (for `cargo chakra check`).
pub fn describe(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::config::{Config, Mode};

    const MODEL: &str = "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n";

    /// A crate with one model at `dir` (below a fresh temporary folder), and that folder.
    fn crate_at(test: &str, dir: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("chakra-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let krate = root.join(dir);
        std::fs::create_dir_all(krate.join("src")).expect("dir");
        std::fs::write(krate.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")
            .expect("manifest");
        std::fs::write(krate.join("src/lib.rs"), MODEL).expect("lib.rs");
        (root, krate)
    }

    fn config(dir: &Path) -> Config {
        let mut config = Config::new();
        config.manifest_dir(dir).mode(Mode::Auto).cargo_output(false);
        config
    }

    fn generate(dir: &Path) -> super::Report {
        config(dir).generate().expect("generate")
    }

    /// [`crate_at`], with its one model sealed as `0001_initial`, and its configuration.
    fn sealed_crate(test: &str) -> (PathBuf, PathBuf, Config) {
        let (root, krate) = crate_at(test, "notes");
        let config = config(&krate);
        config.clone().seal(Some("initial")).generate().expect("seal");
        (root, krate, config)
    }

    fn modified(path: &Path) -> std::time::SystemTime {
        std::fs::metadata(path).and_then(|m| m.modified()).expect("mtime")
    }

    /// A merge of two branches that both changed models leaves git conflict markers in the
    /// snapshot: the build says how to get out, and `rebuild-snapshot` does not need the
    /// conflicted file.
    #[test]
    fn a_conflicted_snapshot_is_rebuilt_from_the_migrations() {
        let (root, krate, config) = sealed_crate("conflict");
        let snapshot = krate.join(".chakra/snapshot.toml");
        let good = std::fs::read_to_string(&snapshot).expect("snapshot");
        let conflicted = format!("<<<<<<< HEAD\n{good}=======\n{}>>>>>>> feature\n", good.replace("notes", "notez"));
        std::fs::write(&snapshot, &conflicted).expect("conflict");
        let err = config.clone().generate().expect_err("a conflicted snapshot");
        assert!(err.to_string().contains("cargo chakra rebuild-snapshot"), "{err}");
        let changed = config.rebuild_snapshot().expect("rebuilt without reading the conflicted file");
        assert!(changed.iter().any(|c| c.contains("could not be read")), "{changed:?}");
        assert_eq!(std::fs::read_to_string(&snapshot).expect("snapshot"), good);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn half_edited_sources_write_nothing() {
        let (root, krate) = crate_at("half-edited", "notes");
        std::fs::write(krate.join("src/lib.rs"), MODEL.replace("pub id: i64,", "pub id: i64,\n    pub body: Option<"))
            .expect("edit");
        let report = generate(&krate);
        let skipped = report.skipped.expect("skipped");
        assert!(skipped.contains("lib.rs does not parse"), "{skipped}");
        assert!(!krate.join("migrations").exists() && !krate.join(".chakra").exists());
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn package_verification_writes_nothing() {
        let (root, krate) = crate_at("package", "target/package/notes-0.1.0");
        let report = generate(&krate);
        assert!(report.skipped.as_deref().is_some_and(|s| s.contains("cargo package")), "{report:?}");
        assert!(!krate.join("migrations").exists() && !krate.join(".chakra").exists());
        let _ = std::fs::remove_dir_all(root);
    }

    /// Check mode reviews every sealed migration for data loss; a hand-written one with a
    /// Rust data step, or with Rust the reader does not follow, passes (its author
    /// reviewed it), where a generated one is always read.
    #[test]
    fn check_mode_passes_hand_written_rust() {
        let (root, _, config) = sealed_crate("hand-written");
        let made = config.make_empty("fill").expect("make --empty");
        let body = "fn fill(db: DataConnection<'_>) -> DataFuture<'_> {\n    Box::pin(async move { db.execute(\"UPDATE notes SET id = id\").await })\n}\n\npub fn up(m: &mut Migration) {\n    m.run_rust(\"fill\", fill);\n    for table in [\"notes\"] {\n        m.run_sql(&format!(\"ANALYZE {table}\"), None);\n    }\n";
        let text = std::fs::read_to_string(&made).expect("read").replace("pub fn up(m: &mut Migration) {\n", body);
        std::fs::write(&made, text).expect("write");
        let checked = config.clone().mode(Mode::Check).generate();
        assert!(checked.is_ok(), "{checked:?}");
        let _ = std::fs::remove_dir_all(root);
    }

    /// A snapshot lost beside sealed migrations is not read as empty (which would draft
    /// every table again): the build says what the migrations build, and rebuilding the
    /// snapshot from them brings it back.
    #[test]
    fn a_lost_snapshot_is_not_read_as_empty() {
        let (root, krate, config) = sealed_crate("lost-snapshot");
        let snapshot = krate.join(".chakra/snapshot.toml");
        let sealed = std::fs::read_to_string(&snapshot).expect("snapshot");
        std::fs::remove_file(&snapshot).expect("lose it");
        let err = config.generate().expect_err("a lost snapshot");
        let message = err.to_string();
        assert!(message.contains("does not hold what the sealed migrations build"), "{message}");
        assert!(message.contains("the file is missing; the migrations build 1 table(s)"), "{message}");
        assert!(!snapshot.exists() && !krate.join("migrations/0002_initial.rs").exists());
        assert_eq!(config.rebuild_snapshot().expect("rebuild"), ["CreateModel notes"]);
        assert_eq!(std::fs::read_to_string(&snapshot).expect("rebuilt"), sealed);
        assert!(config.generate().expect("generate").draft.is_none());
        let _ = std::fs::remove_dir_all(root);
    }

    /// A file is written aside and renamed into place, so no half-written file is left
    /// for the next build to read; the same text is not written again.
    #[test]
    fn files_are_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("chakra-whole-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("migrations/0001_a.rs");
        assert!(super::write_if_changed(&file, "one").expect("write"));
        assert!(super::write_if_changed(&file, "two").expect("rewrite"));
        assert!(!super::write_if_changed(&file, "two").expect("same text"));
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "two");
        let names: Vec<_> =
            std::fs::read_dir(dir.join("migrations")).expect("dir").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["0001_a.rs"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A run whose files are already right rewrites none of them (their times stay).
    #[test]
    fn files_already_right_are_not_rewritten() {
        let (root, krate) = crate_at("already-right", "notes");
        let first = generate(&krate);
        let draft = first.draft.expect("draft");
        let snapshot = krate.join(".chakra/snapshot.toml");
        let times = (modified(&draft), modified(&snapshot));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = generate(&krate);
        assert_eq!(again.draft.as_ref(), Some(&draft));
        assert_eq!((modified(&draft), modified(&snapshot)), times);
        let _ = std::fs::remove_dir_all(root);
    }
}
