use migrations_runtime::Model;

#[derive(Model)]
pub struct Event {
    #[model(primary_key)]
    pub id: i64,
    #[model(default_expr(oracle = "SYSTIMESTAMP"))]
    pub at: i64,
    #[model(default_expr(postgres = "1", postgres = "2"))]
    pub twice: i64,
    #[model(default_expr(postgres = 1))]
    pub not_sql: i64,
}

fn main() {}
