use migrations_runtime::Model;

#[derive(Model)]
#[model(check(name = "ck_points", expr = "points >= 0", not_valid = true))]
pub struct Score {
    #[model(primary_key)]
    pub id: i64,
    #[model(not_valid)]
    pub points: i64,
}

fn main() {}
