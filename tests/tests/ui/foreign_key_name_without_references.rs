use migrations_runtime::Model;

#[derive(Model)]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
    #[model(foreign_key_name = "posts_author_fkey")]
    pub author_id: i64,
}

fn main() {}
