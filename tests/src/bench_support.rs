//! Shared by the benchmark binaries.

use migrations_core::builder::{Column, ColumnType, Index, Table};
use migrations_core::Operation;

/// The operations of benchmark migration number `i`: a CREATE TABLE with an index for
/// even numbers, an ALTER TABLE ADD COLUMN with an index on the previous table for odd ones.
pub fn ops_for(i: usize) -> Vec<Operation> {
    if i.is_multiple_of(2) {
        let name = format!("t{i}");
        vec![
            Operation::CreateModel {
                table: Table::new(&name)
                    .field(Column::new("id", ColumnType::BigInt).auto_increment())
                    .field(Column::new("name", ColumnType::Varchar(100)))
                    .primary_key(&["id"]),
            },
            Operation::CreateIndex { table: name.clone(), index: Index::new(&format!("ix_{name}_name"), &["name"]) },
        ]
    } else {
        let table = format!("t{}", i - 1);
        vec![
            Operation::AddField {
                table: table.clone(),
                column: Column::new("extra", ColumnType::Integer).nullable(),
                fill: None,
            },
            Operation::CreateIndex {
                table: table.clone(),
                index: Index::new(&format!("ix_{table}_extra"), &["extra"]),
            },
        ]
    }
}

/// Benchmark migration number `i` as the build writes it, sealed, after the one before
/// it: its id, its operations and the module's text.
pub fn generated(i: usize) -> (String, Vec<Operation>, String) {
    let ops = ops_for(i);
    let id = format!("{:04}_step_{i}", i + 1);
    let previous: Vec<String> = i.checked_sub(1).map(|p| format!("{:04}_step_{p}", p + 1)).into_iter().collect();
    let spec = migrations_build::ModuleSpec {
        id: &id,
        dependencies: &previous,
        operations: &ops,
        sealed_on: Some("2026-11-22"),
    };
    let text = migrations_build::module(&spec).expect("module");
    (id, ops, text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_benchmark_migration_follows_the_one_before() {
        let (first, _, text) = super::generated(0);
        assert_eq!(first, "0001_step_0");
        assert!(text.contains("pub const DEPENDENCIES: &[&str] = &[];"), "{text}");
        let (second, ops, text) = super::generated(1);
        assert_eq!(second, "0002_step_1");
        assert_eq!(ops.len(), 2);
        assert!(text.contains("pub const DEPENDENCIES: &[&str] = &[\"0001_step_0\"];"), "{text}");
    }
}
