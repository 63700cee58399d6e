//! The example blog. On boot it brings its database up to date (a SQLite file by
//! default, any `DATABASE_URL` otherwise), then adds a post and lists them all.
//! `example-app migrate status|apply|rollback|sql|history` is the mounted migrate CLI.

use std::process::ExitCode;

use clap::Parser;
use example_app::{blog, MIGRATIONS};
use migrations_runtime::cli::MigrateCommand;
use migrations_runtime::{AnyConnection, Migrator};

#[derive(Parser)]
#[command(about = "A small blog that migrates its own database on boot")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Database migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://example.db?mode=rwc".to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let url = database_url();
    // The accounts app's migrations and the blog's, applied in one order.
    let migrator = Migrator::for_apps([&example_auth::MIGRATIONS, &MIGRATIONS]);
    if let Some(Command::Migrate(cmd)) = cli.command {
        return cmd.run(&migrator, &url).await;
    }
    match run(&migrator, &url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(migrator: &Migrator, url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = AnyConnection::connect(url).await?;
    let applied = migrator.apply(&mut conn).await?;
    println!("database {}: {} migration(s) applied on boot", migrations_runtime::any::redact(url), applied.len());
    let count = blog::post_count(&mut conn).await? + 1;
    blog::add_post(&mut conn, "ada", &format!("Post number {count}"), "hello").await?;
    for (author, title, tags) in blog::posts(&mut conn).await? {
        println!("  {author}: {title} [{}]", tags.join(", "));
    }
    Ok(())
}
