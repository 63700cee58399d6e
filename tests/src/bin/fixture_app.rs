//! A small application that mounts the `migrate` CLI over the fixture migrations:
//! `fixture_app <blog|guarded|edited> <DATABASE_URL> migrate <command> ...`.

use std::process::ExitCode;

use clap::Parser;
use migrations_runtime::cli::MigrateCommand;
use migrations_runtime::Migrator;

#[derive(Parser)]
struct Cli {
    /// Which fixture set.
    set: String,
    /// The database.
    url: String,
    /// Use the lock-table strategy instead of the database's advisory lock.
    #[arg(long)]
    table_lock: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Database migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(set) = chakra_tests::runtime_fixture::by_name(&cli.set) else {
        eprintln!("unknown fixture set `{}`", cli.set);
        return ExitCode::FAILURE;
    };
    let Command::Migrate(cmd) = cli.command;
    let mut migrator = Migrator::new(set).run_lock_timeout(std::time::Duration::from_secs(120));
    if cli.table_lock {
        migrator = migrator
            .lock_strategy(migrations_runtime::LockStrategy::Table { lease: std::time::Duration::from_secs(600) });
    }
    cmd.run(&migrator, &cli.url).await
}
