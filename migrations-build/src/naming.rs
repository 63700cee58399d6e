//! Migration names derived from the change: `initial`, `add_user_email`,
//! `create_posts`, `auto_posts_users` for mixed changes.

use heck::ToSnakeCase;
use migrations_core::Operation;

/// The longest name part of a migration id.
const MAX_NAME: usize = 60;

/// A name for `ops`. `model_name` maps a table to the snake_case name of its model
/// (`users` → `user`), falling back to the table name.
pub fn name_for(ops: &[Operation], first: bool, model_name: &dyn Fn(&str) -> String) -> String {
    if first {
        return "initial".into();
    }
    // Indexes and constraints of tables created in the same migration are part of them.
    let created: Vec<&str> = ops
        .iter()
        .filter_map(|o| match o {
            Operation::CreateModel { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let main: Vec<&Operation> = ops
        .iter()
        .filter(|o| match o {
            Operation::CreateIndex { table, .. } | Operation::AddConstraint { table, .. } => {
                !created.contains(&table.as_str())
            }
            _ => true,
        })
        .collect();
    let name = match main.as_slice() {
        [one] => single(one, model_name),
        many if many.iter().all(|o| matches!(o, Operation::CreateModel { .. })) => {
            format!("create_{}", created.join("_"))
        }
        many => {
            let mut tables: Vec<&str> = many.iter().filter_map(|o| o.table()).collect();
            tables.sort_unstable();
            tables.dedup();
            format!("auto_{}", tables.join("_"))
        }
    };
    clean(&name)
}

fn single(op: &Operation, model_name: &dyn Fn(&str) -> String) -> String {
    match op {
        Operation::CreateModel { table } => format!("create_{}", table.name),
        Operation::DeleteModel { table } => format!("delete_{}", table.name),
        Operation::RenameModel { old, new } => format!("rename_{old}_to_{new}"),
        Operation::AlterModelComment { table, .. } => format!("alter_{}_comment", table),
        Operation::AddField { table, column, .. } => format!("add_{}_{}", model_name(table), column.name),
        Operation::RemoveField { table, column } => format!("remove_{}_{}", model_name(table), column.name),
        Operation::AlterField { table, new, .. } => format!("alter_{}_{}", model_name(table), new.name),
        Operation::RenameField { table, old, new } => format!("rename_{}_{old}_to_{new}", model_name(table)),
        Operation::CreateIndex { index, .. } => format!("add_index_{}", index.name),
        Operation::DropIndex { index, .. } => format!("remove_index_{}", index.name),
        Operation::RenameIndex { new, .. } => format!("rename_index_{new}"),
        Operation::AddConstraint { constraint, .. } => format!("add_{}", constraint.name()),
        Operation::RemoveConstraint { constraint, .. } => format!("remove_{}", constraint.name()),
        Operation::AlterConstraint { old, new, .. } if old.not_valid() && !new.not_valid() => {
            format!("validate_{}", new.name())
        }
        Operation::AlterConstraint { new, .. } => format!("alter_{}", new.name()),
        Operation::CreateView { view } => format!("create_view_{}", view.name),
        Operation::DropView { view } => format!("drop_view_{}", view.name),
        Operation::AlterEnum { name, .. } => format!("alter_enum_{name}"),
        Operation::RenameEnum { old, new } => format!("rename_enum_{old}_to_{new}"),
        Operation::CreateRaw { object } => format!("create_{}_{}", object.kind, object.name),
        Operation::DropRaw { object } => format!("drop_{}_{}", object.kind, object.name),
        Operation::RunSql(_) => "run_sql".into(),
    }
}

/// Lower-case ASCII letters, digits and single `_`, at most [`MAX_NAME`] characters, cut
/// between words (`auto_posts_tags`, not `auto_posts_ta`).
pub fn clean(name: &str) -> String {
    let snake = name.to_snake_case();
    let mut out = String::new();
    for c in snake.chars() {
        let c = if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' };
        if !(c == '_' && (out.is_empty() || out.ends_with('_'))) {
            out.push(c);
        }
    }
    let whole = out.trim_end_matches('_').to_string();
    let mut out: String = whole.chars().take(MAX_NAME).collect();
    let cut_in_a_word = whole.len() > out.len() && !whole[out.len()..].starts_with('_');
    if cut_in_a_word {
        if let Some(end) = out.rfind('_').filter(|end| *end > 0) {
            out.truncate(end);
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        "migration".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_between_words() {
        let name = clean("auto_authors_categories_comments_post_tags_posts_subscriptions_users");
        assert!(name.len() <= MAX_NAME, "{name}");
        assert_eq!(name, "auto_authors_categories_comments_post_tags_posts");
        assert_eq!(clean("add_user_email"), "add_user_email");
        let one_word = "x".repeat(80);
        assert_eq!(clean(&one_word).len(), MAX_NAME);
    }
}
