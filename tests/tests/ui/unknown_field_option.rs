use migrations_runtime::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, nullable)]
    pub id: i64,
}

fn main() {}
