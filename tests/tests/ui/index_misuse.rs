use migrations_runtime::Model;

#[derive(Model)]
#[model(index(title, method = "bitmap"))]
#[model(index(title, order(title = "downwards")))]
#[model(index(title, order(body = "desc")))]
#[model(index(title, include(title)))]
#[model(index(title, opclass(title = "not an opclass!")))]
#[model(index(title, order(title)))]
#[model(index(title, filter = "body <> ''"))]
#[model(index(name = "ix_nothing"))]
#[model(index(expr = ""))]
#[model(index(author_id, where = "body <> ''"))]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
    #[model(index)]
    pub author_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    pub body: String,
}

fn main() {}
