//! `--anatomy`: what the compile cost of embedded migrations is made of.
//!
//! The compile-cost part compares a crate embedding 1,000 generated migrations with the
//! same crate on `sqlx::migrate!`. This part takes the same generated files and builds
//! crates that each differ from them in one thing, then rebuilds all of them in turns
//! after touching `main.rs`, as the compile-cost part does:
//!
//! - as generated, in a crate with the build script (what the compile-cost part measures:
//!   touching `main.rs` reruns the script, which reads `main.rs` for models);
//! - as generated, without the build script (the registry written once, by hand);
//! - without the two consts (`ID`, `DEPENDENCIES`; the registry carries them instead);
//! - with empty `up`/`down` bodies;
//! - with neither: a module and two empty functions per migration, the floor of any
//!   format with typed `up`/`down` functions;
//! - the generated crate as a library, and a binary that depends on it: the layout of
//!   an app whose models live in their own crate (`example-auth`);
//! - `sqlx::migrate!`, forward-only and reversible.

use std::time::Duration;

use chakra_tests::temp_crate::TempCrate;

use super::{embedding_crates, median, ms, rebuild_times, runtime_for_sqlite, Main};

/// What a variant keeps of each generated migration file.
#[derive(Clone, Copy)]
struct Shape {
    /// `pub const ID` and `pub const DEPENDENCIES`.
    consts: bool,
    /// The builder calls in `up` and `down`.
    bodies: bool,
}

/// One generated migration: its id, its file's text and what it depends on.
struct Generated {
    id: String,
    text: String,
    dependencies: Vec<String>,
}

/// The migrations of the generated crate, in order. The benchmark's migrations form a
/// chain, so each depends on the one before.
fn generated(ours: &TempCrate) -> Vec<Generated> {
    let mut previous: Option<String> = None;
    ours.migrations()
        .into_iter()
        .map(|file| {
            let id = file.trim_end_matches(".rs").to_string();
            let text = ours.read(&format!("migrations/{file}"));
            let dependencies = previous.replace(id.clone()).into_iter().collect();
            Generated { id, text, dependencies }
        })
        .collect()
}

/// `text` as `shape` keeps it.
fn reshape(text: &str, shape: Shape) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if !shape.consts && line.starts_with("pub const ") {
            continue;
        }
        if !shape.bodies && line.starts_with("pub fn ") && line.ends_with('{') {
            // `pub fn up(m: &mut Migration) {` … `}` becomes `pub fn up(_m: &mut Migration) {}`.
            out.push_str(&line.replacen("(m:", "(_m:", 1));
            out.push_str("}\n");
            lines.by_ref().take_while(|l| *l != "}").for_each(drop);
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A crate with no build script whose `src/registry.rs` embeds `migrations` reshaped.
fn variant(migrations: &[Generated], shape: Shape) -> TempCrate {
    let krate = folder_crate("bench_shape");
    krate.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{}\n[workspace]\n",
            krate.name,
            runtime_for_sqlite()
        ),
    );
    let mut registry = String::from("{\n");
    for m in migrations {
        let path = krate.dir.join("migrations").join(format!("{}.rs", m.id));
        krate.write(&format!("migrations/{}.rs", m.id), &reshape(&m.text, shape));
        registry.push_str(&format!(
            "    #[allow(dead_code, unused_imports, missing_docs, clippy::all)]\n    mod m_{} {{\n        include!({:?});\n    }}\n",
            m.id,
            path.display().to_string()
        ));
    }
    registry.push_str("    ::migrations_runtime::Migrations {\n        app: \"bench\",\n        migrations: &[\n");
    for m in migrations {
        let (id, dependencies) = if shape.consts {
            (format!("m_{}::ID", m.id), format!("m_{}::DEPENDENCIES", m.id))
        } else {
            (format!("{:?}", m.id), format!("&{:?}", m.dependencies))
        };
        registry.push_str(&format!(
            "            ::migrations_runtime::EmbeddedMigration {{ id: {id}, dependencies: {dependencies}, replaces: &[], checksum: \"\", draft: false, up: m_{0}::up, down: m_{0}::down }},\n",
            m.id
        ));
    }
    registry.push_str("        ],\n        snapshot: \"\",\n    }\n}\n");
    krate.write("src/registry.rs", &registry);
    krate.write(
        "src/main.rs",
        "pub static MIGRATIONS: migrations_runtime::Migrations = include!(\"registry.rs\");\nfn main() { println!(\"{}\", MIGRATIONS.migrations.len()); }\n",
    );
    krate
}

/// The generated crate as a library (build script and all), and a binary depending on
/// it; the binary is the crate that is rebuilt.
fn library_layout(ours: &TempCrate) -> (TempCrate, TempCrate) {
    let library = TempCrate::new("bench_lib", "");
    library.write("Cargo.toml", &ours.read("Cargo.toml").replace(&ours.name, &library.name));
    let _ = std::fs::remove_file(library.dir.join("src/main.rs"));
    library.write(
        "src/lib.rs",
        "pub static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::embed_migrations!();\n",
    );
    for file in ours.migrations() {
        library.write(&format!("migrations/{file}"), &ours.read(&format!("migrations/{file}")));
    }
    library.write(".chakra/snapshot.toml", &ours.read(".chakra/snapshot.toml"));
    let binary = folder_crate("bench_app");
    binary.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{} = {{ path = {:?} }}\n\n[workspace]\n",
            binary.name,
            library.name,
            library.dir.display().to_string()
        ),
    );
    binary.write(
        "src/main.rs",
        &format!("fn main() {{ println!(\"{{}}\", {}::MIGRATIONS.migrations.len()); }}\n", library.name),
    );
    (library, binary)
}

/// An empty folder for a crate, the package named after the folder.
fn folder_crate(prefix: &str) -> TempCrate {
    let mut krate = TempCrate::workspace_folder(prefix, "");
    krate.name = krate.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    krate
}

/// Builds the crates, rebuilds them in turns and prints what each costs.
pub(crate) fn anatomy(count: usize, runs: usize) {
    const OFF: &[(&str, &str)] = &[("CHAKRA_MODE", "off")];
    let (ours, theirs, reversible) = embedding_crates(count, Main::Count);
    let migrations = generated(&ours);
    let shape = |consts, bodies| variant(&migrations, Shape { consts, bodies });
    let (as_generated, no_consts, empty_bodies, floor) =
        (shape(true, true), shape(false, true), shape(true, false), shape(false, false));
    let (_library, binary) = library_layout(&ours);
    let rows: [(&str, &TempCrate); 8] = [
        ("as generated, with the build script", &ours),
        ("as generated, no build script", &as_generated),
        ("  without ID and DEPENDENCIES", &no_consts),
        ("  with empty up/down bodies", &empty_bodies),
        ("  neither (module + two empty fns)", &floor),
        ("in a library, binary rebuilt", &binary),
        ("sqlx::migrate!, forward-only", &theirs),
        ("sqlx::migrate!, reversible", &reversible),
    ];
    let crates: Vec<(&TempCrate, &[(&str, &str)])> = rows.iter().map(|(_, k)| (*k, OFF)).collect();
    let times: Vec<Duration> = rebuild_times(&crates, runs).into_iter().map(median).collect();
    let sqlx = times[6].as_secs_f64();
    let generated = times[1].as_secs_f64();
    println!("\nwhat the compile cost of {count} migrations is made of: rebuild after touching main.rs (median of {runs}, interleaved)");
    for ((what, _), t) in rows.iter().zip(&times) {
        println!(
            "  {what:<40} {:>9}  {:.2}x forward-only sqlx  {:+.3} ms a migration vs as generated without the script",
            ms(*t),
            t.as_secs_f64() / sqlx.max(1e-9),
            (t.as_secs_f64() - generated) * 1000.0 / count as f64
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{reshape, Shape};

    const FILE: &str = "// header\n\nuse migrations_runtime::schema::*;\n\npub const ID: &str = \"0002_a\";\npub const DEPENDENCIES: &[&str] = &[\"0001_b\"];\n\npub fn up(m: &mut Migration) {\n    m.rename_model(\"a\", \"b\");\n}\n\npub fn down(m: &mut Migration) {\n    m.rename_model(\"b\", \"a\");\n}\n";

    #[test]
    fn reshaping_drops_the_consts_or_the_bodies() {
        assert_eq!(reshape(FILE, Shape { consts: true, bodies: true }), FILE);
        let floor = reshape(FILE, Shape { consts: false, bodies: false });
        assert_eq!(
            floor,
            "// header\n\nuse migrations_runtime::schema::*;\n\n\npub fn up(_m: &mut Migration) {}\n\npub fn down(_m: &mut Migration) {}\n"
        );
    }
}
