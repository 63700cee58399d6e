use migrations_runtime::Model;

#[derive(Model)]
pub struct Membership {
    #[model(primary_key)]
    pub user_id: i64,
    #[model(primary_key)]
    pub group_id: i64,
}

#[derive(Model)]
#[model(primary_key(user_id, group_id))]
pub struct Invite {
    #[model(primary_key)]
    pub user_id: i64,
    pub group_id: i64,
}

fn main() {}
