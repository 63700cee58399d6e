use migrations_runtime::Model;

#[derive(Model)]
pub enum Status {
    Active,
    Banned,
}

#[derive(Model)]
pub struct Pair(i64, i64);

fn main() {}
