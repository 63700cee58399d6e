//! `cargo chakra inspect`: a crate adopts a database that already exists. What the
//! database holds becomes model structs (one file per table, under `src/models/`), the
//! snapshot, and a sealed baseline migration that builds exactly that schema; what the
//! models cannot say (triggers, functions, views, types, partial or expression indexes,
//! composite foreign keys, ...) goes into the baseline as raw SQL, in creation order,
//! each with the statement that drops it.
//!
//! This module writes; it does not read a database. The `cargo chakra` binary reads one
//! with `migrations_runtime::introspect` and hands the result here.

mod models;
mod split;

use std::collections::BTreeMap;
use std::path::PathBuf;

use migrations_core::catalog::{self, Scope};
use migrations_core::schema::{Schema, Table};
use migrations_core::Dialect;

pub use models::{enums_source, model_source, struct_name, TypeCrates};
use split::split;

use crate::config::{Config, Mode};
use crate::error::{Error, Result};

/// Something the database holds that the baseline creates with SQL as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStep {
    /// What it is, in words: `trigger touch_users on users`.
    pub what: String,
    /// The statement that creates it.
    pub create: String,
    /// The statement that drops it.
    pub drop: String,
    /// The table an index or trigger belongs to: the baseline's rollback drops it with
    /// the table, not on its own (MySQL refuses to drop an index a foreign key still
    /// needs). `None` for the rest, constraints included (a foreign key the models do
    /// not know must go before the tables it joins).
    pub table: Option<String>,
    /// Whether tables may need it (an extension, a type, a sequence, a function), so it
    /// comes before them.
    pub before_tables: bool,
    /// Its kind and name, when it is kept by name (`m.create_raw`: a trigger, a function,
    /// an index, ...), so that the snapshot and `verify` know it; `None` for what the
    /// baseline runs as SQL only (a view, a constraint).
    pub kept: Option<(String, String)>,
}

/// A database's schema as read, to adopt.
#[derive(Debug, Clone)]
pub struct Adoption {
    /// The database's dialect.
    pub dialect: Dialect,
    /// Its tables.
    pub schema: Schema,
    /// The rest, in the order it can be created.
    pub raw: Vec<RawStep>,
}

#[cfg(feature = "cli")]
impl Adoption {
    /// A schema read with `migrations_runtime::introspect::inspect`, to adopt: the
    /// tables as they are, every other object as a raw step with its drop.
    pub fn of(dialect: Dialect, inspected: migrations_runtime::introspect::Inspected) -> Adoption {
        use migrations_runtime::introspect::RawKind;
        let raw = inspected
            .objects
            .iter()
            .map(|o| RawStep {
                what: o.to_string(),
                create: o.create.clone(),
                drop: o.drop_sql(dialect),
                table: o.table.clone().filter(|_| matches!(o.kind, RawKind::Index | RawKind::Trigger)),
                before_tables: o.comes_before_tables(),
                kept: migrations_core::schema::RAW_KINDS
                    .contains(&o.kind.as_str())
                    .then(|| (o.kind.as_str().to_string(), o.name.clone())),
            })
            .collect();
        let mut schema = inspected.schema;
        // MySQL and SQLite keep no name for an enumerated type: each column's is its own.
        for table in schema.tables.values_mut() {
            let name = table.name.clone();
            for column in &mut table.columns {
                if let Some(e) = column.ty.enum_type_mut().filter(|e| e.name.is_empty()) {
                    e.name = format!("{name}_{}", column.name);
                }
            }
        }
        Adoption { dialect, schema, raw }
    }
}

/// What [`Config::adopt`] wrote.
#[derive(Debug, Clone)]
pub struct Adopted {
    /// The model files, one per table.
    pub models: Vec<PathBuf>,
    /// The file of the enumerated types, if the database has any.
    pub enums: Option<PathBuf>,
    /// The sealed baseline migration.
    pub migration: PathBuf,
    /// How many objects became model state (tables, columns, keys, indexes, constraints).
    pub in_models: usize,
    /// What went into the baseline as raw SQL, in words.
    pub as_sql: Vec<String>,
}

impl Adopted {
    /// One line for people: how much of the schema the models hold.
    pub fn coverage(&self) -> String {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for what in &self.as_sql {
            let kind = if what.starts_with("materialized view") {
                "materialized view"
            } else {
                what.split(' ').next().unwrap_or("object")
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let detail: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let total = self.in_models + self.as_sql.len();
        let share = (self.in_models * 100).checked_div(total).unwrap_or(100);
        if self.as_sql.is_empty() {
            format!("coverage: {} objects as models, 0 as raw SQL ({share}% in models)", self.in_models)
        } else {
            format!(
                "coverage: {} objects as models, {} as raw SQL ({}) ({share}% in models)",
                self.in_models,
                self.as_sql.len(),
                detail.join(", ")
            )
        }
    }
}

/// How many objects `table` holds as model state.
fn objects(table: &Table) -> usize {
    1 + table.columns.len()
        + usize::from(!table.primary_key.is_empty())
        + table.uniques.len()
        + table.indexes.len()
        + table.checks.len()
        + table.foreign_keys.len()
}

/// A Rust string literal of `sql` for a migration file: raw, with as many `#` as it needs.
fn sql_literal(sql: &str) -> String {
    if sql.is_empty() {
        return "\"\"".into();
    }
    let hashes = (1..).find(|n| !sql.contains(&format!("\"{}", "#".repeat(*n)))).unwrap_or(1);
    let h = "#".repeat(hashes);
    format!("r{h}\"{sql}\"{h}")
}

/// `text` with `lines` inserted at the start (`at_start`) or the end of the body of
/// `pub fn {name}(m: &mut Migration) {`.
fn insert_in_fn(text: &str, name: &str, lines: &[String], at_start: bool) -> Option<String> {
    if lines.is_empty() {
        return Some(text.to_string());
    }
    let head = format!("pub fn {name}(m: &mut Migration) {{\n");
    let start = text.find(&head)? + head.len();
    let end = start + text[start..].find("\n}\n")? + 1;
    let at = if at_start { start } else { end };
    let block: String = lines.iter().map(|l| format!("{l}\n")).collect();
    Some(format!("{}{block}{}", &text[..at], &text[at..]))
}

/// The line of a raw step: `m.create_raw(...)` (or, backward, `m.drop_raw_named`) for
/// one kept by name, `m.run_sql_for(...)` for the rest.
fn run_sql_line(dialect: Dialect, step: &RawStep, forward: bool) -> String {
    let d = match dialect {
        Dialect::Postgres => "Postgres",
        Dialect::MySql => "MySql",
        Dialect::Sqlite => "Sqlite",
    };
    if let Some((kind, name)) = &step.kept {
        let (kind, name) = (models::lit(kind), models::lit(name));
        if !forward {
            return format!("    m.drop_raw_named({kind}, {name});");
        }
        let table =
            step.table.as_ref().map(|t| format!("\n            .on_table({})", models::lit(t))).unwrap_or_default();
        return format!(
            "    m.create_raw(\n        RawSql::new({kind}, {name}){table}\n            .sql_for(\n                Dialect::{d},\n                {},\n                {},\n            ),\n    );",
            sql_literal(&step.create),
            sql_literal(&step.drop)
        );
    }
    let (sql, undo, note) = match (forward, &step.table) {
        // Its table's creation and drop come after and before it: nothing to undo alone.
        (true, Some(_)) => (&step.create, String::new(), " (its table's drop drops it)"),
        (true, None) => (&step.create, step.drop.clone(), ""),
        (false, _) => (&step.drop, step.create.clone(), ""),
    };
    format!(
        "    // {}{note}\n    m.run_sql_for(\n        Dialect::{d},\n        {},\n        Some({}),\n    );",
        step.what,
        sql_literal(sql),
        sql_literal(&undo)
    )
}

impl Config {
    /// `cargo chakra inspect`: writes models, the snapshot and a sealed baseline
    /// migration for `adoption` (a database's schema as read) into a crate that has no
    /// migration yet. The models are checked to build exactly the tables read.
    pub fn adopt(&self, adoption: &Adoption) -> Result<Adopted> {
        let paths = self.paths()?;
        let dir = paths.manifest.clone();
        let existing = crate::migration_files::read_dir(&paths.migrations)?;
        if !existing.is_empty() {
            return Err(Error::Usage(format!(
                "{} already holds migrations: inspect adopts a database into a crate that has none (a new crate, or one whose models are not yet migrated)",
                paths.migrations.display()
            )));
        }
        let models_dir = dir.join("src").join("models");
        if models_dir.exists() {
            return Err(Error::Usage(format!(
                "{} exists: inspect writes the models there; move it away or adopt into another crate",
                models_dir.display()
            )));
        }
        let root = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|r| dir.join(r))
            .find(|p| p.is_file())
            .ok_or_else(|| Error::Usage(format!("{} has neither src/lib.rs nor src/main.rs", dir.display())))?;
        if adoption.schema.tables.is_empty() {
            return Err(Error::Usage("the database holds no table to adopt (check the URL, and --schema)".into()));
        }
        let (schema, mut raw) = split(&adoption.schema, adoption.dialect)?;
        raw.extend(adoption.raw.iter().cloned());

        let manifest_path = dir.join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path).map_err(Error::io("reading", &manifest_path))?;
        let crates = TypeCrates::of_manifest(&manifest);
        // The models fit the database they were read from; other databases may not take
        // its types. The build script and `cargo chakra` both read this.
        if crate::sources::read_package(&dir)?.dialects.is_none() {
            let line = format!("dialects = [\"{}\"]\n", adoption.dialect);
            let text = match manifest.find("[package.metadata.chakra]\n") {
                Some(at) => {
                    let after = at + "[package.metadata.chakra]\n".len();
                    format!("{}{line}{}", &manifest[..after], &manifest[after..])
                }
                None => format!("{}\n\n[package.metadata.chakra]\n{line}", manifest.trim_end()),
            };
            std::fs::write(&manifest_path, text).map_err(Error::io("writing", &manifest_path))?;
        }
        let names = models::struct_names(schema.tables.keys().map(String::as_str));
        std::fs::create_dir_all(&models_dir).map_err(Error::io("creating", &models_dir))?;
        let mut written = Vec::new();
        let mut module = String::from(
            "//! The tables of the database this crate adopted (`cargo chakra inspect`), one model per file.\n\n",
        );
        let enums = models::enum_idents(&schema, &names);
        let mut enums_file = None;
        if !enums.is_empty() {
            let file = models_dir.join("enums.rs");
            std::fs::write(&file, enums_source(&schema, &enums)).map_err(Error::io("writing", &file))?;
            module.push_str("pub mod enums;\n");
            enums_file = Some(file);
        }
        for (table, name) in &names {
            let file = models_dir.join(format!("{}.rs", module_name(table)));
            let source = model_source(&schema.tables[table], name, crates, &enums);
            std::fs::write(&file, source).map_err(Error::io("writing", &file))?;
            module.push_str(&format!("mod {0};\npub use {0}::{1};\n", module_name(table), name));
            written.push(file);
        }
        let mod_rs = models_dir.join("mod.rs");
        std::fs::write(&mod_rs, module).map_err(Error::io("writing", &mod_rs))?;
        let root_text = std::fs::read_to_string(&root).map_err(Error::io("reading", &root))?;
        if !root_text.lines().any(|l| l.trim() == "mod models;" || l.trim() == "pub mod models;") {
            std::fs::write(&root, with_models_module(&root_text)).map_err(Error::io("writing", &root))?;
        }

        let report = self.clone().mode(Mode::Auto).seal(Some("baseline")).generate()?;
        let migration = report.sealed.ok_or_else(|| {
            Error::Usage("the models were written but nothing was sealed: the database has no table to adopt".into())
        })?;

        // The raw steps: what tables need first, the rest after; undone in reverse.
        let (first, last): (Vec<&RawStep>, Vec<&RawStep>) = raw.iter().partition(|s| s.before_tables);
        let line = |s: &&RawStep, forward| run_sql_line(adoption.dialect, s, forward);
        let up_first: Vec<String> = first.iter().map(|s| line(s, true)).collect();
        let up_last: Vec<String> = last.iter().map(|s| line(s, true)).collect();
        // The rollback drops the tables, and with them what belongs to them.
        // (One kept by name goes before its table: a table is not dropped under it.)
        let down_first: Vec<String> =
            last.iter().rev().filter(|s| s.table.is_none() || s.kept.is_some()).map(|s| line(s, false)).collect();
        let down_last: Vec<String> = first.iter().rev().map(|s| line(s, false)).collect();
        let mut text = std::fs::read_to_string(&migration).map_err(Error::io("reading", &migration))?;
        let edits = [
            ("up", &up_first, true),
            ("up", &up_last, false),
            ("down", &down_first, true),
            ("down", &down_last, false),
        ];
        for (name, lines, at_start) in edits {
            text = insert_in_fn(&text, name, lines, at_start).ok_or_else(|| {
                Error::Usage(format!("{}: no `pub fn {name}` to add the raw SQL steps to", migration.display()))
            })?;
        }
        if !raw.is_empty() && !text.contains("use migrations_runtime::schema::*;") {
            return Err(Error::Usage(format!(
                "{}: the migration does not import its schema types",
                migration.display()
            )));
        }
        std::fs::write(&migration, text).map_err(Error::io("writing", &migration))?;
        if raw.iter().any(|s| s.kept.is_some()) {
            // The objects kept by name belong in the snapshot, as the baseline now makes them.
            self.rebuild_snapshot()?;
        }

        // The models must build exactly the tables that were read.
        let snapshot = std::fs::read_to_string(&paths.snapshot).map_err(Error::io("reading", &paths.snapshot))?;
        let built = migrations_core::snapshot::from_toml(&snapshot)
            .map_err(|e| Error::Usage(format!("{}: {e}", paths.snapshot.display())))?;
        let drift = catalog::compare(&built, &schema, adoption.dialect, Scope { strict: true });
        if !drift.is_empty() {
            let lines: Vec<String> = drift.iter().map(|d| format!("  {d}")).collect();
            return Err(Error::Usage(format!(
                "the models written under {} do not build exactly the tables read (a gap of the model language; please report it):\n{}",
                models_dir.display(),
                lines.join("\n")
            )));
        }
        Ok(Adopted {
            models: written,
            enums: enums_file,
            migration,
            in_models: schema.tables.values().map(objects).sum(),
            as_sql: first.iter().chain(&last).map(|s| s.what.clone()).collect(),
        })
    }
}

/// A crate root with `pub mod models;` after its inner documentation and attributes
/// (which must come first).
fn with_models_module(root: &str) -> String {
    let mut at = 0;
    for line in root.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("//!") || t.starts_with("#![") || (t.is_empty() && at > 0) {
            at += line.len();
        } else {
            break;
        }
    }
    let (head, rest) = root.split_at(at);
    let gap = if head.is_empty() || head.ends_with("\n\n") { "" } else { "\n" };
    format!("{head}{gap}pub mod models;\n\n{rest}")
}

/// The module (file) name of `table`'s model.
fn module_name(table: &str) -> String {
    use heck::ToSnakeCase;
    let snake = table.to_snake_case();
    if syn::parse_str::<syn::Ident>(&snake).is_ok() && !snake.starts_with(|c: char| c.is_ascii_digit()) {
        snake
    } else {
        format!("table_{snake}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_module_goes_after_the_crate_docs() {
        assert_eq!(with_models_module("fn main() {}\n"), "pub mod models;\n\nfn main() {}\n");
        assert_eq!(
            with_models_module("//! The shop.\n#![forbid(unsafe_code)]\n\nuse std::io;\n"),
            "//! The shop.\n#![forbid(unsafe_code)]\n\npub mod models;\n\nuse std::io;\n"
        );
        assert_eq!(with_models_module("//! Docs.\nfn main() {}\n"), "//! Docs.\n\npub mod models;\n\nfn main() {}\n");
    }
}
