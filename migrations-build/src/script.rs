//! `cargo chakra script`: the whole SQL script of a range of this crate's migrations, for
//! a DBA, from the migration files alone: no database, no build. The same text
//! `migrate script` prints from the binary (`migrations_runtime::script_of` writes both),
//! history-table statements included.

use migrations_core::apply::ApplyError;
use migrations_core::{Dialect, Schema};
use migrations_runtime::{script_of, ScriptRange, ScriptSteps, Scripted};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::migration_files::{self, split_draft};

impl Config {
    /// The script that takes a `dialect` database across `range` of this crate's sealed
    /// migrations (a draft is left out: seal it first). Statements wait for a lock at
    /// most `CHAKRA_LOCK_TIMEOUT`, else 3 s, as the binary's would.
    pub fn script(&self, dialect: Dialect, range: &ScriptRange) -> Result<String> {
        let paths = self.paths()?;
        let (sealed, draft) = split_draft(migration_files::read_dir(&paths.migrations)?);
        migration_files::check_graph(&sealed)?;
        if let Some(d) = draft {
            eprintln!("chakra: the draft {} is not in the script: seal it first (`cargo chakra seal`)", d.id);
        }
        let app = match &self.app {
            Some(app) => app.clone(),
            None => app_of(&paths.manifest)?,
        };
        let texts = sealed
            .iter()
            .map(|f| std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path)))
            .collect::<Result<Vec<String>>>()?;
        // The file order is an order they apply in: a migration depends on earlier ones.
        let steps = |text: &str, backward: bool, schema: &Schema| -> std::result::Result<ScriptSteps, ApplyError> {
            crate::interpret::read_operations_and_steps(text, backward, schema)
                .map(|(ops, data)| (ops, data.into_iter().map(|d| d.name).collect()))
                .map_err(|e| ApplyError { operation: format!("line {}", e.line), reason: e.message })
        };
        let scripted: Vec<Scripted<'_>> = sealed
            .iter()
            .zip(&texts)
            .map(|(f, text)| Scripted {
                app: &app,
                id: &f.id,
                checksum: &f.semantic_checksum,
                up: Box::new(move |before: &Schema| steps(text, false, before)),
                down: Box::new(move |after: &Schema| steps(text, true, after)),
            })
            .collect();
        let base = crate::replay::start_schema(&paths.manifest, &sealed)?;
        let lock_timeout = match std::env::var(migrations_runtime::lock_wait::LOCK_TIMEOUT_VAR) {
            Ok(t) if !t.trim().is_empty() => migrations_runtime::parse_duration(&t)
                .map_err(|e| Error::Usage(format!("{}: {e}", migrations_runtime::lock_wait::LOCK_TIMEOUT_VAR)))?,
            _ => migrations_runtime::lock_wait::DEFAULT_LOCK_TIMEOUT,
        };
        script_of(dialect, &base, &scripted, range, lock_timeout).map_err(|e| Error::Usage(e.to_string()))
    }
}

/// The app label of the package at `dir`, as the build gives it: `[package.metadata.chakra]
/// app`, else the package name with `_` for `-`.
fn app_of(dir: &std::path::Path) -> Result<String> {
    if let Some(app) = crate::sources::read_package(dir)?.app {
        return Ok(app);
    }
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(Error::io("read", &manifest))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::Manifest { path: manifest.clone(), message: e.message().to_string() })?;
    doc.get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(|n| n.replace('-', "_"))
        .ok_or_else(|| Error::Manifest { path: manifest, message: "no [package] name".into() })
}
