use migrations_runtime::Model;

#[derive(Model)]
pub struct Event {
    #[model(primary_key)]
    pub id: i64,
    #[model(default = "x", default_expr = "lower('X')")]
    pub kind: String,
    #[model(references = 42)]
    pub owner_id: i64,
}

fn main() {}
