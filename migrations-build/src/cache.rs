//! A cache in `OUT_DIR` of what was read from each file, keyed by the file's content, so
//! a build after an edit reparses only the files that changed. Build scripts run
//! unoptimised by default, where `syn` parses about 3 MB/s: with a thousand models,
//! parsing everything on every build would cost half a second.
//!
//! Entries are `postcard`-encoded. A missing, stale or unreadable entry is a miss, never
//! an error; writing an entry that fails is ignored (the next build simply misses).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The helper version and the layout of what it caches: an entry written by another
/// layout is never read.
const LAYOUT: &str = concat!(env!("CARGO_PKG_VERSION"), "+2");

/// The cache, or none (outside a build script, or after an error that needs spans).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    /// Version of the entry layout: a new helper version never reads an old layout.
    version: String,
    content: u64,
    value: T,
}

/// A fast hash of `text` (std's SipHash, which is optimised even in an unoptimised build).
pub fn content_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Cache {
    /// A cache in `out_dir/chakra-cache`, or no cache.
    pub fn new(out_dir: Option<&Path>) -> Self {
        Self { dir: out_dir.map(|d| d.join("chakra-cache")) }
    }

    /// No cache.
    pub fn none() -> Self {
        Self { dir: None }
    }

    fn entry_path(&self, kind: &str, path: &Path) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut h);
        Some(dir.join(format!("{kind}-{:016x}.bin", h.finish())))
    }

    /// What was stored for `path` when its content hashed to `content`.
    pub fn get<T: DeserializeOwned>(&self, kind: &str, path: &Path, content: u64) -> Option<T> {
        let bytes = std::fs::read(self.entry_path(kind, path)?).ok()?;
        let entry: Entry<T> = postcard::from_bytes(&bytes).ok()?;
        (entry.version == LAYOUT && entry.content == content).then_some(entry.value)
    }

    /// Stores `value` for `path` with content hash `content`.
    pub fn put<T: Serialize>(&self, kind: &str, path: &Path, content: u64, value: &T) {
        let Some(file) = self.entry_path(kind, path) else { return };
        let entry = Entry { version: LAYOUT.to_string(), content, value };
        if let Ok(bytes) = postcard::to_stdvec(&entry) {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(file, bytes);
        }
    }
}
