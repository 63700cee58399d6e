//! The accounts app's tables.

use migrations_runtime::Model;

/// Someone who can sign in and write.
#[derive(Debug, Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 50, unique)]
    pub username: String,
    #[model(max_length = 255)]
    pub email: Option<String>,
    #[model(default = true)]
    pub is_active: bool,
}
