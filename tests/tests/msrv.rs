//! The declared minimum Rust version is one the locked dependencies build with: no
//! package in `Cargo.lock` asks for a newer one.

#[test]
fn the_declared_rust_version_covers_every_locked_dependency() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Only this machine's packages: the others (Windows-only crates) may never have been
    // downloaded, and the check is offline.
    let rustc = std::process::Command::new("rustc").arg("-vV").output().expect("rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc names its host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host])
        .current_dir(&root)
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // `1.88` is `1.88.0`.
    let version = |v: &str| -> Vec<u32> {
        let mut parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        parts.resize(3, 0);
        parts
    };
    let packages = metadata["packages"].as_array().expect("packages");
    let declared = packages
        .iter()
        .find(|p| p["name"] == "migrations-runtime")
        .and_then(|p| p["rust_version"].as_str())
        .expect("migrations-runtime declares a rust-version");
    let newest = packages
        .iter()
        .filter_map(|p| Some((p["rust_version"].as_str()?, p["name"].as_str()?)))
        .max_by_key(|(v, _)| version(v))
        .expect("some package declares one");
    assert!(
        version(declared) >= version(newest.0),
        "the workspace declares rust-version {declared}, but {} needs {}: raise `rust-version` in Cargo.toml (and the README)",
        newest.1,
        newest.0
    );
}
