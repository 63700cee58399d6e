use migrations_runtime::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: String,
    #[model(auto_increment)]
    pub counter: i64,
}

fn main() {}
