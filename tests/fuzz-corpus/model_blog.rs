use migrations_runtime::Model;

#[derive(Model)]
#[model(table = "users", index(email, created_at), unique(name, email), check(name = "ck_karma", expr = "karma >= 0"))]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 50, unique, renamed_from = "username")]
    pub name: String,
    pub email: Option<String>,
    #[model(default = 0, comment = "points")]
    pub karma: i32,
    #[model(default_expr = "now()")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[model(precision = 10, scale = 2, backfill = 0)]
    pub balance: rust_decimal::Decimal,
}

#[derive(Model)]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
    #[model(references = User, on_delete = "cascade", index)]
    pub author_id: i64,
    #[model(references = "users(id)", on_update = "set null")]
    pub account_id: Option<i64>,
    #[model(column = "body_text", column_type = "sql:citext")]
    pub body: String,
    #[model(skip)]
    pub cache: Vec<u8>,
}
