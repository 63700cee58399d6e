//! The example application. Today it declares its models with `#[derive(Model)]` and
//! prints what the derive knows about them; bringing its database up to date on boot
//! arrives with the runtime (see the README's status section).

use example_app::models;
use migrations_runtime::Model;

fn describe<M: Model>() {
    println!("{:<10} {}", M::TABLE, M::COLUMNS.join(", "));
}

fn main() {
    println!("Models of the example blog (table, columns):");
    describe::<models::User>();
    describe::<models::Post>();
    describe::<models::Tag>();
}
