use migrations_runtime::Model;

pub struct Decimal;

#[derive(Model)]
pub struct Product {
    #[model(primary_key)]
    pub id: i64,
    pub price: Decimal,
    #[model(precision = 4, scale = 6)]
    pub ratio: Decimal,
    #[model(precision = 10, scale = 2, default = 1.234)]
    pub fee: Decimal,
}

fn main() {}
