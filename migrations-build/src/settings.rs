//! What `build.rs` set on its [`Config`], where `cargo chakra` finds it. A `Config` is Rust
//! code in the build script, which only cargo runs; so every run of the build script
//! writes the settings it was given to `OUT_DIR/chakra-settings.json`, and `cargo chakra`
//! reads them from the newest build of the package (running `cargo check` first when
//! there is none, or `build.rs` changed since). Without this, `cargo chakra seal` would
//! ignore `Config::dialects` and check the models against all three dialects, or look
//! for migrations where `Config::migrations_dir` says they are not.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use migrations_core::Dialect;

use crate::config::Config;
use crate::error::{Error, Result};

/// The file in `OUT_DIR`.
pub(crate) const FILE: &str = "chakra-settings.json";

/// The settings of a `Config` that say where things are and what they must fit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Settings {
    manifest_dir: PathBuf,
    model_roots: Vec<PathBuf>,
    migrations_dir: Option<PathBuf>,
    snapshot_dir: Option<PathBuf>,
    app: Option<String>,
    dialects: Option<Vec<String>>,
}

impl Config {
    /// Writes this build's settings to `out` (see the module documentation). A failure
    /// to write is not the build's: `cargo chakra` then runs `cargo check` or says so.
    pub(crate) fn write_settings(&self, manifest: &Path, out: &Path) {
        let settings = Settings {
            manifest_dir: manifest.to_path_buf(),
            model_roots: self.model_roots.clone(),
            migrations_dir: self.migrations_dir.clone(),
            snapshot_dir: self.snapshot_dir.clone(),
            app: self.app.clone(),
            dialects: self.dialects.as_ref().map(|d| d.iter().map(ToString::to_string).collect()),
        };
        // Written on every run, unchanged or not: its time says which build wrote it.
        if let Ok(text) = serde_json::to_string_pretty(&settings) {
            let _ = std::fs::create_dir_all(out);
            let _ = std::fs::write(out.join(FILE), text);
        }
    }

    /// The `Config` the package in `dir` gives its build script, for `cargo chakra`: the
    /// defaults when it has no `build.rs` or one that calls `migrations_build::run()`;
    /// otherwise what the newest build of it wrote, after a `cargo check` (in `CHAKRA_MODE
    /// = off`, so the build script drafts nothing) when there is no build yet or
    /// `build.rs` changed since.
    pub fn of_package(dir: &Path) -> Result<Config> {
        let mut config = Config::new();
        config.manifest_dir(dir);
        let build_rs = dir.join("build.rs");
        let Ok(script) = std::fs::read_to_string(&build_rs) else { return Ok(config) };
        if !script.contains("Config") {
            return Ok(config);
        }
        let changed = std::fs::metadata(&build_rs).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
        let settings = match newest_settings(dir)? {
            Some((settings, written)) if written >= changed => settings,
            _ => {
                let checked = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                    .args(["check", "--quiet", "--manifest-path"])
                    .arg(dir.join("Cargo.toml"))
                    .env("CHAKRA_MODE", "off")
                    .status();
                match (checked, newest_settings(dir)?) {
                    (_, Some((settings, written))) if written >= changed => settings,
                    (checked, _) => {
                        let why = match checked {
                            Ok(s) if s.success() => {
                                "its build script did not write them (does it call `Config::run`?)".to_string()
                            }
                            Ok(s) => format!("`cargo check` failed ({s})"),
                            Err(e) => format!("cargo did not start: {e}"),
                        };
                        return Err(Error::Usage(format!(
                            "{} configures migrations_build in code, and its settings are known only once it has run: \
                             {why}. Build the crate (`cargo build`), then run cargo chakra again",
                            build_rs.display()
                        )));
                    }
                }
            }
        };
        config.model_roots = settings.model_roots;
        config.migrations_dir = settings.migrations_dir;
        config.snapshot_dir = settings.snapshot_dir;
        config.app = settings.app;
        if let Some(names) = settings.dialects {
            let dialects: Vec<Dialect> = names.iter().filter_map(|n| n.parse().ok()).collect();
            config.dialects(&dialects);
        }
        Ok(config)
    }
}

/// The settings the newest build of the package in `dir` wrote, with when; `None` when
/// no build of it wrote any.
fn newest_settings(dir: &Path) -> Result<Option<(Settings, SystemTime)>> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(dir.join("Cargo.toml"))
        .no_deps()
        .exec()
        .map_err(|e| Error::Usage(format!("cargo metadata failed for {}: {e}", dir.display())))?;
    let target = PathBuf::from(metadata.target_directory.as_std_path());
    let name = std::fs::canonicalize(dir.join("Cargo.toml")).ok().and_then(|manifest| {
        metadata
            .packages
            .iter()
            .find(|p| std::fs::canonicalize(p.manifest_path.as_std_path()).ok() == Some(manifest.clone()))
            .map(|p| p.name.to_string())
    });
    let Some(name) = name else { return Ok(None) };
    let ours = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut best: Option<(Settings, SystemTime)> = None;
    // `target/<profile>/build/<name>-<hash>/out`, and `target/<triple>/<profile>/...`.
    let mut profiles: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(&target).into_iter().flatten().flatten() {
        let path = entry.path();
        profiles.push(path.clone());
        profiles.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()));
    }
    let prefix = format!("{name}-");
    for build in profiles.iter().map(|p| p.join("build")).filter(|b| b.is_dir()) {
        for entry in std::fs::read_dir(&build).into_iter().flatten().flatten() {
            if !entry.file_name().to_string_lossy().starts_with(&prefix) {
                continue;
            }
            let file = entry.path().join("out").join(FILE);
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            let Ok(settings) = serde_json::from_str::<Settings>(&text) else { continue };
            if std::fs::canonicalize(&settings.manifest_dir).ok().as_deref() != Some(ours.as_path()) {
                continue;
            }
            let written = std::fs::metadata(&file).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
            if best.as_ref().is_none_or(|(_, w)| written > *w) {
                best = Some((settings, written));
            }
        }
    }
    Ok(best)
}
