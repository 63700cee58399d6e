//! What `cargo chakra` does beyond a build: an empty migration for hand-written steps, a
//! merge migration after a git merge left two heads, a migration's SQL without a
//! database, and the snapshot rebuilt from the sealed migrations.

use std::path::PathBuf;

use migrations_core::diff::diff_from;
use migrations_core::render::live::Forms;
use migrations_core::snapshot::{from_toml, to_toml};
use migrations_core::{Dialect, Operation, Schema};

use crate::config::Config;
use crate::error::{Error, Located, Location, Result};
use crate::generate::{today, write_if_changed};
use crate::interpret::DataStep;
use crate::migration_files::{self, check_graph, split_draft, MigrationFile};
use crate::naming::clean;
impl Config {
    /// `cargo chakra make --empty`: writes a sealed migration with no operations, after
    /// the current head, for a hand-written RunSQL or data step.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// // A crate with one model, in a folder of its own.
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// std::fs::write(
    ///     dir.join("src/lib.rs"),
    ///     "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n",
    /// )?;
    /// let mut config = Config::new();
    /// config.manifest_dir(&dir).mode(Mode::Auto).cargo_output(false);
    /// config.clone().seal(Some("initial")).generate()?;
    /// let path = config.make_empty("lowercase_emails")?;
    /// assert_eq!(path, dir.join("migrations/0002_lowercase_emails.rs"));
    /// assert!(std::fs::read_to_string(&path)?.contains(r#"DEPENDENCIES: &[&str] = &["0001_initial"]"#));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn make_empty(&self, name: &str) -> Result<PathBuf> {
        self.write_empty(name, None)
    }

    /// `cargo chakra merge`: writes a migration that depends on every head, joining the
    /// branches of the graph after a git merge.
    ///
    /// ```no_run
    /// // After a git merge brought 0003_add_user_bio and 0003_create_posts:
    /// let path = migrations_build::Config::new().merge(None)?;
    /// assert!(path.ends_with("0004_merge_add_user_bio_and_create_posts.rs"));
    /// # Ok::<(), migrations_build::Error>(())
    /// ```
    pub fn merge(&self, name: Option<&str>) -> Result<PathBuf> {
        let paths = self.paths()?;
        let (sealed, _) = split_draft(migration_files::read_dir(&paths.migrations)?);
        let heads: Vec<String> = migration_files::heads(&sealed).iter().map(|f| f.id.clone()).collect();
        if heads.len() < 2 {
            return Err(Error::Usage(format!("nothing to merge: the migration graph has {} head(s)", heads.len())));
        }
        let derived = format!(
            "merge_{}",
            heads.iter().map(|h| h.split_once('_').map_or(h.as_str(), |(_, n)| n)).collect::<Vec<_>>().join("_and_")
        );
        self.write_empty(name.unwrap_or(&derived), Some(heads))
    }

    fn write_empty(&self, name: &str, dependencies: Option<Vec<String>>) -> Result<PathBuf> {
        let paths = self.paths()?;
        let (sealed, _) = split_draft(migration_files::read_dir(&paths.migrations)?);
        let number = sealed.iter().map(|f| f.number).max().unwrap_or(0) + 1;
        let deps = match dependencies {
            Some(d) => d,
            None => {
                check_graph(&sealed)?;
                migration_files::heads(&sealed).iter().map(|f| f.id.clone()).collect()
            }
        };
        let id = format!("{number:04}_{}", clean(name));
        let path = paths.migrations.join(format!("{id}.rs"));
        if path.exists() {
            return Err(Error::Usage(format!("{} already exists", path.display())));
        }
        write_if_changed(&path, &crate::codegen::empty_module(&id, &deps, &today()))?;
        Ok(path)
    }
}

impl Config {
    /// `cargo chakra sql ID`: the SQL of one migration for `dialect`, forward or
    /// backward, rendered against the schema the earlier migrations leave (replayed from
    /// their files), as it runs on a live database: each statement after a comment that
    /// says how it runs (in the migration's transaction, outside one, in batches), the
    /// lock it takes and whether it reads or rewrites the table.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// // A crate with one model, in a folder of its own.
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// std::fs::write(
    ///     dir.join("src/lib.rs"),
    ///     "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n",
    /// )?;
    /// use migrations_build::Dialect;
    ///
    /// let mut config = Config::new();
    /// config.manifest_dir(&dir).mode(Mode::Auto).cargo_output(false);
    /// config.clone().seal(Some("initial")).generate()?;
    /// let backward = config.sql("0001_initial", Dialect::Sqlite, true)?;
    /// assert_eq!(backward.len(), 1);
    /// assert!(backward[0].ends_with(r#"DROP TABLE "notes""#));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sql(&self, id: &str, dialect: Dialect, backward: bool) -> Result<Vec<String>> {
        let paths = self.paths()?;
        let files = migration_files::read_dir(&paths.migrations)?;
        if !files.iter().any(|f| f.id == id) {
            let known: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
            return Err(Error::Usage(format!("no migration `{id}`; the migrations are: {}", known.join(", "))));
        }
        let read = |f: &MigrationFile, backward: bool, start: &Schema| -> Result<(Vec<Operation>, Vec<DataStep>)> {
            let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
            crate::interpret::read_operations_and_steps(&text, backward, start).map_err(|e| {
                Error::MigrationFile(Located {
                    location: Location { path: f.path.clone(), line: e.line, column: 1 },
                    message: e.message,
                })
            })
        };
        let render_err = |e: migrations_core::render::RenderError| Error::Usage(format!("cannot render `{id}`: {e}"));
        // Foreign keys to other apps' tables need those tables in the replayed schema.
        let mut schema = crate::replay::start_schema(&paths.manifest, &files)?;
        for f in &files {
            let (up, up_data) = read(f, false, &schema)?;
            if f.id == id {
                if !backward {
                    return render_with_data_steps(&up, &up_data, &schema, dialect).map_err(render_err);
                }
                schema.apply_all(&up).map_err(|e| Error::Usage(format!("cannot replay `{id}`: {e}")))?;
                let (down, down_data) = read(f, true, &schema)?;
                return render_with_data_steps(&down, &down_data, &schema, dialect).map_err(render_err);
            }
            schema.apply_all(&up).map_err(|e| Error::Usage(format!("cannot replay `{}`: {e}", f.id)))?;
        }
        Ok(Vec::new())
    }
}

impl Config {
    /// `cargo chakra rebuild-snapshot`: writes the snapshot the sealed migrations build
    /// (replayed from their files), and returns what that changed in it, in words. After
    /// a sealed migration was deleted to be redone, the next build drafts its change again.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use migrations_build::{Config, Mode};
    ///
    /// let dir = std::env::temp_dir().join(format!("chakra-doc-{}-{}", std::process::id(), line!()));
    /// std::fs::create_dir_all(dir.join("src"))?;
    /// std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n")?;
    /// let model = "#[derive(Model)]\npub struct Note {\n    #[model(primary_key)]\n    pub id: i64,\n}\n";
    /// std::fs::write(dir.join("src/lib.rs"), model)?;
    /// let mut config = Config::new();
    /// config.manifest_dir(&dir).mode(Mode::Auto).cargo_output(false);
    /// config.clone().seal(Some("initial")).generate()?;
    /// std::fs::write(dir.join("src/lib.rs"), model.replace("i64,", "i64,\n    pub body: Option<String>,"))?;
    /// config.clone().seal(Some("add_body")).generate()?;
    ///
    /// // Deleted to be redone: the snapshot still holds `body`, and check mode says so.
    /// std::fs::remove_file(dir.join("migrations/0002_add_body.rs"))?;
    /// assert!(config.clone().mode(Mode::Check).generate().is_err());
    /// let changed = config.rebuild_snapshot()?;
    /// assert_eq!(changed, ["RemoveField notes.body"]);
    /// let report = config.generate()?;
    /// assert_eq!(report.draft, Some(dir.join("migrations/0002_add_note_body.rs")));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rebuild_snapshot(&self) -> Result<Vec<String>> {
        let paths = self.paths()?;
        let (sealed, _) = split_draft(migration_files::read_dir(&paths.migrations)?);
        check_graph(&sealed)?;
        let start = crate::replay::start_schema(&paths.manifest, &sealed)?;
        let replayed = crate::replay::replay(&sealed, &start, &crate::cache::Cache::none())?.map_err(|at| {
            Error::Usage(format!("cannot rebuild the snapshot: {at}; a migration with Rust that only the application runs cannot be replayed here: restore the snapshot from version control instead (`git checkout -- .chakra/snapshot.toml`), or restore the deleted migration (`git checkout -- migrations/`)"))
        })?;
        // The old snapshot is read only to say what changes: one that does not parse (git
        // conflict markers after a merge of two branches that both changed models) is
        // simply replaced.
        let old = match std::fs::read_to_string(&paths.snapshot) {
            Ok(text) => from_toml(&text).ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Schema::new()),
            Err(e) => return Err(Error::io("read", &paths.snapshot)(e)),
        };
        let changed = match old.map(|old| diff_from(old, &replayed, &migrations_core::diff::Intent::default())) {
            Some(Ok(d)) => d.operations.iter().map(ToString::to_string).collect(),
            Some(Err(_)) => vec!["(the old snapshot does not compare; it is replaced whole)".to_string()],
            None => {
                vec!["(the old snapshot could not be read, a merge conflict perhaps; it is replaced whole)".to_string()]
            }
        };
        write_if_changed(&paths.snapshot, &to_toml(&replayed))?;
        Ok(changed)
    }
}

/// The SQL of `ops` from `start` as it runs on a live database, each statement after a
/// comment on how it runs and what it locks, with a comment where each Rust data step
/// runs: its SQL is known only to the application that runs it.
fn render_with_data_steps(
    ops: &[Operation],
    data: &[DataStep],
    start: &Schema,
    dialect: Dialect,
) -> std::result::Result<Vec<String>, migrations_core::render::RenderError> {
    let statements = migrations_core::render::live::migration(ops, start, dialect, Forms::Online)?;
    let mut out = Vec::new();
    let mut data = data.iter().peekable();
    let data_step =
        |step: &DataStep| format!("-- the Rust data step `{}` runs here (only the application can run it)", step.name);
    for s in statements {
        while let Some(step) = data.next_if(|d| d.after <= s.operation) {
            out.push(data_step(step));
        }
        out.push(s.annotated(dialect));
    }
    out.extend(data.map(data_step));
    Ok(out)
}

/// The operations of a change, in words (for `cargo chakra check`).
pub fn describe(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(ToString::to_string).collect()
}
