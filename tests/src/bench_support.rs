//! Shared by the benchmark binaries.

use migrations_core::builder::{Column, ColumnType, Index, Table};
use migrations_core::Operation;

/// The operations of benchmark migration number `i`: a CREATE TABLE with an index for
/// even numbers, an ALTER TABLE ADD COLUMN with an index on the previous table for odd ones.
pub fn ops_for(i: usize) -> Vec<Operation> {
    if i % 2 == 0 {
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
