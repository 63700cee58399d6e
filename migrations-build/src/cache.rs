//! A cache in `OUT_DIR` of what was read from each file, keyed by the file's content, so
//! a build after an edit reparses only the files that changed. Build scripts run
//! unoptimised by default, where `syn` parses about 3 MB/s: with a thousand models,
//! parsing everything on every build would cost half a second.
//!
//! An entry is the layout line, the key (the whole text it was computed from) and the
//! `postcard`-encoded value. A hit is decided by comparing the key's bytes, which costs
//! next to nothing (`memcmp`), where hashing the text would be slow in an unoptimised
//! build script. A missing, stale or unreadable entry is a miss, never an error; writing
//! an entry that fails is ignored (the next build simply misses).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The helper version and the layout of what it caches: an entry written by another
/// layout is never read.
const LAYOUT: &str = concat!("chakra-cache ", env!("CARGO_PKG_VERSION"), "+14\n");

/// The cache, or none (outside a build script, or after an error that needs spans).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
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

    /// Whether there is a cache.
    pub fn is_enabled(&self) -> bool {
        self.dir.is_some()
    }

    fn entry_path(&self, kind: &str, path: &Path) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut h);
        Some(dir.join(format!("{kind}-{:016x}.bin", h.finish())))
    }

    /// Whether anything is stored for `path`, whatever it was computed from.
    pub fn has(&self, kind: &str, path: &Path) -> bool {
        self.entry_path(kind, path).is_some_and(|p| p.is_file())
    }

    /// What was stored for `path` when it was computed from `key` (a file's text, say).
    pub fn get<T: DeserializeOwned>(&self, kind: &str, path: &Path, key: &str) -> Option<T> {
        let bytes = std::fs::read(self.entry_path(kind, path)?).ok()?;
        let rest = bytes.strip_prefix(LAYOUT.as_bytes())?;
        let (len, rest) = rest.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        let (stored, value) = (rest.get(..len)?, rest.get(len..)?);
        if stored != key.as_bytes() {
            return None;
        }
        postcard::from_bytes(value).ok()
    }

    /// Stores `value` for `path`, computed from `key`.
    pub fn put<T: Serialize>(&self, kind: &str, path: &Path, key: &str, value: &T) {
        let Some(file) = self.entry_path(kind, path) else { return };
        let Ok(value) = postcard::to_stdvec(value) else { return };
        let mut bytes = Vec::with_capacity(LAYOUT.len() + 8 + key.len() + value.len());
        bytes.extend_from_slice(LAYOUT.as_bytes());
        bytes.extend_from_slice(&(key.len() as u64).to_le_bytes());
        bytes.extend_from_slice(key.as_bytes());
        bytes.extend_from_slice(&value);
        // Written aside and renamed, so an interrupted write is never read as an entry.
        // The folder is made only when the first write finds it missing.
        let partial = file.with_extension("partial");
        let mut written = std::fs::write(&partial, &bytes);
        if written.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            written = std::fs::write(&partial, &bytes);
        }
        if written.is_ok() {
            let _ = std::fs::rename(&partial, &file);
        }
    }
}
