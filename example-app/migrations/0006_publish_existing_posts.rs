// Written by `cargo chakra` on 2026-11-22 for a person to fill in; the build never rewrites it.
//
// 0006_publish_existing_posts
//
// Posts written before 0002 were public: the blog listed every post. 0002 added
// `published` with `false` for them; this makes them public again. Rolling back sets
// the flag back to `false`, which is what 0002 left.

use migrations_runtime::schema::*;

pub const ID: &str = "0006_publish_existing_posts";
pub const DEPENDENCIES: &[&str] = &["0005_add_uq_posts_author_id_title"];

pub fn up(m: &mut Migration) {
    m.run_sql("UPDATE posts SET published = TRUE", Some("UPDATE posts SET published = FALSE"));
}

pub fn down(m: &mut Migration) {
    m.run_sql("UPDATE posts SET published = FALSE", Some("UPDATE posts SET published = TRUE"));
}
