//! The example application: a blog whose models are `#[derive(Model)]` structs and whose
//! migrations the build writes. Applying them to a database on boot arrives with the
//! runtime's migrator; today the app shows its models, its embedded migrations and the
//! SQL they would run on SQLite.

use example_app::models;
use migrations_runtime::{Dialect, Model};

fn describe<M: Model>() {
    println!("  {:<8} {}", M::TABLE, M::COLUMNS.join(", "));
}

fn main() {
    println!("Models (table, columns):");
    describe::<models::User>();
    describe::<models::Post>();
    describe::<models::Tag>();
    println!("\nEmbedded migrations and their SQLite SQL:");
    match example_app::MIGRATIONS.sql(Dialect::Sqlite) {
        Ok(all) => {
            for (id, statements) in all {
                println!("  {id}");
                for s in statements {
                    println!("    {};", s.replace('\n', "\n    "));
                }
            }
        }
        Err(e) => {
            eprintln!("cannot render the migrations: {e}");
            std::process::exit(1);
        }
    }
}
