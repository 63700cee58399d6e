use migrations_runtime::Model;

#[derive(Model)]
pub struct Team {
    #[model(primary_key)]
    pub id: i64,
}

#[derive(Model)]
#[model(foreign_key(team_id, references = "teams(id)", deferrable = "later"))]
pub struct Member {
    #[model(primary_key)]
    pub id: i64,
    pub team_id: i64,
    #[model(references = Team, deferrable = "sometimes")]
    pub other_team_id: i64,
    #[model(deferrable)]
    pub plain: i64,
}

fn main() {}
