//! The rendered SQL of every scenario, forward and reverse, in all three dialects.

use chakra_tests::fixtures;
use migrations_core::render::{render_all, render_all_reverse};
use migrations_core::Dialect;

#[test]
fn rendered_sql_of_every_operation_kind() {
    for s in fixtures::all() {
        let mut out = String::new();
        out.push_str("-- operations\n");
        for op in &s.operations {
            out.push_str(&format!("--   {op}\n"));
        }
        for dialect in s.dialects.iter().copied() {
            let (forward, _) = render_all(&s.operations, &s.before, dialect).expect("forward");
            let reverse = render_all_reverse(&s.operations, &s.before, dialect).expect("reverse");
            out.push_str(&format!("\n-- {dialect}: forward\n"));
            for stmt in forward {
                out.push_str(&format!("{stmt};\n"));
            }
            out.push_str(&format!("\n-- {dialect}: reverse\n"));
            for stmt in reverse {
                out.push_str(&format!("{stmt};\n"));
            }
        }
        insta::assert_snapshot!(s.name, out);
    }
}

/// What runs against a live database: the online forms of every scenario, with the
/// phase, lock and work of each statement, as `migrate sql` shows them.
#[test]
fn live_sql_of_every_operation_kind() {
    use migrations_core::render::live::{migration, Forms};
    for s in fixtures::all() {
        let mut out = String::new();
        for dialect in [Dialect::Postgres, Dialect::MySql].into_iter().filter(|d| s.dialects.contains(d)) {
            let statements = migration(&s.operations, &s.before, dialect, Forms::Online).expect("online forms");
            out.push_str(&format!("-- {dialect}\n"));
            for stmt in statements {
                out.push_str(&format!("-- {}\n{};\n", stmt.describe_for(dialect), stmt.sql));
            }
            out.push('\n');
        }
        insta::assert_snapshot!(format!("live_{}", s.name), out);
    }
}
