//! The `migrate` subcommand an application mounts in one line:
//!
//! ```no_run
//! # static MIGRATIONS: migrations_runtime::Migrations = migrations_runtime::Migrations { app: "blog", migrations: &[], snapshot: "" };
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! enum Cli {
//!     /// Database migrations.
//!     #[command(subcommand)]
//!     Migrate(migrations_runtime::cli::MigrateCommand),
//! }
//!
//! # async fn run() -> std::process::ExitCode {
//! let Cli::Migrate(cmd) = Cli::parse();
//! cmd.run(&migrations_runtime::Migrator::new(&MIGRATIONS), "sqlite://blog.db").await
//! # }
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use migrations_core::Dialect;

use crate::error::MigrateError;
use crate::migrator::{
    parse_duration, ApplyOptions, Baseline, LockRetry, Migrator, Progress, RollbackOptions, RollbackTarget,
    ScriptRange, State, VerifyOptions,
};

/// `migrate status | apply | rollback | sql | script | history | verify | baseline | resolve`: mount it as a
/// subcommand of the application's own CLI (see the [module](self) example), then run
/// it with [`MigrateCommand::run`].
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// enum Cli {
///     #[command(subcommand)]
///     Migrate(migrations_runtime::cli::MigrateCommand),
/// }
///
/// let Cli::Migrate(cmd) = Cli::parse_from(["my-app", "migrate", "rollback", "--app", "blog", "--count", "2"]);
/// assert!(matches!(cmd, migrations_runtime::cli::MigrateCommand::Rollback { count: Some(2), .. }));
/// ```
#[derive(Debug, Clone, clap::Subcommand)]
pub enum MigrateCommand {
    /// Show every migration: applied ✓, pending ○, changed ✗, unknown ?.
    Status,
    /// Apply pending migrations (all, or up to TARGET).
    Apply {
        /// Stop after this migration.
        target: Option<String>,
        /// Print the statements, execute none.
        #[arg(long)]
        dry_run: bool,
        /// Record as applied without running them.
        #[arg(long)]
        fake: bool,
        /// All pending migrations in one transaction (PostgreSQL, SQLite).
        #[arg(long)]
        atomic: bool,
        /// MySQL: finish an interrupted migration whose next step is a Rust data step
        /// (any other interrupted migration is finished by a plain apply).
        #[arg(long)]
        resume: bool,
        /// How statements wait for other sessions' locks.
        #[command(flatten)]
        locks: LockArgs,
    },
    /// Roll back the last batch, the last N, everything after ID, or `zero`.
    Rollback {
        /// `zero` rolls back everything.
        #[arg(value_parser = ["zero"])]
        zero: Option<String>,
        /// Roll back the last N migrations.
        #[arg(long, conflicts_with_all = ["to", "zero"])]
        count: Option<usize>,
        /// Roll back everything applied after this migration.
        #[arg(long, conflicts_with = "zero")]
        to: Option<String>,
        /// Remove irreversible migrations from the history anyway.
        #[arg(long)]
        force: bool,
        /// Only this app's migrations (refused while another app's applied migration
        /// depends on one of them).
        #[arg(long)]
        app: Option<String>,
        /// Roll back migrations this binary does not know with the SQL stored with them in
        /// the database (printed before it runs). Read it first: the database is not
        /// trusted.
        #[arg(long)]
        run_stored_sql: bool,
        /// Go ahead when the rollback drops tables or columns that hold data (asked
        /// for at a terminal; required elsewhere when no target is named).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Only remove the migrations from the history, running nothing (they were
        /// undone by hand).
        #[arg(long)]
        fake: bool,
        /// How statements wait for other sessions' locks.
        #[command(flatten)]
        locks: LockArgs,
    },
    /// Print the SQL of one migration.
    Sql {
        /// The migration.
        id: String,
        /// The SQL that rolls it back.
        #[arg(long)]
        backward: bool,
        /// postgres, mysql or sqlite (default: the database's own).
        #[arg(long)]
        dialect: Option<String>,
    },
    /// Print the whole SQL script that takes a database from one migration to another,
    /// history table included, for running by hand (`psql -v ON_ERROR_STOP=1 -f`).
    Script {
        /// Which migrations.
        #[command(flatten)]
        range: ScriptRange,
        /// postgres, mysql or sqlite (default: the database's own).
        #[arg(long)]
        dialect: Option<String>,
    },
    /// The history table, in the order migrations were applied.
    History,
    /// Compare the database's schema with what the applied migrations build; list every
    /// difference and exit 1 if there is one.
    Verify {
        /// Also report what no migration declares: other tables, and indexes,
        /// constraints, views, triggers and functions nobody declared.
        #[arg(long)]
        strict: bool,
    },
    /// Adopt a database whose schema was built without these migrations: record the
    /// migrations up to ID as applied, after checking that the database holds exactly
    /// what they build (on a database without any of their tables, apply them).
    Baseline {
        /// The last migration of the baseline (usually `0001_baseline`).
        id: String,
    },
    /// Settle an applied migration by hand: `--rolled-back` forgets an interrupted one
    /// whose statements were undone by hand (MySQL); `--accept-checksum` accepts a
    /// deliberate change to an applied migration's file. Each leaves a note in the history.
    Resolve {
        /// The migration.
        id: String,
        /// Its statements were undone by hand: forget it.
        #[arg(long, required_unless_present = "accept_checksum", conflicts_with = "accept_checksum")]
        rolled_back: bool,
        /// Its file was changed on purpose: record the binary's checksum for it.
        #[arg(long)]
        accept_checksum: bool,
    },
}

/// How long statements wait for other sessions' locks (`apply` and `rollback`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockArgs {
    /// How long any statement waits for a lock another session holds before the
    /// migration gives up and is tried again: `3s`, `500ms` (default: CHAKRA_LOCK_TIMEOUT,
    /// else 3 s).
    #[arg(long, value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,
    /// Tries in all before the run fails (default: CHAKRA_LOCK_TRIES, else 5).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub lock_tries: Option<u32>,
}

impl LockArgs {
    fn configure(&self, mut migrator: Migrator) -> Result<Migrator, MigrateError> {
        if let Some(t) = self.lock_timeout {
            migrator = migrator.lock_timeout(t);
        }
        if let Some(tries) = self.lock_tries {
            let retry = migrator.lock_waits()?.retry;
            migrator = migrator.lock_retry(LockRetry { tries, ..retry });
        }
        Ok(migrator)
    }
}

fn progress(p: &Progress) {
    let mut out = std::io::stdout();
    match p {
        Progress::Start { id } => {
            let _ = write!(out, "→ {id}… ");
        }
        Progress::Done { ms, .. } => {
            let _ = writeln!(out, "done ({ms} ms)");
        }
        Progress::StoredSql { id, statements } => {
            let _ = writeln!(out, "running the SQL stored in the database for {id}, which this binary does not know:");
            for s in statements {
                let _ = writeln!(out, "  {s};");
            }
        }
        Progress::LockWait { report, .. } => {
            let _ = writeln!(out, "waiting");
            eprintln!("{report}");
        }
        Progress::Drift { report } => eprintln!("{report}"),
    }
    let _ = out.flush();
}

/// Shows what a rollback will undo, and asks before one that drops data: at a terminal,
/// a question; elsewhere (a script, CI) a refusal unless `--yes`, when no target was named
/// (the last batch may not be the one the operator has in mind, say after a failed deploy).
/// `Ok(false)`: the operator said no.
async fn confirm_rollback(
    migrator: &Migrator,
    conn: &mut crate::any::AnyConnection,
    options: &RollbackOptions,
    named: bool,
    yes: bool,
) -> Result<bool, MigrateError> {
    use std::io::IsTerminal;
    let undos = migrator.rollback_preview(conn, options).await?;
    if undos.is_empty() {
        return Ok(true);
    }
    let verb = if options.fake { "forget (running nothing)" } else { "roll back" };
    println!("this will {verb}, last applied first:");
    let mut losing = false;
    for u in &undos {
        println!("  {}/{} (applied {})", u.app, u.id, u.applied_at);
        if options.fake {
            continue;
        }
        if u.unknown {
            println!("    not in this binary: undone only with the SQL stored in the database (--run-stored-sql)");
        }
        for loss in &u.losses {
            println!("    {loss}");
            losing |= loss.rows > 0;
        }
    }
    if !losing || yes || named {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(MigrateError::Usage(
            "this rollback drops data (above) and no migration was named; pass --yes to go ahead, or name what to roll back (`--count N`, `--to ID`)".into(),
        ));
    }
    print!("data will be lost; go ahead? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(true)
    } else {
        println!("nothing was rolled back");
        Ok(false)
    }
}

impl MigrateCommand {
    /// Runs the command against the database at `url`; prints for people; the exit code
    /// is non-zero on any failure.
    pub async fn run(&self, migrator: &Migrator, url: &str) -> ExitCode {
        match self.execute(migrator, url).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        }
    }

    async fn execute(&self, migrator: &Migrator, url: &str) -> Result<(), MigrateError> {
        if let MigrateCommand::Sql { id, backward, dialect: Some(d) } = self {
            let dialect: Dialect =
                d.parse().map_err(|e: migrations_core::dialect::UnknownDialect| MigrateError::Usage(e.to_string()))?;
            for s in migrator.sql(id, dialect, *backward)? {
                println!("{}", terminated(&s));
            }
            return Ok(());
        }
        if let MigrateCommand::Script { range, dialect: Some(d) } = self {
            let dialect: Dialect =
                d.parse().map_err(|e: migrations_core::dialect::UnknownDialect| MigrateError::Usage(e.to_string()))?;
            print!("{}", migrator.script(dialect, range)?);
            return Ok(());
        }
        let migrator = match self {
            MigrateCommand::Apply { locks, .. } | MigrateCommand::Rollback { locks, .. } => {
                locks.configure(migrator.clone())?
            }
            _ => migrator.clone(),
        };
        let mut conn = migrator.connect(url).await?;
        let migrator = migrator.on_progress(progress);
        match self {
            MigrateCommand::Status => {
                let lines = migrator.status(&mut conn).await?;
                let many_apps = lines.iter().map(|l| &l.app).collect::<std::collections::BTreeSet<_>>().len() > 1;
                for l in lines {
                    let name = if many_apps { format!("{}/{}", l.app, l.id) } else { l.id.clone() };
                    let draft = if l.draft { " [draft]" } else { "" };
                    match l.state {
                        State::Applied(at) => println!("✓ {name}{draft} (applied {at})"),
                        State::Pending => println!("○ {name}{draft} (pending)"),
                        State::Changed(at) => println!("✗ {name}{draft} (applied {at}, changed since)"),
                        State::Unknown(at) => println!("? {name} (applied {at}; not in this binary)"),
                        State::Interrupted(k) => {
                            println!("! {name} (interrupted after {k} statements; `migrate apply` finishes it)")
                        }
                    }
                }
                if let Some(hint) = migrator.adoption_hint(&mut conn).await? {
                    println!("note: {hint}");
                }
            }
            MigrateCommand::Apply { target, dry_run, fake, atomic, resume, .. } => {
                let options = ApplyOptions {
                    target: target.clone(),
                    dry_run: *dry_run,
                    fake: *fake,
                    atomic: *atomic,
                    resume: *resume,
                };
                let steps = migrator.apply_with(&mut conn, &options).await?;
                if *dry_run {
                    use crate::backend::Connection as _;
                    println!("-- the session settings of the run");
                    for line in migrator.session_settings(conn.dialect())? {
                        println!("{line}{}", if line.starts_with("--") { "" } else { ";" });
                    }
                    for s in &steps {
                        println!("-- {}/{}", s.app, s.id);
                        for stmt in &s.statements {
                            println!("{}", terminated(stmt));
                        }
                    }
                }
                let verb = if *dry_run {
                    "would apply"
                } else if *fake {
                    "recorded"
                } else {
                    "applied"
                };
                match steps.len() {
                    0 => println!("nothing to apply: the database is up to date"),
                    n => println!("{verb} {n} migration{}", if n == 1 { "" } else { "s" }),
                }
            }
            MigrateCommand::Rollback { zero, count, to, force, app, run_stored_sql, yes, fake, .. } => {
                let target = match (zero, count, to) {
                    (Some(_), _, _) => RollbackTarget::Zero,
                    (_, Some(n), _) => RollbackTarget::Count(*n),
                    (_, _, Some(id)) => RollbackTarget::To(id.clone()),
                    _ => RollbackTarget::LastBatch,
                };
                let named = zero.is_some() || count.is_some() || to.is_some();
                let options = RollbackOptions {
                    target,
                    force: *force,
                    app: app.clone(),
                    run_stored_sql: *run_stored_sql,
                    fake: *fake,
                };
                if !confirm_rollback(&migrator, &mut conn, &options, named, *yes).await? {
                    return Ok(());
                }
                let steps = migrator.rollback_with(&mut conn, &options).await?;
                let verb = if *fake { "forgot" } else { "rolled back" };
                match steps.len() {
                    0 => println!("nothing to roll back"),
                    n => println!("{verb} {n} migration{}", if n == 1 { "" } else { "s" }),
                }
            }
            MigrateCommand::Sql { id, backward, .. } => {
                use crate::backend::Connection as _;
                for s in migrator.sql(id, conn.dialect(), *backward)? {
                    println!("{}", terminated(&s));
                }
            }
            MigrateCommand::Script { range, .. } => {
                use crate::backend::Connection as _;
                print!("{}", migrator.script(conn.dialect(), range)?);
            }
            MigrateCommand::History => {
                for r in migrator.history(&mut conn).await? {
                    let state = match r.steps_done {
                        Some(k) => format!("interrupted after {k} statements"),
                        None => format!("{} ms", r.execution_time_ms),
                    };
                    println!("{}  batch {:<3} {}/{}  ({state})", r.applied_at, r.batch, r.app, r.id);
                }
                let notes = migrator.notes(&mut conn).await?;
                if !notes.is_empty() {
                    println!("notes:");
                    for n in notes {
                        println!("  {n}");
                    }
                }
            }
            MigrateCommand::Verify { strict } => {
                let drift = migrator.verify(&mut conn, &VerifyOptions { strict: *strict }).await?;
                if !drift.is_empty() {
                    return Err(MigrateError::Drift {
                        doing: "verify".into(),
                        advice: format!(
                            "{} difference{}. Change the database back, or write a migration that declares the change",
                            drift.len(),
                            if drift.len() == 1 { "" } else { "s" }
                        ),
                        drift,
                    });
                }
                println!("ok: the database holds what the applied migrations build");
            }
            MigrateCommand::Baseline { id } => match migrator.baseline(&mut conn, id).await? {
                Baseline::Recorded(steps) => println!(
                    "the database holds what the migrations up to {id} build: recorded {} migration{} as applied, ran none",
                    steps.len(),
                    if steps.len() == 1 { "" } else { "s" }
                ),
                Baseline::Applied(steps) => println!(
                    "the database held none of it: applied {} migration{}",
                    steps.len(),
                    if steps.len() == 1 { "" } else { "s" }
                ),
            },
            MigrateCommand::Resolve { id, accept_checksum: true, .. } => {
                let (old, new) = migrator.accept_checksum(&mut conn, id).await?;
                println!("accepted the checksum of {id}: was {old}, now {new} (noted in the history)");
            }
            MigrateCommand::Resolve { id, .. } => {
                migrator.resolve_rolled_back(&mut conn, id).await?;
                println!("forgot {id}; apply it again when ready");
            }
        }
        Ok(())
    }
}

/// A statement (after the comment that describes it) ends in `;`; a comment alone, such
/// as where a Rust data step runs, does not.
fn terminated(text: &str) -> String {
    if text.lines().all(|l| l.starts_with("--")) {
        text.to_string()
    } else {
        format!("{text};")
    }
}
