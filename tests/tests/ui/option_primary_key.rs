use migrations_runtime::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key)]
    pub id: Option<i64>,
    pub nickname: Option<Option<String>>,
}

fn main() {}
