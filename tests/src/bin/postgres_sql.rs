//! Writes the PostgreSQL SQL of every operation kind (the scenarios of the SQL snapshots),
//! forward and backward, as the runtime runs it against tables that hold rows: one file
//! per scenario and direction, each transactional phase between `BEGIN` and `COMMIT`, so
//! that a linter sees what is and is not in a transaction. `scripts/squawk.sh` lints them.
//!
//! `postgres_sql <dir>`

use std::path::PathBuf;

use chakra_tests::fixtures;
use migrations_core::render::live::{migration, phases, Forms, Run, Statement, Work};
use migrations_core::{Dialect, Operation, Schema};

fn script(statements: &[Statement]) -> String {
    let mut out = String::from("SET lock_timeout = '3s';\n");
    let runs: Vec<Run> = statements.iter().map(|s| s.run).collect();
    for phase in phases(&runs) {
        let transaction = matches!(runs[phase.start], Run::Transaction | Run::OwnTransaction);
        if transaction {
            out.push_str("BEGIN;\nSET LOCAL lock_timeout = '3s';\n");
        }
        for s in &statements[phase] {
            out.push_str(&format!("-- {}\n", s.describe_for(Dialect::Postgres)));
            if s.is_blocking_rewrite() {
                // The build names it, and check mode wants a person's acknowledgement.
                out.push_str("-- squawk-ignore changing-column-type\n");
            } else if s.work == Work::Catalog && s.sql.contains(" TYPE ") {
                // A binary-coercible change (`varchar` and `text` without a length, a
                // longer `varchar`): PostgreSQL rewrites nothing, and the lock is brief;
                // squawk flags every type change but a few of these.
                out.push_str("-- binary coercible: no rewrite\n-- squawk-ignore changing-column-type\n");
            }
            out.push_str(&format!("{};\n", s.sql));
        }
        if transaction {
            out.push_str("COMMIT;\n");
        }
    }
    out
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: postgres_sql <dir>"));
    std::fs::create_dir_all(&dir).expect("create the output folder");
    for s in fixtures::all() {
        let forward = migration(&s.operations, &s.before, Dialect::Postgres, Forms::Online).expect("forward");
        let mut after: Schema = s.before.clone();
        after.apply_all(&s.operations).expect("apply");
        let reverse: Vec<Operation> = s.operations.iter().rev().map(|op| op.reverse().expect("reversible")).collect();
        let backward = migration(&reverse, &after, Dialect::Postgres, Forms::Online).expect("backward");
        for (direction, statements) in [("forward", forward), ("backward", backward)] {
            let path = dir.join(format!("{}.{direction}.sql", s.name));
            std::fs::write(&path, script(&statements)).expect("write");
        }
    }
}
