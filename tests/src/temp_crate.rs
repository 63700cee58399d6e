//! Real crates in temporary folders, built with real `cargo`. They all share one target
//! folder (not the outer `cargo test`'s, which that cargo keeps locked), so the
//! workspace crates they depend on build once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The target folder every temporary crate builds into.
pub fn shared_target() -> PathBuf {
    workspace().join("target").join("chakra-e2e")
}

/// A crate in a temporary folder, removed on drop.
#[derive(Debug)]
pub struct TempCrate {
    /// The package folder.
    pub dir: PathBuf,
    /// The package name.
    pub name: String,
}

/// What a cargo run printed.
#[derive(Debug)]
pub struct Run {
    /// Exit status was success.
    pub ok: bool,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The manifest of a temporary binary crate `name`: its `[dependencies]` lines (where
/// `RUNTIME` stands for the workspace's `migrations-runtime`), and `migrations-build` in
/// its build script.
pub fn manifest(name: &str, dependencies: &str) -> String {
    let path = TempCrate::path_to;
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{}\n\n[build-dependencies]\nmigrations-build = {{ path = {}, default-features = false }}\n\n[workspace]\n",
        dependencies.trim().replace("RUNTIME", &path("migrations-runtime")),
        path("migrations-build"),
    )
}

impl TempCrate {
    /// A binary crate depending on `migrations-runtime`, with `migrations-build` in its
    /// `build.rs`, and the given `src/models.rs`.
    pub fn new(prefix: &str, models: &str) -> TempCrate {
        let name = crate::db::unique_name(prefix);
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(dir.join("src")).expect("create temp crate");
        let manifest = manifest(&name, "migrations-runtime = { path = RUNTIME }");
        let krate = TempCrate { dir, name };
        krate.write("Cargo.toml", &manifest);
        krate.write("build.rs", "fn main() {\n    migrations_build::run();\n}\n");
        krate.write(
            "src/main.rs",
            r#"mod models;

pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();

/// Prints the SQLite SQL of every embedded migration, one statement per block.
fn main() {
    for (id, statements) in MIGRATIONS.sql(migrations_runtime::Dialect::Sqlite).expect("render") {
        println!("-- migration {id}");
        for s in statements {
            println!("{s}\n--");
        }
    }
}
"#,
        );
        krate.write("src/models.rs", models);
        krate
    }

    /// An application crate mounting the `migrate` command over its embedded migrations
    /// (`<binary> migrate ...`, the database in `DATABASE_URL`), on all three backends;
    /// `src/models.rs` holds `models` (none when empty). Dates come from `chrono`, JSON
    /// from `serde_json`.
    pub fn application(prefix: &str, models: &str) -> TempCrate {
        let krate = TempCrate::new(prefix, models);
        let dependencies = r#"
migrations-runtime = { path = RUNTIME, features = ["postgres", "mysql", "sqlite"] }
chrono = "0.4"
serde_json = "1"
clap = { version = "4", features = ["derive"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
"#;
        krate.write("Cargo.toml", &manifest(&krate.name, dependencies));
        let mut main = String::new();
        if models.is_empty() {
            std::fs::remove_file(krate.dir.join("src/models.rs")).expect("no models yet");
        } else {
            main.push_str("mod models;\n\n");
        }
        main.push_str(
            r#"use clap::Parser;

pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();

#[derive(Parser)]
enum Cli {
    /// Database migrations.
    #[command(subcommand)]
    Migrate(migrations_runtime::cli::MigrateCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Cli::Migrate(command) = Cli::parse();
    let url = std::env::var("DATABASE_URL").unwrap_or_default();
    command.run(&migrations_runtime::Migrator::new(&MIGRATIONS), &url).await
}
"#,
        );
        krate.write("src/main.rs", &main);
        krate
    }

    /// An empty folder for a workspace of several crates; `name` is the binary that
    /// [`TempCrate::run`] runs.
    pub fn workspace_folder(prefix: &str, name: &str) -> TempCrate {
        let dir = std::env::temp_dir().join(crate::db::unique_name(prefix));
        std::fs::create_dir_all(&dir).expect("create temp workspace");
        TempCrate { dir, name: name.to_string() }
    }

    /// A path dependency on the workspace crate `krate`, for a manifest.
    pub fn path_to(krate: &str) -> String {
        format!("{:?}", workspace().join(krate).display().to_string())
    }

    /// Runs the built binary with `args` and `envs`.
    pub fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        Command::new(shared_target().join("debug").join(&self.name))
            .args(args)
            .envs(envs.iter().copied())
            .output()
            .expect("run binary")
            .into()
    }

    /// Writes a file of the crate.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(path, text).expect("write file");
    }

    /// Reads a file of the crate.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// The migration files, sorted.
    pub fn migrations(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("migrations"))
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Runs `cargo <args>` in the crate with the shared target folder. `CI` is removed
    /// so the build's mode is what `envs` say.
    pub fn cargo(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args)
            .arg("--target-dir")
            .arg(shared_target())
            .current_dir(&self.dir)
            .env_remove("CI")
            .env_remove("CHAKRA_MODE")
            .env_remove("CHAKRA_SEAL")
            .env_remove("CARGO_TARGET_DIR");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run cargo").into()
    }

    /// `cargo build`.
    pub fn build(&self, envs: &[(&str, &str)]) -> Run {
        self.cargo(&["build", "-v"], envs)
    }

    /// Runs the built binary.
    pub fn run_binary(&self) -> Run {
        Command::new(shared_target().join("debug").join(&self.name)).output().expect("run binary").into()
    }

    /// Runs `cargo-chakra` (built from the workspace into the shared target) in the crate.
    pub fn chakra(&self, args: &[&str]) -> Run {
        let build: Run = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-q", "-p", "migrations-build", "--bin", "cargo-chakra", "--target-dir"])
            .arg(shared_target())
            .current_dir(workspace())
            .output()
            .expect("build cargo-chakra")
            .into();
        assert!(build.ok, "building cargo-chakra failed:\n{}", build.stderr);
        Command::new(shared_target().join("debug").join("cargo-chakra"))
            .arg("chakra")
            .args(args)
            .current_dir(&self.dir)
            .env_remove("CI")
            // Where this crate's builds are (it reads the settings build.rs last wrote).
            .env("CARGO_TARGET_DIR", shared_target())
            .output()
            .expect("run cargo-chakra")
            .into()
    }
}

impl Drop for TempCrate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
