//! `cargo chakra squash`: one migration in place of a run of sealed ones, for a project
//! whose history has grown long. The squash declares what it replaces (`REPLACES`); the
//! runtime applies it to a database that applied none of them, takes it as applied on one
//! that applied all of them, and finishes the rest one by one on one that applied some.
//! The replaced files stay until every database has applied the squash (or all of them);
//! the build then works without them.

use std::path::PathBuf;

use migrations_core::squash::squash;
use migrations_core::{Operation, Schema};

use crate::codegen::{module_with, ModuleSpec, Squash};
use crate::config::Config;
use crate::data_loss::{acknowledgement, ACKNOWLEDGEMENT, REWRITE_ACKNOWLEDGEMENT};
use crate::error::{Error, Result};
use crate::generate::{today, write_if_changed};
use crate::migration_files::{self, MigrationFile};
use crate::naming::clean;

/// What [`Config::squash`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashed {
    /// The new migration's file.
    pub path: PathBuf,
    /// Its id.
    pub id: String,
    /// The migrations it replaces, in order.
    pub replaces: Vec<String>,
    /// How many operations they had, and how many the squash has.
    pub operations: (usize, usize),
    /// How many runs of operations between hand-written SQL stay as written (the
    /// rewriting could not prove it keeps every row).
    pub kept_as_written: usize,
}

impl Squashed {
    /// The summary `cargo chakra squash` prints.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "wrote {}: replaces {} migrations ({} .. {}), {} operations in place of {}",
            self.path.display(),
            self.replaces.len(),
            self.replaces.first().map_or("", String::as_str),
            self.replaces.last().map_or("", String::as_str),
            self.operations.1,
            self.operations.0
        );
        if self.kept_as_written > 0 {
            s.push_str(&format!(
                "; {} run(s) of operations kept as written (rewritten, the rows already there could differ)",
                self.kept_as_written
            ));
        }
        s.push_str(
            "\nKeep the replaced files until every database has applied it (`migrate status` shows nothing pending \
             up to it); then they can be deleted, and the build and the runtime go on without them.",
        );
        s
    }
}

impl Config {
    /// `cargo chakra squash [--from ID] --to ID [--name NAME]`: writes one sealed
    /// migration that replaces the sealed migrations `from..=to` of this crate (from the
    /// first when `from` is `None`).
    ///
    /// Its operations are theirs rewritten (see [`migrations_core::squash`]): hand-written
    /// SQL stays in order between them. A Rust data step (`m.run_rust`) cannot be carried
    /// into another module: the squash stops there and says so. The new module is read
    /// back and replayed before this returns: it must build what the migrations it
    /// replaces build.
    pub fn squash(&self, from: Option<&str>, to: &str, name: Option<&str>) -> Result<Squashed> {
        let paths = self.paths()?;
        let all = migration_files::read_dir(&paths.migrations)?;
        if let Some(s) = all.iter().find(|f| !f.replaces.is_empty()) {
            return Err(Error::Usage(format!(
                "{} is a squash already: squashing again waits until the files it replaces are deleted, and a range \
                 that holds it is not supported; squash a range after it",
                s.id
            )));
        }
        let (sealed, _) = migration_files::split_draft(all);
        migration_files::check_graph(&sealed)?;
        let position = |id: &str| {
            sealed.iter().position(|f| f.id == id).ok_or_else(|| {
                let known: Vec<&str> = sealed.iter().map(|f| f.id.as_str()).collect();
                Error::Usage(format!("no sealed migration `{id}`; the sealed migrations are: {}", known.join(", ")))
            })
        };
        let first = from.map(position).transpose()?.unwrap_or(0);
        let last = position(to)?;
        if last <= first {
            return Err(Error::Usage(format!(
                "nothing to squash: `--to {to}` must come after `{}`, and a squash replaces two migrations or more",
                sealed[first].id
            )));
        }
        let run = &sealed[first..=last];
        let replaces: Vec<String> = run.iter().map(|f| f.id.clone()).collect();

        // The schema the run meets: other apps' tables, then this app's earlier migrations.
        let external = crate::replay::start_schema(&paths.manifest, &sealed)?;
        let before = replayed(&sealed[..first], &external)?;
        let mut ops: Vec<Operation> = Vec::new();
        let mut acknowledgements: Vec<(String, String)> = Vec::new();
        let mut schema = before.clone();
        for f in run {
            let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
            let read = |e: crate::interpret::ReadError| {
                Error::Usage(format!(
                    "{}:{}: {}; the squash reads each migration it replaces, and cannot read this one",
                    f.path.display(),
                    e.line,
                    e.message
                ))
            };
            let syntax = crate::interpret::parse(&text).map_err(read)?;
            let (m, data) = crate::interpret::steps_of(&syntax, false).map_err(read)?;
            if let Some(step) = data.first() {
                let k = run.iter().position(|r| r.id == f.id).unwrap_or(0);
                let advice = if k >= 2 {
                    format!(
                        "squash up to the migration before it (`--to {}`), and later from the one after it",
                        run[k - 1].id
                    )
                } else {
                    "squash a range that does not hold it".to_string()
                };
                return Err(Error::Usage(format!(
                    "{} runs the Rust data step `{}`, which a squash cannot carry into another module: {advice}",
                    f.id, step.name
                )));
            }
            let these = crate::interpret::resolved(m, &schema, false).map_err(read)?;
            schema.apply_all(&these).map_err(|e| Error::Usage(format!("{}: cannot replay it: {e}", f.id)))?;
            ops.extend(these);
            for name in [ACKNOWLEDGEMENT, REWRITE_ACKNOWLEDGEMENT] {
                if let Some(text) = acknowledgement(&syntax, name) {
                    match acknowledgements.iter_mut().find(|(n, _)| n == name) {
                        Some((_, all)) => all.push_str(&format!("; {}: {text}", f.id)),
                        None => acknowledgements.push((name.to_string(), format!("{}: {text}", f.id))),
                    }
                }
            }
        }
        let squashed = squash(&before, &ops).map_err(|e| Error::Usage(format!("cannot squash: {e}")))?;

        let number = run[0].number;
        let derived = format!("squashed_{:04}", run[run.len() - 1].number);
        let id = format!("{number:04}_{}", clean(name.unwrap_or(&derived)));
        let path = paths.migrations.join(format!("{id}.rs"));
        if path.exists() || sealed.iter().any(|f| f.id == id) {
            return Err(Error::Usage(format!("{} already exists; choose another `--name`", path.display())));
        }
        // What the run comes after, outside it (other apps' migrations included).
        let mut dependencies: Vec<String> = Vec::new();
        for d in run.iter().flat_map(|f| &f.dependencies) {
            if !replaces.contains(d) && !dependencies.contains(d) {
                dependencies.push(d.clone());
            }
        }
        let about = format!(
            "A squash of {} migrations, {} .. {}: {} operations in place of {}{}. A database that \
             applied none of them applies this; one that applied all of them has it; one that applied \
             some applies the rest of them, one by one. Once every database has applied it (`migrate \
             status` shows nothing pending up to it), the files it replaces can be deleted.",
            replaces.len(),
            replaces[0],
            replaces[replaces.len() - 1],
            squashed.operations.len(),
            ops.len(),
            if squashed.kept_as_written > 0 {
                format!(" ({} run(s) kept as written)", squashed.kept_as_written)
            } else {
                String::new()
            }
        );
        let spec = ModuleSpec {
            id: &id,
            dependencies: &dependencies,
            operations: &squashed.operations,
            sealed_on: Some(&today()),
        };
        let text =
            module_with(&spec, &Squash { replaces: &replaces, acknowledgements: &acknowledgements, about: &about })
                .map_err(|e| Error::Usage(format!("internal error writing the squash (please report): {e}")))?;
        // Read back as the build will read it: it must build what the run builds.
        let written = crate::interpret::read_operations(&text, false, &before)
            .map_err(|e| Error::Usage(format!("internal error: the squash does not read back (please report): {e}")))?;
        let mut check = before.clone();
        check
            .apply_all(&written)
            .map_err(|e| Error::Usage(format!("internal error: the squash does not replay (please report): {e}")))?;
        if check != schema {
            return Err(Error::Usage(
                "internal error: the squash does not build what the migrations it replaces build (please report); nothing was written".into(),
            ));
        }
        write_if_changed(&path, &text)?;
        Ok(Squashed {
            path,
            id,
            replaces,
            operations: (ops.len(), squashed.operations.len()),
            kept_as_written: squashed.kept_as_written,
        })
    }
}

/// The schema `files` build on top of `start` (other apps' tables kept).
fn replayed(files: &[MigrationFile], start: &Schema) -> Result<Schema> {
    let mut schema = start.clone();
    for f in files {
        let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
        let ops = crate::interpret::read_operations(&text, false, &schema).map_err(|e| {
            Error::Usage(format!(
                "{}:{}: {}; the squash replays the migrations before it, and cannot read this one",
                f.path.display(),
                e.line,
                e.message
            ))
        })?;
        schema.apply_all(&ops).map_err(|e| Error::Usage(format!("{}: cannot replay it: {e}", f.id)))?;
    }
    Ok(schema)
}
