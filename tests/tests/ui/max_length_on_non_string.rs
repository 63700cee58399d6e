use migrations_runtime::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = 10)]
    pub age: i32,
}

fn main() {}
