//! Does `.chakra/snapshot.toml` hold what the sealed migrations build? The snapshot is
//! written when a migration is sealed, and the build diffs the models against it. A
//! sealed migration deleted afterwards (to redo it, or lost in a merge), or a snapshot
//! edited or lost, leaves the two apart: the build would draft nothing for a change no
//! migration makes any more, or draft again what the migrations already make. Replaying
//! the sealed files with the interpreter tells, and `cargo chakra rebuild-snapshot`
//! writes the snapshot they build.

use std::path::Path;

use migrations_core::diff::{diff_from, Intent};
use migrations_core::snapshot::{from_toml, to_toml};
use migrations_core::Schema;

use crate::cache::Cache;
use crate::error::{Error, Located, Location, Result};
use crate::migration_files::MigrationFile;

/// The schema that `sealed` (in order) builds on top of `start`, without `start`'s own
/// tables (another app's, which its foreign keys reach); or the first place the reader
/// cannot follow (Rust that only the application can run).
///
/// Each file is parsed once: what the data-loss review of check mode needs from it is
/// kept in `cache` on the way.
pub(crate) fn replay(sealed: &[MigrationFile], start: &Schema, cache: &Cache) -> Result<Result<Schema, Located>> {
    let mut schema = start.clone();
    for f in sealed {
        let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
        let at = |line: usize, message: String| Located {
            location: Location { path: f.path.clone(), line, column: 1 },
            message,
        };
        let read = crate::interpret::parse(&text).and_then(|syntax| {
            let (m, _) = crate::interpret::steps_of(&syntax, false)?;
            crate::data_loss::remember(f, &syntax, m.operations(), cache);
            crate::interpret::resolved(m, &schema, false)
        });
        let ops = match read {
            Ok(ops) => ops,
            Err(e) => return Ok(Err(at(e.line, e.message))),
        };
        if let Err(e) = schema.apply_all(&ops) {
            return Ok(Err(at(1, format!("cannot replay it: {e}"))));
        }
    }
    for name in start.tables.keys() {
        schema.tables.remove(name);
    }
    Ok(Ok(schema))
}

/// The schema the replay starts from: the tables of the apps this one's migrations
/// depend on (found from the manifest only when a dependency names another app).
pub(crate) fn start_schema(manifest: &Path, files: &[MigrationFile]) -> Result<Schema> {
    if files.iter().any(|f| f.dependencies.iter().any(|d| d.contains('/'))) {
        crate::apps::external_schema(&crate::apps::dependency_apps(manifest)?)
    } else {
        Ok(Schema::new())
    }
}

/// What it takes to turn the schema the migrations build into the snapshot, in words;
/// empty when they agree. The text is compared first (the snapshot is canonical), the
/// schemas only when it differs.
pub(crate) fn drift(snapshot: Option<&str>, replayed: &Schema, path: &Path) -> Result<Vec<String>> {
    let ours = to_toml(replayed);
    let snapshot_schema = match snapshot {
        Some(text) if text == ours => return Ok(Vec::new()),
        Some(text) => from_toml(text).map_err(|source| Error::Snapshot { path: path.to_path_buf(), source })?,
        None if replayed.tables.is_empty() => return Ok(Vec::new()),
        None => {
            return Ok(vec![format!(
                "  (the file is missing; the migrations build {} table(s))",
                replayed.tables.len()
            )])
        }
    };
    Ok(match diff_from(replayed.clone(), &snapshot_schema, &Intent::default()) {
        Ok(d) => d.operations.iter().map(|op| format!("  {op}")).collect(),
        Err(errors) => errors.iter().map(|e| format!("  {e}")).collect(),
    })
}

/// The cache key of a verdict: the sealed files (id and checksum) and the snapshot text.
fn key<'a>(sealed: impl Iterator<Item = (&'a str, &'a str)>, snapshot: Option<&str>) -> String {
    let mut key = String::with_capacity(snapshot.map_or(0, str::len) + 4096);
    for (id, checksum) in sealed {
        key.push_str(id);
        key.push(' ');
        key.push_str(checksum);
        key.push('\n');
    }
    key.push_str(if snapshot.is_some() { "snapshot\n" } else { "no snapshot\n" });
    key.push_str(snapshot.unwrap_or_default());
    key
}

/// Whether this build replays the migrations: always in check mode (CI, `cargo chakra
/// check`), and otherwise when the sealed files or the snapshot changed since the last
/// build that looked (a file deleted, a pull that brought new ones). A cold cache is
/// taken as it is, so that a first build stays a parse of the sources; check mode in
/// CI replays from a cold cache anyway.
pub(crate) struct Verification {
    key: String,
    due: bool,
}

impl Verification {
    pub(crate) fn new(
        sealed: &[MigrationFile],
        snapshot: Option<&str>,
        check: bool,
        cache: &Cache,
        dir: &Path,
    ) -> Self {
        let key = key(sealed.iter().map(|f| (f.id.as_str(), f.checksum.as_str())), snapshot);
        let known = cache.get::<bool>("replay", dir, &key).is_some();
        // A lost snapshot beside sealed migrations is worth a replay on any build: read
        // as empty, it would have every table drafted again.
        let lost = snapshot.is_none() && !sealed.is_empty();
        let due = !known && (check || lost || cache.has("replay", dir));
        if !due && !known {
            cache.put("replay", dir, &key, &true);
        }
        Verification { key, due }
    }

    /// Whether the replay is needed.
    pub(crate) fn due(&self) -> bool {
        self.due
    }

    /// Records that these files and this snapshot were looked at (they agree, or the
    /// reader cannot follow them): the next build with the same ones does not replay.
    pub(crate) fn seen(self, cache: &Cache, dir: &Path) {
        cache.put("replay", dir, &self.key, &true);
    }
}

/// After this build sealed `id` (its text checksummed `checksum`) and wrote `snapshot`,
/// on files and a snapshot that agreed: they agree still (the new migration is the diff
/// from the old snapshot to the new one, and generated code reads back to its operations),
/// so the next build need not replay them all.
pub(crate) fn record_sealed(
    sealed: &[MigrationFile],
    (id, checksum): (&str, &str),
    snapshot: &str,
    cache: &Cache,
    dir: &Path,
) {
    let files = sealed.iter().map(|f| (f.id.as_str(), f.checksum.as_str())).chain([(id, checksum)]);
    cache.put("replay", dir, &key(files, Some(snapshot)), &true);
}

/// The error for a snapshot apart from the migrations.
pub(crate) fn apart(path: &Path, differences: &[String]) -> Error {
    Error::SnapshotApart { path: path.to_path_buf(), differences: differences.join("\n") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str, checksum: &str) -> MigrationFile {
        MigrationFile {
            path: format!("migrations/{id}.rs").into(),
            id: id.into(),
            number: id[..4].parse().expect("number"),
            dependencies: Vec::new(),
            replaces: Vec::new(),
            draft: false,
            checksum: checksum.into(),
            semantic_checksum: String::new(),
        }
    }

    /// A cold cache is taken as it is; a change after that is due; what a seal records is
    /// what the next build finds; check mode and a lost snapshot are always due.
    #[test]
    fn when_a_replay_is_due() {
        let out = std::env::temp_dir().join(format!("chakra-replay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let cache = Cache::new(Some(&out));
        let dir = Path::new("migrations");
        let one = [file("0001_a", "c1")];
        assert!(!Verification::new(&one, Some("s1"), false, &cache, dir).due(), "cold");
        assert!(!Verification::new(&one, Some("s1"), false, &cache, dir).due(), "known");
        assert!(Verification::new(&one, Some("s1"), true, &Cache::none(), dir).due(), "check mode");
        assert!(Verification::new(&[], Some("s1"), false, &cache, dir).due(), "a file deleted");
        assert!(Verification::new(&one, None, false, &Cache::none(), dir).due(), "snapshot lost");
        record_sealed(&one, ("0002_b", "c2"), "s2", &cache, dir);
        let two = [file("0001_a", "c1"), file("0002_b", "c2")];
        assert!(!Verification::new(&two, Some("s2"), false, &cache, dir).due(), "after a seal");
        assert!(Verification::new(&two, Some("s2 edited"), false, &cache, dir).due(), "snapshot edited");
        let _ = std::fs::remove_dir_all(&out);
    }
}
