//! The builder: where things are, and what the build may do.

use std::path::PathBuf;

use migrations_core::Dialect;

/// What a build does when the models changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write (or rewrite) the draft migration. The default on a developer machine.
    Auto,
    /// Write nothing; fail the build if the models have changes no sealed migration
    /// covers. The default when `CI` is set, like `makemigrations --check`.
    Check,
    /// Write nothing and check nothing (the registry is still written).
    Off,
}

impl Mode {
    /// Parses `auto`, `check` or `off`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Mode::Auto),
            "check" => Some(Mode::Check),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

/// Configuration of the build helper. Every setter has a sensible default; the common
/// case is [`crate::generate`] with none of them.
///
/// ```no_run
/// // in build.rs's `fn main`
/// migrations_build::Config::new()
///     .migrations_dir("db/migrations")
///     .app("blog")
///     .dialects(&[migrations_core::Dialect::Postgres])
///     .run();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub(crate) manifest_dir: Option<PathBuf>,
    pub(crate) model_roots: Vec<PathBuf>,
    pub(crate) migrations_dir: Option<PathBuf>,
    pub(crate) snapshot_dir: Option<PathBuf>,
    pub(crate) out_dir: Option<PathBuf>,
    pub(crate) mode: Option<Mode>,
    pub(crate) app: Option<String>,
    pub(crate) dialects: Option<Vec<Dialect>>,
    pub(crate) seal: Option<Option<String>>,
    pub(crate) cargo_output: Option<bool>,
}

impl Config {
    /// The defaults: the crate of `CARGO_MANIFEST_DIR`, `migrations/`, `.chakra/`, the
    /// mode from `CHAKRA_MODE` (else `check` under `CI`, else `auto`), the crate name as
    /// app label, all three dialects.
    pub fn new() -> Self {
        Self::default()
    }

    /// The package directory (default: `CARGO_MANIFEST_DIR`).
    pub fn manifest_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.manifest_dir = Some(dir.into());
        self
    }

    /// Reads models from this file's module tree instead of the crate's lib and bin
    /// roots. May be given several times. Relative paths are relative to the package.
    pub fn models(&mut self, root: impl Into<PathBuf>) -> &mut Self {
        self.model_roots.push(root.into());
        self
    }

    /// Where migration modules live (default: `migrations/` in the package).
    pub fn migrations_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.migrations_dir = Some(dir.into());
        self
    }

    /// Where `snapshot.toml` lives (default: `.chakra/` in the package).
    pub fn snapshot_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.snapshot_dir = Some(dir.into());
        self
    }

    /// Where the registry `chakra_migrations.rs` is written (default: `OUT_DIR`).
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The mode, unless `CHAKRA_MODE` says otherwise.
    pub fn mode(&mut self, mode: Mode) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// The app label recorded with each applied migration (default: the crate name).
    pub fn app(&mut self, app: impl Into<String>) -> &mut Self {
        self.app = Some(app.into());
        self
    }

    /// The databases the migrations must work on (default: all three). What one of
    /// them cannot do is refused at build time.
    pub fn dialects(&mut self, dialects: &[Dialect]) -> &mut Self {
        self.dialects = Some(dialects.to_vec());
        self
    }

    /// Seals the pending change as a migration (named from the change, or `name`),
    /// instead of writing a draft. `CHAKRA_SEAL=<name>` on `cargo build` does the same.
    pub fn seal(&mut self, name: Option<&str>) -> &mut Self {
        self.seal = Some(name.map(str::to_string));
        self
    }

    /// Whether to print `cargo:` lines (default: when running inside a build script).
    pub fn cargo_output(&mut self, on: bool) -> &mut Self {
        self.cargo_output = Some(on);
        self
    }

    /// Runs the helper; on failure prints the error for people and exits the build
    /// script with status 1. This is what a `build.rs` calls.
    pub fn run(&self) {
        if let Err(e) = self.generate() {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
