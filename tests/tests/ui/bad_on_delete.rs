use migrations_runtime::Model;

#[derive(Model)]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
    #[model(references = "users(id)", on_delete = "delete")]
    pub author_id: i64,
}

fn main() {}
