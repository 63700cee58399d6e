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
        for dialect in Dialect::ALL {
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
