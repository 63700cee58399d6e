//! Benchmark of the build helper (prints numbers; not a test). For crates of 10, 100
//! and 1,000 models of 10 fields (10 models per file), in the default profile and with
//! `[profile.dev.build-override] opt-level = 3`, median of several runs:
//!
//! - the build script's own time when one model file of many changed;
//! - its time on a cold cache, next to a bare `syn::parse_file` of the same sources
//!   (the same build-script binary, told to parse only);
//! - a no-change `cargo build` with the build script present and absent;
//! - how many `cargo build`s compile the crate after one model edit before it is Fresh;
//! - the compile cost of 1,000 embedded generated migrations next to `sqlx::migrate!`
//!   over 1,000 equivalent SQL files: the rebuild after touching `main.rs`, with the
//!   crates taking turns, in a binary that counts its migrations (the target's measure)
//!   and in one that applies them on boot, each next to the same crate with none, and
//!   next to reversible sqlx migrations (`.up.sql` + `.down.sql`, what a generated
//!   migration carries). Each crate takes only the features it uses (SQLite; for ours,
//!   no `cli`).
//!
//! `cargo run --release -p chakra-tests --bin bench_build -- [--models 10,100,1000] [--runs 7] [--skip-compile] [--keep]`
//! (`--keep` builds the crates, leaves them in place and prints where, for profiling by hand).
//!
//! `... --bin bench_build -- --anatomy [--runs 7]` prints instead what the compile cost of
//! 1,000 generated migrations is made of (see `anatomy.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chakra_tests::temp_crate::{workspace, TempCrate};

mod anatomy;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn model_file(file: usize, per_file: usize, extra_field: bool) -> String {
    let mut s = String::from("use migrations_runtime::Model;\n\n");
    for i in 0..per_file {
        let n = file * per_file + i;
        s.push_str(&format!(
            "/// Model number {n}.\n#[derive(Model)]\npub struct Thing{n} {{\n    #[model(primary_key, auto_increment)]\n    pub id: i64,\n    #[model(max_length = 100)]\n    pub name: String,\n    pub description: Option<String>,\n    #[model(default = 0)]\n    pub count: i32,\n    #[model(default = true)]\n    pub active: bool,\n    pub score: f64,\n    #[model(max_length = 20, index)]\n    pub code: String,\n    pub created: i64,\n    pub small: i16,\n    pub note: Option<String>,\n"
        ));
        if extra_field && i == 0 {
            s.push_str("    pub extra: Option<i32>,\n");
        }
        s.push_str("}\n\n");
    }
    s
}

const BUILD_RS: &str = r#"fn main() {
    if let Ok(dir) = std::env::var("CHAKRA_BENCH_PARSE_ONLY") {
        // Bare `syn::parse_file` of the same sources (every file under `src`), in the
        // same profile.
        let mut folders = vec![std::path::PathBuf::from(dir)];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    syn::parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
                }
            }
        }
        return;
    }
    migrations_build::run();
}
"#;

struct Bench {
    krate: TempCrate,
    files: usize,
    per_file: usize,
}

impl Bench {
    fn new(models: usize, opt3: bool) -> Bench {
        let per_file = models.min(10);
        let files = models / per_file;
        let krate = TempCrate::new(if opt3 { "bench_opt3" } else { "bench" }, "pub mod things;\n");
        let mut manifest = krate.read("Cargo.toml").replace(
            "[build-dependencies]\n",
            "[build-dependencies]\nsyn = { version = \"2\", features = [\"full\"] }\n",
        );
        if opt3 {
            manifest.push_str("\n[profile.dev.build-override]\nopt-level = 3\n");
        }
        krate.write("Cargo.toml", &manifest);
        krate.write("build.rs", BUILD_RS);
        let mods: String = (0..files).map(|f| format!("pub mod m{f};\n")).collect();
        krate.write("src/models/things/mod.rs", &mods);
        krate.write("src/models.rs", "pub mod things;\n");
        for f in 0..files {
            krate.write(&format!("src/models/things/m{f}.rs"), &model_file(f, per_file, false));
        }
        Bench { krate, files, per_file }
    }

    fn build(&self, envs: &[(&str, &str)]) {
        let run = self.krate.cargo(&["build", "-q"], envs);
        assert!(run.ok, "build failed:\n{}", run.stderr);
    }

    /// The build-script binary and the OUT_DIR cargo gave it.
    fn script(&self) -> (PathBuf, PathBuf) {
        let build_dir = chakra_tests::temp_crate::shared_target().join("debug").join("build");
        let mut exe = None;
        let mut out = None;
        for e in std::fs::read_dir(&build_dir).expect("build dir").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&format!("{}-", self.krate.name)) {
                continue;
            }
            if e.path().join("build-script-build").is_file() {
                exe = Some(e.path().join("build-script-build"));
            }
            if e.path().join("out").join("chakra_migrations.rs").is_file() {
                out = Some(e.path().join("out"));
            }
        }
        (exe.expect("build script binary"), out.expect("OUT_DIR"))
    }

    /// The build script, run as cargo runs it, with `extra` variables.
    fn script_command(&self, extra: &[(&str, &str)]) -> Command {
        let (exe, out) = self.script();
        let mut cmd = Command::new(exe);
        cmd.env("CARGO_MANIFEST_DIR", &self.krate.dir)
            .env("OUT_DIR", out)
            .env("CARGO_PKG_NAME", &self.krate.name)
            .env_remove("CI")
            .env_remove("CHAKRA_MODE");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    /// What the build script says of its phases (`CHAKRA_TIMING`).
    fn phases(&self) -> String {
        let o = self.script_command(&[("CHAKRA_TIMING", "1")]).output().expect("run build script");
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    fn run_script(&self, extra: &[(&str, &str)]) -> Duration {
        let mut cmd = self.script_command(extra);
        let start = Instant::now();
        let output = cmd.output().expect("run build script");
        let took = start.elapsed();
        assert!(output.status.success(), "build script failed:\n{}", String::from_utf8_lossy(&output.stderr));
        took
    }

    fn one_file_changed(&self, runs: usize) -> Duration {
        let target = self.files / 2;
        let mut times = Vec::new();
        for i in 0..runs {
            let changed = i % 2 == 0;
            self.krate.write(&format!("src/models/things/m{target}.rs"), &model_file(target, self.per_file, changed));
            times.push(self.run_script(&[]));
        }
        self.krate.write(&format!("src/models/things/m{target}.rs"), &model_file(target, self.per_file, false));
        self.run_script(&[]);
        median(times)
    }

    fn cold(&self, runs: usize) -> (Duration, Duration) {
        let (_, out) = self.script();
        let mut helper = Vec::new();
        let mut bare = Vec::new();
        let dir = self.krate.dir.join("src");
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(out.join("chakra-cache"));
            helper.push(self.run_script(&[]));
            bare.push(self.run_script(&[("CHAKRA_BENCH_PARSE_ONLY", dir.to_str().unwrap_or_default())]));
        }
        (median(helper), median(bare))
    }

    /// How many `cargo build`s compile the crate after one model edit before cargo says
    /// Fresh (the build that writes the draft should be the only one).
    fn compiles_after_an_edit(&self) -> usize {
        let target = self.files / 2;
        let file = format!("src/models/things/m{target}.rs");
        let fresh = |run: &chakra_tests::temp_crate::Run| run.stderr.contains(&format!("Fresh {}", self.krate.name));
        let until_fresh = || {
            let mut compiles = 0;
            for _ in 0..5 {
                let run = self.krate.cargo(&["build", "-v"], &[]);
                assert!(run.ok, "build failed:\n{}", run.stderr);
                if fresh(&run) {
                    break;
                }
                compiles += 1;
            }
            compiles
        };
        until_fresh();
        self.krate.write(&file, &model_file(target, self.per_file, true));
        let compiles = until_fresh();
        self.krate.write(&file, &model_file(target, self.per_file, false));
        until_fresh();
        compiles
    }

    fn no_change_build(&self, runs: usize) -> Duration {
        self.build(&[]);
        self.build(&[]);
        median((0..runs).map(|_| time(|| self.build(&[])).1).collect())
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

/// The same crate without the build script (and without embedded migrations).
fn no_change_without_script(bench: &Bench, runs: usize) -> Duration {
    let plain = TempCrate::new("bench_plain", "pub mod things;\n");
    let manifest = plain.read("Cargo.toml");
    let manifest =
        manifest[..manifest.find("[build-dependencies]").unwrap_or(manifest.len())].to_string() + "\n[workspace]\n";
    plain.write("Cargo.toml", &manifest);
    let _ = std::fs::remove_file(plain.dir.join("build.rs"));
    plain.write("src/main.rs", "mod models;\nfn main() {}\n");
    copy_dir(&bench.krate.dir.join("src/models"), &plain.dir.join("src/models"));
    plain.write("src/models.rs", "pub mod things;\n");
    let build = || {
        let run = plain.cargo(&["build", "-q"], &[]);
        assert!(run.ok, "{}", run.stderr);
    };
    build();
    build();
    median((0..runs).map(|_| time(build).1).collect())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// What the benchmark's binaries do with their migrations.
#[derive(Clone, Copy, PartialEq)]
enum Main {
    /// Print how many there are (the issue's benchmark: the migrations and little else).
    Count,
    /// Apply them to an in-memory SQLite database on boot, as an application does.
    Apply,
}

impl Main {
    /// `src/main.rs` of the crate with `embed_migrations!()`.
    fn ours(self) -> &'static str {
        if self == Main::Apply {
            OURS_APPLY
        } else {
            OURS_COUNT
        }
    }

    /// `src/main.rs` of the crate with `sqlx::migrate!`.
    fn theirs(self) -> &'static str {
        if self == Main::Apply {
            THEIRS_APPLY
        } else {
            THEIRS_COUNT
        }
    }

    /// What both crates need besides their migration library.
    fn extra_dependencies(self) -> &'static str {
        if self == Main::Apply {
            TOKIO
        } else {
            ""
        }
    }
}

const OURS_COUNT: &str = "pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();\nfn main() { println!(\"{}\", MIGRATIONS.migrations.len()); }\n";
const OURS_APPLY: &str = "pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();\n\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let mut conn = migrations_runtime::AnyConnection::connect(\"sqlite::memory:\").await.expect(\"connect\");\n    let steps = migrations_runtime::Migrator::new(&MIGRATIONS).apply(&mut conn).await.expect(\"apply\");\n    println!(\"{}\", steps.len());\n}\n";
const THEIRS_COUNT: &str = "static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();\nfn main() { println!(\"{}\", MIGRATOR.iter().count()); }\n";
const THEIRS_APPLY: &str = "use sqlx::Connection;\n\nstatic MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();\n\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let mut conn = sqlx::SqliteConnection::connect(\"sqlite::memory:\").await.expect(\"connect\");\n    MIGRATOR.run_direct(&mut conn).await.expect(\"migrate\");\n    println!(\"{}\", MIGRATOR.iter().count());\n}\n";
const TOKIO: &str = "tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n";

/// The manifest line of `migrations-runtime` for a crate that uses SQLite and no CLI.
fn runtime_for_sqlite() -> String {
    format!(
        "migrations-runtime = {{ default-features = false, features = [\"sqlite\"], path = {:?} }}\n",
        workspace().join("migrations-runtime").display().to_string()
    )
}

/// The same crate with `sqlx::migrate!` over a `migrations` folder.
fn sqlx_crate(main: Main) -> TempCrate {
    let theirs = TempCrate::new("bench_sqlx", "");
    let manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nsqlx = {{ version = \"0.8\", default-features = false, features = [\"migrate\", \"macros\", \"sqlite\", \"runtime-tokio\"] }}\n{}\n[workspace]\n",
        theirs.name,
        main.extra_dependencies()
    );
    theirs.write("Cargo.toml", &manifest);
    let _ = std::fs::remove_file(theirs.dir.join("build.rs"));
    theirs.write("src/main.rs", main.theirs());
    // The macro wants the folder to exist, empty or not.
    std::fs::create_dir_all(theirs.dir.join("migrations")).expect("migrations folder");
    theirs
}

/// A crate embedding `count` generated migrations with `embed_migrations!()`; the same
/// crate with `sqlx::migrate!` over the same migrations rendered as SQLite files, forward
/// only; and again as reversible sqlx migrations (`.up.sql` and `.down.sql`), which is
/// what a generated migration is (it always carries its `down`).
fn embedding_crates(count: usize, main: Main) -> (TempCrate, TempCrate, TempCrate) {
    use migrations_core::{Dialect, Schema};
    let ours = TempCrate::new("bench_embed", "");
    ours.write("src/main.rs", main.ours());
    ours.write("src/models.rs", "");
    // Each side takes only the features it uses, as the sqlx crates do: SQLite, no CLI.
    let manifest: String = ours
        .read("Cargo.toml")
        .lines()
        .map(|line| if line.starts_with("migrations-runtime = ") { runtime_for_sqlite() } else { format!("{line}\n") })
        .collect::<String>()
        .replace("[build-dependencies]", &format!("{}\n[build-dependencies]", main.extra_dependencies()));
    ours.write("Cargo.toml", &manifest);
    std::fs::create_dir_all(ours.dir.join("migrations")).expect("migrations folder");
    let theirs = sqlx_crate(main);
    let reversible = sqlx_crate(main);
    let mut schema = Schema::new();
    for i in 0..count {
        let (id, ops, module) = chakra_tests::bench_support::generated(i);
        ours.write(&format!("migrations/{id}.rs"), &module);
        let (sql, after) = migrations_core::render::render_all(&ops, &schema, Dialect::Sqlite).expect("sql");
        let back: Vec<_> = ops.iter().rev().map(|op| op.reverse().expect("reversible")).collect();
        let (back_sql, _) = migrations_core::render::render_all(&back, &after, Dialect::Sqlite).expect("sql");
        schema = after;
        let script = |statements: Vec<String>| statements.join(";\n") + ";\n";
        theirs.write(&format!("migrations/{id}.sql"), &script(sql.clone()));
        reversible.write(&format!("migrations/{id}.up.sql"), &script(sql));
        reversible.write(&format!("migrations/{id}.down.sql"), &script(back_sql));
    }
    if count > 0 {
        ours.write(".chakra/snapshot.toml", &migrations_core::snapshot::to_toml(&schema));
    }
    (ours, theirs, reversible)
}

/// Every rebuild time of each crate after rewriting its `main.rs` unchanged; the crates
/// take turns, so a drift of the machine falls on all of them alike.
fn rebuild_times(crates: &[(&TempCrate, &[(&str, &str)])], runs: usize) -> Vec<Vec<Duration>> {
    for (k, envs) in crates {
        // Twice: the first build's writes make the build script rerun once more.
        for _ in 0..2 {
            let warm = k.cargo(&["build", "-q"], envs);
            assert!(warm.ok, "{}: {}", k.name, warm.stderr);
        }
    }
    let mut times = vec![Vec::new(); crates.len()];
    for _ in 0..runs {
        for (i, (k, envs)) in crates.iter().enumerate() {
            let main = k.read("src/main.rs");
            k.write("src/main.rs", &main);
            times[i].push(time(|| assert!(k.cargo(&["build", "-q"], envs).ok)).1);
        }
    }
    times
}

/// 1,000 generated migrations embedded vs `sqlx::migrate!` over the same SQL (forward
/// only, and reversible), in two binaries: one that only counts them (the target's
/// measure) and one that applies them on boot; each next to the same crate with none.
fn compile_cost(count: usize, runs: usize, keep: bool) {
    const OFF: &[(&str, &str)] = &[("CHAKRA_MODE", "off")];
    for main in [Main::Count, Main::Apply] {
        let (ours, theirs, reversible) = embedding_crates(count, main);
        let (ours0, theirs0, _) = embedding_crates(0, main);
        let all =
            rebuild_times(&[(&ours, OFF), (&theirs, &[]), (&ours0, OFF), (&theirs0, &[]), (&reversible, &[])], runs);
        // The fastest run as well: I/O wait on a busy machine falls harder on our crate,
        // which writes more incremental state per rebuild.
        let fastest: Vec<Duration> = all.iter().map(|v| v.iter().copied().min().unwrap_or_default()).collect();
        let t: Vec<Duration> = all.into_iter().map(median).collect();
        let what = if main == Main::Count { "binary counts its migrations" } else { "binary applies them on boot" };
        println!("  {what}: rebuild after touching main.rs (median of {runs}, interleaved)");
        println!(
            "    chakra embed_migrations!: {} with {count} migrations, {} with none (+{:.3} ms a migration)",
            ms(t[0]),
            ms(t[2]),
            (t[0].as_secs_f64() - t[2].as_secs_f64()) * 1000.0 / count as f64
        );
        println!(
            "    sqlx::migrate!:           {} with {count} migrations, {} with none (+{:.3} ms a migration)",
            ms(t[1]),
            ms(t[3]),
            (t[1].as_secs_f64() - t[3].as_secs_f64()) * 1000.0 / count as f64
        );
        println!(
            "    sqlx, reversible (.up.sql + .down.sql): {} with {count} migrations (+{:.3} ms a migration)",
            ms(t[4]),
            (t[4].as_secs_f64() - t[3].as_secs_f64()) * 1000.0 / count as f64
        );
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        println!(
            "    ratio with {count}: {:.2}x forward-only sqlx, {:.2}x reversible sqlx",
            ratio(t[0], t[1]),
            ratio(t[0], t[4])
        );
        println!(
            "    fastest runs: {} vs {} forward-only ({:.2}x), {} reversible ({:.2}x)",
            ms(fastest[0]),
            ms(fastest[1]),
            ratio(fastest[0], fastest[1]),
            ms(fastest[4]),
            ratio(fastest[0], fastest[4])
        );
        if keep {
            println!("    kept: {} {}", ours.dir.display(), theirs.dir.display());
            std::mem::forget((ours, theirs));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let sizes: Vec<usize> =
        arg("--models").unwrap_or_else(|| "10,100,1000".into()).split(',').filter_map(|s| s.parse().ok()).collect();
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(7);
    if args.iter().any(|a| a == "--anatomy") {
        anatomy::anatomy(1000, runs);
        return;
    }
    println!(
        "machine: {} cores; workspace {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        workspace().display()
    );
    for opt3 in [false, true] {
        println!(
            "\nprofile: {}",
            if opt3 { "[profile.dev.build-override] opt-level = 3" } else { "default (build scripts at opt-level 0)" }
        );
        for &n in &sizes {
            let bench = Bench::new(n, opt3);
            bench.build(&[]);
            bench.build(&[("CHAKRA_SEAL", "initial")]);
            bench.build(&[]);
            if args.iter().any(|a| a == "--timing") {
                let _ = std::fs::remove_dir_all(bench.script().1.join("chakra-cache"));
                println!("  cold phases ({n} models):\n{}", bench.phases());
                let target = bench.files / 2;
                let file = format!("src/models/things/m{target}.rs");
                bench.krate.write(&file, &model_file(target, bench.per_file, true));
                println!("  one-file-changed phases ({n} models):\n{}", bench.phases());
                bench.krate.write(&file, &model_file(target, bench.per_file, false));
                bench.run_script(&[]);
            }
            if args.iter().any(|a| a == "--keep") {
                let (exe, out) = bench.script();
                println!(
                    "  kept {n} models: {} (build script {}, OUT_DIR {})",
                    bench.krate.dir.display(),
                    exe.display(),
                    out.display()
                );
                std::mem::forget(bench);
                continue;
            }
            let changed = bench.one_file_changed(runs);
            // (Short runs, so more of them: the median of a few milliseconds moves with the machine.)
            let (cold, bare) = bench.cold(runs.max(21));
            let with_script = bench.no_change_build(runs);
            let without = no_change_without_script(&bench, runs);
            let compiles = bench.compiles_after_an_edit();
            println!(
                "  {n:>5} models: one file changed {}; cold cache {} vs bare syn::parse_file {} ({:.2}x); no-change cargo build {} with script, {} without; compiles after one model edit until Fresh: {compiles}",
                ms(changed),
                ms(cold),
                ms(bare),
                cold.as_secs_f64() / bare.as_secs_f64().max(1e-9),
                ms(with_script),
                ms(without)
            );
        }
    }
    if !args.iter().any(|a| a == "--skip-compile") {
        println!("\ncompile cost of embedded migrations:");
        compile_cost(1000, runs, args.iter().any(|a| a == "--keep"));
    }
}
