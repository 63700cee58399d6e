//! The build's promises about what it writes, on crates made in a temporary folder.
use std::path::{Path, PathBuf};

use crate::config::{Config, Mode};

const MODEL: &str = "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n";

/// A crate with one model at `dir` (below a fresh temporary folder), and that folder.
fn crate_at(test: &str, dir: &str) -> (PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("chakra-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let krate = root.join(dir);
    std::fs::create_dir_all(krate.join("src")).expect("dir");
    std::fs::write(krate.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n").expect("manifest");
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

/// Two builds of one crate at once (two target folders: an IDE and a terminal) write,
/// replace and remove the same draft: neither may fail because the other got there first.
#[test]
fn two_builds_at_once_do_not_trip_over_each_others_files() {
    let (root, krate) = crate_at("two-builds", "notes");
    let draft = krate.join("migrations/0001_initial.rs");
    // Writing the same file from two threads at once, many times.
    std::thread::scope(|s| {
        for t in 0..2 {
            let draft = &draft;
            s.spawn(move || {
                for i in 0..200 {
                    super::write_if_changed(draft, &format!("// {t} {i}\n")).expect("write");
                }
            });
        }
    });
    // Removing a draft another build already removed.
    std::fs::remove_file(&draft).expect("remove");
    super::remove(&draft).expect("already gone is fine");
    // A file listed, then gone before it is read.
    let dir = krate.join("migrations");
    std::fs::write(
        dir.join("0001_initial.rs"),
        "pub const ID: &str = \"0001_initial\";\npub const DEPENDENCIES: &[&str] = &[];\n",
    )
    .expect("write");
    let listed = crate::migration_files::list(&dir).expect("list");
    std::fs::remove_file(dir.join("0001_initial.rs")).expect("remove");
    let files =
        crate::migration_files::read_listed(&listed, &crate::cache::Cache::none()).expect("a file gone is skipped");
    assert!(files.is_empty());
    // And whole builds, two at a time.
    std::thread::scope(|s| {
        for _ in 0..2 {
            let krate = &krate;
            s.spawn(move || {
                for _ in 0..10 {
                    config(krate).generate().expect("a build beside another");
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(root);
}
