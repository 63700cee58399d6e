//! The migration modules the build writes, one insta snapshot per operation kind and
//! one for a change that mixes several: they are read in review, so they are pinned.

use chakra_tests::fixtures;
use migrations_build::{module, ModuleSpec};

#[test]
fn generated_module_of_every_operation_kind() {
    for s in fixtures::all() {
        let deps = vec!["0001_initial".to_string()];
        let spec = ModuleSpec {
            id: &format!("0002_{}", s.name),
            dependencies: &deps,
            operations: &s.operations,
            sealed_on: None,
        };
        let text = module(&spec).expect("module");
        insta::assert_snapshot!(s.name, text);
    }
}

#[test]
fn generated_module_of_a_mixed_change_sealed() {
    let old = fixtures::resolved(
        r#"
        #[derive(Model)]
        #[model(table = "users")]
        pub struct User {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(max_length = 50, unique)]
            pub username: String,
            pub age: Option<i32>,
        }
        "#,
    );
    let new = migrations_core::model::parse_source(
        r#"
        #[derive(Model)]
        #[model(table = "users")]
        pub struct User {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(max_length = 80, unique, renamed_from = "username")]
            pub handle: String,
            #[model(max_length = 255, backfill = "")]
            pub email: String,
        }

        #[derive(Model)]
        pub struct Post {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(references = User, on_delete = "cascade")]
            pub author_id: i64,
            #[model(max_length = 200)]
            pub title: String,
            #[model(default_expr = "now()")]
            pub created_at: DateTime<Utc>,
        }
        "#,
        &migrations_core::Schema::new(),
    )
    .expect("models");
    let ops = migrations_core::diff::diff(&old, &new.schema, &new.intent).expect("diff").operations;
    let deps = vec!["0001_initial".to_string()];
    let spec = ModuleSpec {
        id: "0002_auto_posts_users",
        dependencies: &deps,
        operations: &ops,
        sealed_on: Some("2026-11-22"),
    };
    insta::assert_snapshot!(module(&spec).expect("module"));
}
