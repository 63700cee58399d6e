use migrations_runtime::Model;

#[derive(Model)]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
    #[model(references = "users(id)", on_delete = "set null")]
    pub author_id: i64,
    #[model(on_delete = "cascade")]
    pub editor_id: Option<i64>,
}

fn main() {}
