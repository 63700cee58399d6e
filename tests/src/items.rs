//! The `items` table of the data-preservation and crash tests ([`crate::runtime_fixture::ITEMS`]):
//! its rows, how to fill it, and how to read it back as text.

use migrations_core::{Dialect, Schema};
use migrations_runtime::Migrations;

use crate::db::TestDb;

/// The schema after the first `n` migrations of `set`.
pub fn schema_after(set: &Migrations, n: usize) -> Schema {
    set.schema_after(n).expect("replay")
}

/// `expr` as text on `dialect`.
pub fn text(dialect: Dialect, expr: &str) -> String {
    match dialect {
        Dialect::MySql => format!("CAST({expr} AS CHAR)"),
        _ => format!("CAST({expr} AS TEXT)"),
    }
}

/// One text per row: the columns joined with `|`, NULL as `∅`, ordered by id.
pub async fn dump(db: &mut TestDb, columns: &[&str]) -> Vec<String> {
    let parts: Vec<String> = columns.iter().map(|c| format!("COALESCE({}, '∅')", text(db.dialect, c))).collect();
    let joined = match db.dialect {
        Dialect::MySql => format!("CONCAT_WS('|', {})", parts.join(", ")),
        _ => parts.join(" || '|' || "),
    };
    db.query_strings(&format!("SELECT {joined} FROM items ORDER BY id")).await
}

/// `items.qty` of row `i`.
pub fn qty(i: usize) -> usize {
    i * 7 % 100_000
}

/// `items.note` of row `i` (every third is NULL).
pub fn note(i: usize) -> Option<String> {
    (!i.is_multiple_of(3)).then(|| format!("note {i}"))
}

/// The dump of `n` rows, before 0102 or after it (`reshaped`: `title`, and `views` = 0).
pub fn expected(n: usize, reshaped: bool) -> Vec<String> {
    (1..=n)
        .map(|i| {
            let note = note(i).unwrap_or_else(|| "∅".into());
            let base = format!("{i}|name-{i}-ü|{}|{}|{note}", qty(i), i * 3);
            if reshaped {
                format!("{base}|0")
            } else {
                base
            }
        })
        .collect()
}

/// Inserts rows 1..=n into `items` as 0101 created it.
pub async fn fill(db: &mut TestDb, n: usize) {
    for chunk in (1..=n).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let note = note(i).map_or("NULL".to_string(), |s| format!("'{s}'"));
                format!("({i}, 'name-{i}-ü', {}, '{}', {note})", qty(i), i * 3)
            })
            .collect();
        db.execute(&format!("INSERT INTO items (id, name, qty, code, note) VALUES {}", values.join(", ")))
            .await
            .expect("insert rows");
    }
}

/// The first row where `got` and `want` differ, for a readable failure.
pub fn first_difference(got: &[String], want: &[String]) -> Option<(usize, String, String)> {
    if got.len() != want.len() {
        return Some((usize::MAX, format!("{} rows", got.len()), format!("{} rows", want.len())));
    }
    got.iter().zip(want).position(|(g, w)| g != w).map(|i| (i, got[i].clone(), want[i].clone()))
}
