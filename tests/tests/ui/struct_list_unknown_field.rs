use migrations_runtime::Model;

#[derive(Model)]
#[model(index(title, author), unique(slug, slug))]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
    pub title: String,
    pub slug: String,
}

fn main() {}
