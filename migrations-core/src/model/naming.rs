//! Default table names: snake_case of the struct name plus the plain English plural.

use heck::ToSnakeCase;

/// `BlogPost` → `blog_posts`, `Category` → `categories`, `Box` → `boxes`.
pub fn default_table_name(struct_name: &str) -> String {
    let snake = struct_name.to_snake_case();
    let (head, last) = match snake.rsplit_once('_') {
        Some((h, l)) => (format!("{h}_"), l.to_string()),
        None => (String::new(), snake),
    };
    format!("{head}{}", plural(&last))
}

/// The plain English plural of one lower-case word: `-es` after s/x/z/ch/sh, consonant +
/// `y` → `-ies`, otherwise `-s`. Irregular words need `#[model(table = "...")]`.
pub fn plural(word: &str) -> String {
    let ends = |s: &str| word.ends_with(s);
    if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") {
        return format!("{word}es");
    }
    if let Some(stem) = word.strip_suffix('y') {
        if stem.chars().last().is_some_and(|c| !"aeiou".contains(c)) {
            return format!("{stem}ies");
        }
    }
    format!("{word}s")
}

/// The singular of a plural `plural` makes (what `cargo chakra inspect` names a table's
/// struct after): `categories` → `category`, `addresses` → `address`, `users` → `user`;
/// a word that is not such a plural (`status`, `data`) stays as it is.
pub fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    if ["sses", "shes", "ches", "xes", "zes"].iter().any(|s| word.ends_with(s)) {
        return word[..word.len() - 2].to_string();
    }
    match word.strip_suffix('s') {
        Some(stem) if !word.ends_with("ss") && !word.ends_with("us") => stem.to_string(),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singulars_undo_the_plain_plurals() {
        for word in ["user", "category", "address", "box", "church", "wish", "day", "post_tag"] {
            assert_eq!(singular(&plural(word)), word);
        }
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("data"), "data");
    }

    #[test]
    fn plurals_follow_the_plain_rules() {
        assert_eq!(default_table_name("User"), "users");
        assert_eq!(default_table_name("BlogPost"), "blog_posts");
        assert_eq!(default_table_name("Category"), "categories");
        assert_eq!(default_table_name("Day"), "days");
        assert_eq!(default_table_name("Box"), "boxes");
        assert_eq!(default_table_name("Address"), "addresses");
        assert_eq!(default_table_name("Church"), "churches");
        assert_eq!(default_table_name("Wish"), "wishes");
        assert_eq!(default_table_name("Quiz"), "quizes");
        assert_eq!(default_table_name("PostTag"), "post_tags");
    }
}
