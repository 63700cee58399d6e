use migrations_runtime::Model;

#[derive(Model)]
#[model(foreign_key(org_id, number, references = "projects(id)"))]
pub struct Task {
    #[model(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub number: i32,
}

fn main() {}
