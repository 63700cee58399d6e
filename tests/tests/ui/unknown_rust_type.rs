use migrations_runtime::Model;

pub type Email = String;

#[derive(Model)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: Email,
    pub age: u32,
}

fn main() {}
