//! The build: scan the models, diff them against the snapshot, write or check the
//! draft, seal on request, and write the registry. What `cargo chakra` does beyond a build
//! is in `crate::commands`; the other apps a crate's models reference, in `crate::apps`.

mod messages;

use messages::{locate_diff, note_text, place};

use std::path::{Path, PathBuf};

use migrations_core::diff::{diff_from, Diff, Note};
use migrations_core::model::resolve_models_indexed;
use migrations_core::snapshot::{from_toml, to_toml};
use migrations_core::{Dialect, Operation, Schema};

use crate::apps::{cross_app_dependencies, link_apps};
use crate::codegen::{data_loss, module, ModuleSpec};
use crate::config::{Config, Mode};
use crate::error::{Error, Located, Location, Result};
use crate::migration_files::{self, check_graph, split_draft, MigrationFile};
use crate::naming::{clean, name_for};
use crate::registry::{registry, REGISTRY_FILE};
use crate::sources::{read_package, scan, FoundModel};

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

pub(crate) struct Paths {
    pub(crate) manifest: PathBuf,
    pub(crate) migrations: PathBuf,
    pub(crate) snapshot: PathBuf,
    pub(crate) out: Option<PathBuf>,
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

pub(crate) fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    }
    // Written aside and renamed over it: a build stopped halfway (Ctrl-C, a killed
    // rust-analyzer) leaves the old file or the new one, never half of one. (The aside
    // name does not end in `.rs`: the migrations folder ignores it.) The aside name is
    // this process's and this moment's own: two builds of the crate at once (two target
    // folders, an IDE and a terminal) write the same file without meeting.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".partial-{}-{nanos}", std::process::id()));
    let aside = PathBuf::from(aside);
    std::fs::write(&aside, text).map_err(Error::io("write", &aside))?;
    std::fs::rename(&aside, path).map_err(Error::io("write", path))?;
    Ok(true)
}

/// Gives what this build wrote into watched places (a draft, a sealed migration, the
/// snapshot, and their folders) the time cargo started the build script. Cargo reruns a
/// build script when a watched path is newer than that moment, so a file the script
/// itself wrote would make the next `cargo build` run it again and compile the crate a
/// second time for one model change. (Cargo writes `invoked.timestamp` beside `OUT_DIR`
/// just before it runs the script; without it, nothing is changed.)
fn backdate_written(paths: &Paths, report: &Report) {
    let Some(started) = paths
        .out
        .as_deref()
        .and_then(Path::parent)
        .and_then(|build| std::fs::metadata(build.join("invoked.timestamp")).ok())
        .and_then(|m| m.modified().ok())
    else {
        return;
    };
    let before = started.checked_sub(std::time::Duration::from_millis(1)).unwrap_or(started);
    let mut written: Vec<&Path> = [&report.draft, &report.sealed].into_iter().flatten().map(PathBuf::as_path).collect();
    if report.sealed.is_some() {
        written.push(&paths.snapshot);
    }
    let folders = [Some(paths.migrations.as_path()), paths.snapshot.parent()];
    for path in written.into_iter().chain(folders.into_iter().flatten()) {
        // Only what is newer than the script's start was written by it (or by the
        // person since, within the same instant); an older path is left as it is.
        let Ok(file) = std::fs::File::open(path) else { continue };
        if file.metadata().and_then(|m| m.modified()).is_ok_and(|m| m > before) {
            let _ = file.set_modified(before);
        }
    }
}

/// Removes `path`; one that is already gone (another build of the crate at the same
/// time removed it) is what was wanted.
pub(crate) fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", path)(e)),
        _ => Ok(()),
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, for the header of a sealed migration.
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    migrations_core::civil::Civil::from_unix(i64::try_from(secs).unwrap_or(0)).date()
}

impl Config {
    pub(crate) fn paths(&self) -> Result<Paths> {
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
        if let (true, Some(out)) = (cargo, &paths.out) {
            self.write_settings(&paths.manifest, out);
        }
        let cache = crate::cache::Cache::new(paths.out.as_deref());
        let mut result = self.generate_into(&paths, &mut report, cargo, &cache);
        if matches!(result, Err(Error::Models(_) | Error::Diff(_) | Error::Portability(_))) {
            // Cached models carry no spans: read everything again to say where.
            report = Report::default();
            result = self.generate_into(&paths, &mut report, false, &crate::cache::Cache::none());
        }
        if cargo && result.is_ok() {
            backdate_written(&paths, &report);
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
            let dialects =
                self.dialects.clone().or_else(|| package.dialects.clone()).unwrap_or_else(|| Dialect::ALL.to_vec());
            let run = Run { paths, dialects: &dialects, mode, from_ci, cargo, cache };
            let found = (std::mem::take(&mut scanned.models), std::mem::take(&mut scanned.enums));
            self.diff_and_write(&run, found, snapshot, files, report)?;
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
        (found, enums): (Vec<FoundModel>, Vec<migrations_core::model::DbEnum>),
        snapshot: SnapshotFile<'_>,
        files: Vec<MigrationFile>,
        report: &mut Report,
    ) -> Result<()> {
        let Run { paths, mode, from_ci, cargo, cache, .. } = *run;
        let mut timing = Timing::new();
        let mut found = found;
        let apps = link_apps(&paths.manifest, &mut found, cargo, cache)?;
        let external = crate::apps::external_schema(&apps)?;
        let (models, files_of): (Vec<_>, Vec<_>) = found.into_iter().map(|f| (f.model, f.path)).unzip();
        // Never freed: the build script exits soon after, and freeing a thousand models
        // one allocation at a time is ~5 % of a build at opt-level 0.
        let set =
            resolve_models_indexed(models, &enums, &external).map(std::mem::ManuallyDrop::new).map_err(|errors| {
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
        let portability = migrations_core::portability::check(&set.schema, run.dialects);
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
            if let Some(loss) = data_loss(op).or_else(|| migrations_core::render::live::blocking_rewrite(op)) {
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
            if ops.iter().any(|op| migrations_core::render::live::blocking_rewrite(op).is_some()) {
                report.warnings.push(format!(
                    "chakra: {id} REWRITES A TABLE while writes to it wait: check mode (CI) fails until a person who read it adds `pub const {}: &str = \"<why the table may be blocked, for how long>\";` to the file",
                    crate::data_loss::REWRITE_ACKNOWLEDGEMENT
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
    /// The databases the models must fit: `Config::dialects`, else the package's
    /// `[package.metadata.chakra] dialects`, else all three.
    dialects: &'a [Dialect],
    mode: Mode,
    from_ci: bool,
    cargo: bool,
    cache: &'a crate::cache::Cache,
}

impl Config {
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

#[cfg(test)]
mod tests;
