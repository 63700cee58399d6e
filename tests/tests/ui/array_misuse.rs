use migrations_runtime::Model;

#[derive(Model)]
pub struct Grid {
    #[model(primary_key)]
    pub id: i64,
    pub cells: Vec<Vec<i32>>,
    pub maybe: Vec<Option<i32>>,
    pub unknown: Vec<MyType>,
}

pub struct MyType;

fn main() {}
