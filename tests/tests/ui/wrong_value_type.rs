use migrations_runtime::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = "50")]
    pub name: String,
    #[model(comment = 5, unique = 3)]
    pub other: i32,
}

fn main() {}
