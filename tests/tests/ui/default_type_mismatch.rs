use migrations_runtime::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(default = true)]
    pub karma: i32,
    #[model(default = "five")]
    pub level: i16,
    #[model(default = now())]
    pub seen: bool,
}

fn main() {}
