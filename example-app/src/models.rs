//! The blog's tables.

use migrations_runtime::Model;

/// Someone who writes.
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

/// A blog post.
#[derive(Debug, Model)]
pub struct Post {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = User, on_delete = "cascade")]
    pub author_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    pub body: String,
}

/// A label on posts.
#[derive(Debug, Model)]
pub struct Tag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 40, unique)]
    pub name: String,
}
