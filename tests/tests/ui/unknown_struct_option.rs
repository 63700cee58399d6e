use migrations_runtime::Model;

#[derive(Model)]
#[model(tablename = "users")]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
}

fn main() {}
