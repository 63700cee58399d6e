use migrations_runtime::{DbEnum, Model};

#[derive(DbEnum)]
pub struct NotAnEnum {
    pub value: String,
}

#[derive(DbEnum)]
#[db_enum(rename_all = "Title Case", colour = "red")]
pub enum Shape {
    Circle(f64),
    Square,
    #[db_enum(rename = "square")]
    Box,
    #[db_enum(renamed_from = "triangle", rename = "triangle")]
    Triangle,
}

#[derive(DbEnum)]
pub enum Empty {}

#[derive(DbEnum)]
#[db_enum(name = "tier", renamed_from = "tier")]
pub enum Tier {
    Free,
}

#[derive(DbEnum)]
pub enum Status {
    Active,
    Closed,
}

pub struct Email(pub String);

#[derive(Model)]
pub struct Account {
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = 20)]
    pub status: Status,
    pub email: Email,
}

fn main() {}
