use migrations_runtime::Model;

#[derive(Model)]
#[model(check(expr = "price > 0"), check(name = "ck_positive"))]
pub struct Product {
    #[model(primary_key)]
    pub id: i64,
    pub price: i64,
}

fn main() {}
