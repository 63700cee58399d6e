//! Walks the README's five-minute tutorial literally, on a copy of the example workspace
//! (`example-auth` + `example-app`) in a temporary folder, so the README cannot drift
//! from what the product prints.
//!
//! Between `<!-- tutorial -->` and `<!-- /tutorial -->`:
//! - a `console` block is run line by line: `$ cmd` runs `cmd`; the lines after it are
//!   output that must appear, in order, in what the command printed (stdout and stderr;
//!   other lines may come between them, written `...` for readers). Digits are compared
//!   as "some number", so times and dates may differ.
//! - a `diff` block is applied to the file named last (in backticks) in the prose before
//!   it: its context and `-` lines must be found once and are replaced by its context and
//!   `+` lines.

use std::path::{Path, PathBuf};
use std::process::Command;

use chakra_tests::temp_crate::{shared_target, workspace, Run, TempCrate};

#[derive(Debug)]
enum Step {
    Run { command: String, expected: Vec<String> },
    Edit { file: String, before: String, after: String },
}

/// The tutorial's steps, read from the README.
fn steps(readme: &str) -> Vec<Step> {
    let start = readme.find("<!-- tutorial -->").expect("README has a <!-- tutorial --> section");
    let end = readme.find("<!-- /tutorial -->").expect("README closes the tutorial section");
    let mut steps = Vec::new();
    let mut lines = readme[start..end].lines();
    let mut last_file = None::<String>;
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let block: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
            match lang {
                "console" => {
                    for l in block {
                        match l.strip_prefix("$ ") {
                            Some(cmd) => steps.push(Step::Run { command: cmd.to_string(), expected: Vec::new() }),
                            None if l == "..." => {}
                            None => match steps.last_mut() {
                                Some(Step::Run { expected, .. }) => expected.push(l.to_string()),
                                _ => panic!("output line before any command: {l}"),
                            },
                        }
                    }
                }
                "diff" => {
                    let side = |keep: char| {
                        block
                            .iter()
                            .filter(|l| l.starts_with(' ') || l.starts_with(keep) || l.is_empty())
                            .map(|l| l.get(1..).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    let file = last_file.clone().expect("a diff block follows the name of the file it changes");
                    steps.push(Step::Edit { file, before: side('-'), after: side('+') });
                }
                _ => {}
            }
        } else {
            // The last `path` written in backticks names the file a diff changes.
            for (i, part) in line.split('`').enumerate() {
                if i % 2 == 1 && part.contains('/') && part.ends_with(".rs") {
                    last_file = Some(part.to_string());
                }
            }
        }
    }
    steps
}

/// Digits compared as "some number"; trailing spaces ignored.
fn normalized(line: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in line.trim_end().chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// Copies the example workspace (its two crates, the lock file, a workspace manifest
/// whose path dependencies point back at this checkout) into `root`.
fn copy_example(root: &Path) {
    let ws = workspace();
    for krate in ["example-auth", "example-app"] {
        copy_dir(&ws.join(krate), &root.join(krate));
    }
    std::fs::copy(ws.join("Cargo.lock"), root.join("Cargo.lock")).expect("copy Cargo.lock");
    let manifest = std::fs::read_to_string(ws.join("Cargo.toml")).expect("read workspace manifest");
    let members_start = manifest.find("members = [").expect("members");
    let members_end = members_start + manifest[members_start..].find(']').expect("members end") + 1;
    let manifest = format!(
        "{}members = [\"example-auth\", \"example-app\"]{}",
        &manifest[..members_start],
        &manifest[members_end..]
    )
    .replace("path = \"migrations-", &format!("path = \"{}/migrations-", ws.display()));
    std::fs::write(root.join("Cargo.toml"), manifest).expect("write workspace manifest");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder").flatten() {
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with("example.db") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy file");
        }
    }
}

/// Runs one tutorial command in `cwd` (which `cd` changes).
fn run(command: &str, cwd: &mut PathBuf) -> Run {
    let words: Vec<&str> = command.split_whitespace().collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = match words.as_slice() {
        ["cd", dir] => {
            *cwd = cwd.join(dir);
            assert!(cwd.is_dir(), "`{command}`: no folder {}", cwd.display());
            return Run { ok: true, stdout: String::new(), stderr: String::new() };
        }
        ["cargo", "install", "--path", path] => {
            // Not installed into ~/.cargo here: the same binary is built into the shared target.
            assert!(workspace().join(path).join("Cargo.toml").is_file(), "`{command}`: no crate at {path}");
            let build = Command::new(&cargo)
                .args(["build", "-q", "-p", "migrations-build", "--bin", "cargo-chakra", "--target-dir"])
                .arg(shared_target())
                .current_dir(workspace())
                .output()
                .expect("build cargo-chakra");
            assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
            return Run { ok: true, stdout: String::new(), stderr: String::new() };
        }
        ["cargo", "chakra", rest @ ..] => Command::new(shared_target().join("debug").join("cargo-chakra"))
            .arg("chakra")
            .args(rest)
            .current_dir(&*cwd)
            .output(),
        ["cargo", rest @ ..] => Command::new(&cargo)
            .args(rest)
            .current_dir(&*cwd)
            .env("CARGO_TARGET_DIR", shared_target())
            .env_remove("CI")
            .env_remove("CHAKRA_MODE")
            .env_remove("CHAKRA_SEAL")
            .env_remove("DATABASE_URL")
            .output(),
        ["head", "-n", n, file] => {
            let text = std::fs::read_to_string(cwd.join(file)).unwrap_or_else(|e| panic!("`{command}`: {e}"));
            let n: usize = n.parse().expect("head -n N");
            let stdout = text.lines().take(n).map(|l| format!("{l}\n")).collect();
            return Run { ok: true, stdout, stderr: String::new() };
        }
        _ => panic!("the tutorial test does not know how to run `{command}`; teach it in tests/tests/tutorial.rs"),
    };
    output.unwrap_or_else(|e| panic!("`{command}`: {e}")).into()
}

#[test]
fn the_readme_tutorial_works_as_written() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("read README.md");
    let steps = steps(&readme);
    assert!(steps.len() >= 8, "the tutorial has too few steps: {steps:?}");

    let temp = TempCrate::workspace_folder("tutorial", "example-app");
    copy_example(&temp.dir);
    let mut cwd = temp.dir.clone();
    let mut transcript = String::new();
    for step in &steps {
        match step {
            Step::Run { command, expected } => {
                let out = run(command, &mut cwd);
                let printed = format!("{}{}", out.stdout, out.stderr);
                transcript.push_str(&format!("$ {command}\n{printed}"));
                assert!(out.ok, "`{command}` failed:\n{printed}");
                let mut actual = printed.lines().map(normalized);
                for line in expected {
                    let want = normalized(line);
                    assert!(
                        actual.any(|got| got == want),
                        "`{command}` did not print, in order, the README's line\n  {line}\nIt printed:\n{printed}"
                    );
                }
            }
            Step::Edit { file, before, after } => {
                let path = cwd.join(file);
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(text.matches(before.as_str()).count(), 1, "{file} does not hold, once:\n{before}");
                std::fs::write(&path, text.replace(before.as_str(), after)).expect("edit");
                transcript.push_str(&format!("(edited {file})\n"));
            }
        }
    }
    println!("{transcript}");
}

/// The fenced blocks of kind `lang` in the README's section `heading`, in order.
fn blocks(readme: &str, heading: &str, lang: &str) -> Vec<String> {
    let section = readme.split(heading).nth(1).expect("the section").split("\n## ").next().unwrap_or_default();
    let fence = format!("```{lang}\n");
    section.split(&fence).skip(1).map(|b| b.split("```").next().unwrap_or_default().to_string()).collect()
}

/// The README's quick start, as a new user copies it: its dependency lines (pointed at this
/// workspace instead of the registry), its `build.rs` and `main.rs` build; the build
/// drafts the first migration, `cargo chakra seal` seals it, and the binary applies it.
#[test]
fn the_readme_quick_start_builds_and_migrates() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("read README.md");
    let toml = blocks(&readme, "## Quick start", "toml");
    let rust = blocks(&readme, "## Quick start", "rust");
    assert_eq!((toml.len(), rust.len()), (1, 2), "the quick start's blocks changed: teach this test");
    let krate = TempCrate::new("quickstart", "");
    let dependencies = toml[0]
        .replace(
            "migrations-runtime = { version = \"0.1\"",
            &format!("migrations-runtime = {{ path = {}", TempCrate::path_to("migrations-runtime")),
        )
        .replace(
            "migrations-build = { version = \"0.1\"",
            &format!("migrations-build = {{ path = {}", TempCrate::path_to("migrations-build")),
        );
    assert!(!dependencies.contains("version = \"0.1\""), "{dependencies}");
    let name = &krate.name;
    krate.write(
        "Cargo.toml",
        &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n{dependencies}\n[workspace]\n"),
    );
    krate.write("build.rs", &rust[0]);
    krate.write("src/main.rs", &rust[1]);
    let _ = std::fs::remove_file(krate.dir.join("src/models.rs"));

    let built = krate.build(&[]);
    assert!(built.ok, "the quick start does not build:\n{}", built.stderr);
    assert_eq!(krate.migrations(), ["0001_initial.rs"], "{}", built.stderr);
    let sealed = krate.chakra(&["seal"]);
    assert!(sealed.ok, "{}{}", sealed.stdout, sealed.stderr);
    assert!(krate.build(&[]).ok);
    let db = krate.dir.join("app.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let run = krate.run(&[], &[("DATABASE_URL", &url)]);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(db.is_file());
    let again = krate.run(&[], &[("DATABASE_URL", &url)]);
    assert!(again.ok, "a second boot: {}", again.stderr);
}
