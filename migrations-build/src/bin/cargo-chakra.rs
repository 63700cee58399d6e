//! `cargo chakra`: the actions a build cannot take on its own.
//!
//! ```text
//! cargo chakra seal [--name NAME]     seal the draft: name it, drop the draft mark, advance the snapshot
//! cargo chakra make --empty --name N  a new empty migration for hand-written SQL or data steps
//! cargo chakra merge [--name NAME]    a migration that joins two heads after a git merge
//! cargo chakra check                  fail if the models have changes no sealed migration covers
//! cargo chakra rebuild-snapshot       rewrite the snapshot from the sealed migrations
//! cargo chakra sql ID [--dialect D] [--backward]   the SQL of one migration
//! cargo chakra script --dialect D [--from ID] [--to ID] [--backward]   the whole SQL of a range, for a DBA
//! cargo chakra inspect --url URL [--schema S] [--tables a,b]   adopt an existing database
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migrations_build::{Config, Mode};

#[derive(Parser, Debug)]
#[command(name = "cargo chakra", version, about = "Chakra migrations: seal, make, merge and check migrations")]
struct Cli {
    /// The package's Cargo.toml (default: the nearest one above the current directory).
    #[arg(long, global = true)]
    manifest_path: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Seal the pending change: write it as a named migration and advance the snapshot.
    Seal {
        /// The migration's name (default: derived from the change, e.g. `add_user_email`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Write a new migration for a person to fill in.
    Make {
        /// Required: the migration has no operations (hand-written RunSQL or data step).
        #[arg(long, required = true)]
        empty: bool,
        /// The migration's name.
        #[arg(long)]
        name: String,
    },
    /// Write a migration that joins the heads of the graph after a git merge.
    Merge {
        /// The migration's name (default: `merge_<numbers>`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Write one migration that replaces a run of sealed ones (a long history): what it
    /// replaces stays until every database has applied it.
    Squash {
        /// The first migration it replaces (default: the first one).
        #[arg(long)]
        from: Option<String>,
        /// The last migration it replaces.
        #[arg(long)]
        to: String,
        /// The squash's name (default: `squashed_<last number>`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Rewrite the snapshot from the sealed migrations (after one was deleted to be redone).
    RebuildSnapshot,
    /// Fail if the models have changes that no sealed migration covers.
    Check,
    /// Print the SQL of one migration.
    Sql {
        /// The migration id, e.g. `0002_add_user_email`.
        id: String,
        /// postgres, mysql or sqlite.
        #[arg(long, default_value = "postgres")]
        dialect: String,
        /// The SQL that rolls it back.
        #[arg(long)]
        backward: bool,
    },
    /// The whole SQL script of a range of the sealed migrations, history table included,
    /// for a DBA to review and run by hand: what the binary's `migrate script` prints,
    /// without a database or a build.
    Script {
        /// postgres, mysql or sqlite.
        #[arg(long)]
        dialect: String,
        /// Which migrations.
        #[command(flatten)]
        range: migrations_runtime::ScriptRange,
    },
    /// Adopt an existing database: write models, the snapshot and a sealed baseline
    /// migration that builds exactly its schema.
    Inspect {
        /// The database (postgres://, mysql://, mariadb:// or sqlite:).
        #[arg(long)]
        url: String,
        /// PostgreSQL: the schema to read (default: the connection's current schema).
        #[arg(long)]
        schema: Option<String>,
        /// Only these tables (and what belongs to them), separated by commas.
        #[arg(long, value_delimiter = ',')]
        tables: Option<Vec<String>>,
    },
}

/// `cargo chakra inspect`: reads the database, then writes models, snapshot and baseline.
fn inspect(
    config: &Config,
    url: &str,
    schema: Option<String>,
    tables: Option<Vec<String>>,
) -> Result<String, migrations_build::Error> {
    use migrations_build::adopt::Adoption;
    use migrations_runtime::any::redact;
    use migrations_runtime::introspect::{inspect, InspectOptions};
    use migrations_runtime::{AnyConnection, Connection};
    let failed =
        |e: migrations_runtime::MigrateError| migrations_build::Error::Usage(format!("inspect {}: {e}", redact(url)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| migrations_build::Error::Usage(format!("starting the async runtime: {e}")))?;
    let (dialect, inspected) = runtime.block_on(async {
        let mut conn = AnyConnection::connect(url).await.map_err(failed)?;
        let dialect = conn.dialect();
        let inspected = inspect(&mut conn, &InspectOptions { schema, tables }).await.map_err(failed)?;
        Ok::<_, migrations_build::Error>((dialect, inspected))
    })?;
    let adopted = config.adopt(&Adoption::of(dialect, inspected))?;
    let mut lines = vec![format!(
        "adopted {} ({} table{}): wrote {} model files under src/models/ and {}",
        redact(url),
        adopted.models.len(),
        if adopted.models.len() == 1 { "" } else { "s" },
        adopted.models.len() + 1 + usize::from(adopted.enums.is_some()),
        shown(&adopted.migration)
    )];
    if !adopted.as_sql.is_empty() {
        lines.push("as raw SQL in the baseline (the models cannot say these):".into());
        lines.extend(adopted.as_sql.iter().map(|w| format!("  {w}")));
    }
    lines.push(adopted.coverage());
    lines.push(format!(
        "next: `cargo build`, then on this database `migrate baseline {}`",
        adopted.migration.file_stem().and_then(|s| s.to_str()).unwrap_or("0001_baseline")
    ));
    Ok(lines.join("\n"))
}

fn package_dir(manifest_path: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = manifest_path {
        return p.parent().map(PathBuf::from).ok_or_else(|| format!("{} has no parent folder", p.display()));
    }
    let start = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    start.ancestors().find(|d| d.join("Cargo.toml").is_file()).map(PathBuf::from).ok_or_else(|| {
        format!("no Cargo.toml in {} or above; run inside the package or give --manifest-path", start.display())
    })
}

/// `path` relative to the current folder when it is below it, as people type paths.
fn shown(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    match cwd.as_deref().and_then(|c| full.strip_prefix(c).ok()) {
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}

fn main() -> ExitCode {
    // `cargo chakra ...` runs this binary as `cargo-chakra chakra ...`.
    let args = std::env::args().enumerate().filter(|(i, a)| !(*i == 1 && a == "chakra")).map(|(_, a)| a);
    let cli = Cli::parse_from(args);
    let dir = match package_dir(cli.manifest_path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cargo chakra: {e}");
            return ExitCode::FAILURE;
        }
    };
    // What build.rs gives its `Config` (dialects, folders, app), as its last run wrote it.
    let mut config = match Config::of_package(&dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cargo chakra: {e}");
            return ExitCode::FAILURE;
        }
    };
    config.cargo_output(false);
    let result = match cli.command {
        Command::Seal { name } => {
            config.mode(Mode::Auto).seal(name.as_deref()).generate().map(|r| match (r.sealed, r.removed_draft) {
                (Some(p), _) => format!("sealed {}", shown(&p)),
                (None, Some(p)) => format!("nothing to seal; removed the stale draft {}", shown(&p)),
                (None, None) => "nothing to seal: the models match the snapshot".to_string(),
            })
        }
        Command::RebuildSnapshot => config.rebuild_snapshot().map(|changed| {
            if changed.is_empty() {
                "the snapshot already holds what the sealed migrations build".to_string()
            } else {
                let lines: Vec<String> = changed.iter().map(|c| format!("  {c}")).collect();
                format!("rebuilt the snapshot from the sealed migrations:\n{}\nthe next build drafts what the models add to it", lines.join("\n"))
            }
        }),
        Command::Make { name, .. } => config.make_empty(&name).map(|p| format!("wrote {}", shown(&p))),
        Command::Merge { name } => config.merge(name.as_deref()).map(|p| format!("wrote {}", shown(&p))),
        Command::Squash { from, to, name } => config.squash(from.as_deref(), &to, name.as_deref()).map(|s| s.summary()),
        Command::Check => {
            config.mode(Mode::Check).generate().map(|_| "ok: every model change is in a sealed migration".to_string())
        }
        Command::Inspect { url, schema, tables } => inspect(&config, &url, schema, tables),
        Command::Script { dialect, range } => match dialect.parse::<migrations_core::Dialect>() {
            // The script ends with its own newline.
            Ok(d) => config.script(d, &range).map(|s| s.trim_end().to_string()),
            Err(e) => Err(migrations_build::Error::Usage(e.to_string())),
        },
        Command::Sql { id, dialect, backward } => match dialect.parse::<migrations_core::Dialect>() {
            Ok(d) => config.sql(&id, d, backward).map(|stmts| {
                // A comment (where a Rust data step runs) takes no `;`.
                // A statement (after its comment) ends in `;`; a comment alone does not.
                let line =
                    |s: &String| if s.lines().all(|l| l.starts_with("--")) { s.clone() } else { format!("{s};") };
                stmts.iter().map(line).collect::<Vec<_>>().join("\n")
            }),
            Err(e) => Err(migrations_build::Error::Usage(e.to_string())),
        },
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
