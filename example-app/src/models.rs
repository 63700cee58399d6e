//! The blog's tables. Its authors are the accounts app's users.

use migrations_runtime::Model;

/// A blog post. An author does not give two posts the same title.
#[derive(Debug, Model)]
#[model(unique(author_id, title))]
pub struct Post {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(references = example_auth::User, on_delete = "cascade")]
    pub author_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    pub content: String,
    #[model(default = false)]
    pub published: bool,
}

/// A label on posts.
#[derive(Debug, Model)]
pub struct Tag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 40, unique)]
    pub name: String,
}

/// Which posts carry which tags.
#[derive(Debug, Model)]
#[model(table = "post_tags", primary_key(post_id, tag_id))]
pub struct PostTag {
    #[model(references = Post, on_delete = "cascade")]
    pub post_id: i64,
    #[model(references = Tag, on_delete = "cascade")]
    pub tag_id: i64,
}
