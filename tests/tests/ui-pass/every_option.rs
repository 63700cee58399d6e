use migrations_runtime::Model;

pub struct Decimal;
pub struct Uuid;
pub struct Utc;
pub struct DateTime<T>(T);

#[derive(Model)]
#[model(table = "users", comment = "people who log in", index(email, created_at), unique(username, email, name = "uq_users_login"))]
#[model(check(name = "ck_users_karma", expr = "karma >= 0"))]
/// Doc comments and other attributes are ignored.
#[allow(dead_code)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 50, unique, comment = "shown publicly")]
    pub username: String,
    #[model(max_length = 255, index)]
    pub email: Option<String>,
    #[model(default = true)]
    pub is_active: bool,
    #[model(default = -1, renamed_from = "score")]
    pub karma: i32,
    #[model(default_expr = "now()")]
    pub created_at: DateTime<Utc>,
    #[model(precision = 10, scale = 2, default = 0.50)]
    pub balance: Decimal,
    #[model(column = "uuid", default_expr = "gen_uuid()")]
    pub public_id: Uuid,
    #[model(column_type = "sql:citext")]
    pub alias: Option<String>,
    #[model(max_length = 30, unique = "users_handle_key")]
    pub handle: String,
    #[model(column_type = "varchar", index = "users_bio_idx")]
    pub bio: Option<String>,
    #[model(skip)]
    pub cache: Vec<String>,
}

#[derive(Model)]
#[model(primary_key(user_id, group_id, name = "memberships_pk"))]
#[model(foreign_key(user_id, group_id, references = "memberships(user_id, group_id)", on_delete = "cascade", name = "memberships_self_fk", index = false))]
pub struct Membership {
    #[model(references = User, on_delete = "cascade")]
    pub user_id: i64,
    #[model(references = "groups(id)", on_delete = "set null", index = false, foreign_key_name = "users_group_fkey", deferrable = "initially deferred")]
    pub group_id: Option<i64>,
    #[model(backfill_expr = "now()")]
    pub joined_at: DateTime<Utc>,
}

fn main() {
    assert_eq!(User::TABLE, "users");
    assert_eq!(User::COLUMNS[7], "uuid");
    assert!(!User::COLUMNS.contains(&"cache"));
    assert_eq!(Membership::TABLE, "memberships");
}
