//! A PostgreSQL schema grown by hand (`fixtures/adopt/postgres.sql`: hand-named
//! constraints, composite keys, every foreign-key action, serials, arrays, jsonb, an
//! enum, partial, expression and GIN indexes, a deferrable key, a trigger, views) is read
//! back: what the schema IR holds as IR, under the names the database gives it, and the
//! rest as raw objects whose SQL rebuilds them. Rebuilding a second database from what
//! was read and reading that back gives the same schema, with no drift.

use std::collections::BTreeSet;

use chakra_tests::db::TestDb;
use chakra_tests::introspect::live_schema;
use migrations_core::catalog::{as_seen, compare, same_expr, Scope};
use migrations_core::diff::diff;
use migrations_core::schema::{ColumnType, Deferrable, FkAction};
use migrations_core::{Dialect, Schema};
use migrations_runtime::introspect::{Inspected, RawKind};

const SCHEMA: &str = include_str!("../fixtures/adopt/postgres.sql");

fn raw_names(inspected: &Inspected) -> BTreeSet<(RawKind, String)> {
    inspected.objects.iter().map(|o| (o.kind, o.name.clone())).collect()
}

/// What comes before the tables (types, functions) and what after (indexes, views...).
fn before_tables(kind: RawKind) -> bool {
    matches!(kind, RawKind::Extension | RawKind::Type | RawKind::Sequence | RawKind::Function)
}

#[tokio::test]
async fn a_hand_grown_postgres_schema_is_read_back_and_rebuilt() {
    let Some(mut grown) = TestDb::create(Dialect::Postgres, "grown").await else { return };
    grown.execute(SCHEMA).await.expect("the hand-written schema");
    let read = live_schema(&mut grown).await;

    let tables: Vec<&str> = read.schema.tables.keys().map(String::as_str).collect();
    assert_eq!(tables, ["audit_log", "organizations", "projects", "tasks", "users"]);
    let t = |name: &str| &read.schema.tables[name];
    let users = t("users");
    assert_eq!(users.column("tags").map(|c| &c.ty), Some(&ColumnType::array_of(ColumnType::Text)));
    assert_eq!(
        users.column("current_mood").map(|c| &c.ty),
        Some(&ColumnType::enumeration("mood", &["happy", "sad", "neutral"]))
    );
    assert!(users.column("id").is_some_and(|c| c.auto_increment && !c.serial && c.ty == ColumnType::Integer));
    let serial = t("organizations").column("id").expect("organizations.id");
    assert!(
        serial.auto_increment && serial.serial && serial.default.is_none(),
        "a serial is auto-increment: {serial:?}"
    );
    assert_eq!(t("organizations").uniques[0].name, "organizations_slug_key");
    assert_eq!(t("organizations").comment.as_deref(), Some("Customers"));
    assert_eq!(users.column("karma").and_then(|c| c.comment.as_deref()), Some("Reputation"));
    assert_eq!(users.checks[0].name, "users_karma_positive");
    // Expression, GIN, partial and descending indexes are the IR's too, as the server prints them.
    let index = |table: &str, name: &str| {
        t(table).indexes.iter().find(|i| i.name == name).unwrap_or_else(|| panic!("{table}: no index {name}")).clone()
    };
    assert_eq!(
        users.indexes.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["users_email_lower", "users_org_idx", "users_tags_gin"]
    );
    assert_eq!(index("users", "users_email_lower").definition(), "unique ((lower(email::text)))");
    assert_eq!(index("users", "users_tags_gin").definition(), "gin (tags)");
    assert_eq!(index("projects", "projects_active").definition(), "(organization_id) where NOT archived");
    assert_eq!(index("tasks", "tasks_due_desc").definition(), "(due_on DESC)");
    let fk = |table: &str, name: &str| {
        t(table).foreign_keys.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{table}: no {name}")).clone()
    };
    assert_eq!(fk("users", "users_organization_id_fkey").on_delete, FkAction::Cascade);
    assert_eq!(fk("projects", "projects_org_fk").on_delete, FkAction::Restrict);
    assert_eq!(fk("projects", "projects_owner_id_fkey").on_delete, FkAction::SetNull);
    assert_eq!(fk("tasks", "tasks_assignee_id_fkey").on_update, FkAction::Cascade);
    assert_eq!(fk("tasks", "tasks_project_fk").columns, ["organization_id", "project_number"]);
    assert_eq!(t("projects").primary_key, ["organization_id", "number"]);
    // A deferrable foreign key is a model's too.
    assert_eq!(fk("audit_log", "audit_actor_fk").deferrable, Deferrable::InitiallyDeferred);

    let raw = raw_names(&read);
    let expected: BTreeSet<(RawKind, String)> = [
        // (`mood` is a column's type: an enum of the models. An unused domain is raw SQL.)
        (RawKind::Type, "email_address"),
        (RawKind::Function, "touch_updated_at()"),
        (RawKind::View, "open_tasks"),
        (RawKind::MaterializedView, "task_counts"),
        (RawKind::Trigger, "users_touch"),
    ]
    .into_iter()
    .map(|(k, n)| (k, n.to_string()))
    .collect();
    assert_eq!(raw, expected);

    // Rebuild from what was read: raw objects the tables use, the tables, the rest.
    let Some(mut rebuilt) = TestDb::create(Dialect::Postgres, "rebuilt").await else { return };
    for o in read.objects.iter().filter(|o| before_tables(o.kind)) {
        rebuilt.execute(&o.create).await.unwrap_or_else(|e| panic!("{o}: {e}\n{}", o.create));
    }
    let ops = diff(&Schema::new(), &read.schema, &Default::default()).expect("diff").operations;
    rebuilt.apply(&ops, &Schema::new()).await;
    for o in read.objects.iter().filter(|o| !before_tables(o.kind)) {
        rebuilt.execute(&o.create).await.unwrap_or_else(|e| panic!("{o}: {e}\n{}", o.create));
    }
    let again = live_schema(&mut rebuilt).await;
    let drift = compare(&read.schema, &again.schema, Dialect::Postgres, Scope { strict: true });
    assert!(drift.is_empty(), "{drift:#?}");
    assert_eq!(raw_names(&again), raw);
    let seen = |s: &Schema| as_seen(s, Dialect::Postgres).canonical();
    let (mut first, second) = (seen(&read.schema), seen(&again.schema));
    for (name, table) in &mut first.tables {
        for (a, b) in table.checks.iter_mut().zip(&second.tables[name].checks) {
            assert!(same_expr(&a.expr, &b.expr), "{} vs {}", a.expr, b.expr);
            a.expr.clone_from(&b.expr);
        }
    }
    assert_eq!(first, second);
    grown.destroy().await;
    rebuilt.destroy().await;
}
