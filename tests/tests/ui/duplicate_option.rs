use migrations_runtime::Model;

#[derive(Model)]
#[model(table = "users")]
#[model(table = "people")]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = 10, max_length = 20)]
    pub name: String,
}

fn main() {}
