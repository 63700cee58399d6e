//! MySQL's and MariaDB's `information_schema` → [`Inspected`].

use std::collections::BTreeMap;

use migrations_core::catalog::{column_type, default_value};
use migrations_core::dialect::quote_str;
use migrations_core::schema::{
    names, Check, Column, ColumnType, Deferrable, FkAction, ForeignKey, Index, KeyOptions, Table, Unique,
};
use migrations_core::Dialect;

use super::{generated_unique_name, opt, text, yes, InspectOptions, Inspected, RawKind, RawObject};
use crate::backend::Connection;

const D: Dialect = Dialect::MySql;

pub(super) async fn read<C: Connection>(conn: &mut C, options: &InspectOptions) -> Result<Inspected, sqlx::Error> {
    let db = options.schema.as_deref().map_or_else(|| "DATABASE()".to_string(), |s| quote_str(D, s));
    let mut out = Inspected::default();
    let version = conn.query_rows("SELECT VERSION()").await?;
    let mariadb = version.first().is_some_and(|r| text(r, 0).to_ascii_lowercase().contains("mariadb"));
    let tables = conn
        .query_rows(&format!(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_COMMENT AS CHAR) FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = {db} AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
        ))
        .await?;
    for row in tables.iter().filter(|r| options.wants(&text(r, 0))) {
        let mut table = Table::new(text(row, 0));
        table.comment = opt(row, 1).filter(|c| !c.is_empty());
        let t = quote_str(D, &table.name);
        columns(conn, &db, &t, mariadb, &mut table).await?;
        checks(conn, &db, &t, &mut table).await?;
        foreign_keys(conn, &db, &t, &mut table).await?;
        indexes(conn, &db, &t, &mut table, &mut out.objects).await?;
        out.schema.tables.insert(table.name.clone(), table);
    }
    raw_objects(conn, &db, &mut out.objects).await?;
    Ok(out)
}

async fn columns<C: Connection>(
    conn: &mut C,
    db: &str,
    t: &str,
    mariadb: bool,
    table: &mut Table,
) -> Result<(), sqlx::Error> {
    let rows = conn
        .query_rows(&format!(
            "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR),
                    CAST(EXTRA AS CHAR), CAST(COLUMN_COMMENT AS CHAR)
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {db} AND TABLE_NAME = {t} ORDER BY ORDINAL_POSITION"
        ))
        .await?;
    for row in rows {
        let ty = column_type(&text(&row, 1), D);
        let extra = text(&row, 4).to_ascii_lowercase();
        // MySQL 8 reports a literal default without quotes, and an expression as
        // DEFAULT_GENERATED; MariaDB quotes literals, and an expression is what it does not.
        let default = opt(&row, 3).and_then(|d| {
            let mysql8_literal = !mariadb
                && !extra.contains("default_generated")
                && !d.starts_with('\'')
                && ty.is_string()
                && !d.eq_ignore_ascii_case("null");
            let d = if mysql8_literal { quote_str(D, &d) } else { d };
            default_value(&d, &ty, D)
        });
        table.columns.push(Column {
            name: text(&row, 0),
            ty,
            nullable: text(&row, 2) == "YES",
            default,
            auto_increment: extra.contains("auto_increment"),
            serial: false,
            comment: opt(&row, 5).filter(|c| !c.is_empty()),
        });
    }
    Ok(())
}

async fn checks<C: Connection>(conn: &mut C, db: &str, t: &str, table: &mut Table) -> Result<(), sqlx::Error> {
    let rows = conn
        .query_rows(&format!(
            "SELECT CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) FROM information_schema.CHECK_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = {db} AND TABLE_NAME = {t} ORDER BY 1"
        ))
        .await?;
    for row in rows {
        let (name, expr) = (text(&row, 0), text(&row, 1));
        // MariaDB's JSON: a LONGTEXT with a check named after the column.
        let json_check = |c: &Column| {
            c.name == name
                && expr
                    .replace(['`', ' '], "")
                    .eq_ignore_ascii_case(&format!("json_valid({})", c.name.replace(' ', "")))
        };
        if let Some(column) = table.columns.iter_mut().find(|c| json_check(c)) {
            if column.ty == ColumnType::Text || column.ty == ColumnType::Custom("longtext".into()) {
                column.ty = ColumnType::Json;
                continue;
            }
        }
        table.checks.push(Check { name, expr, not_valid: false });
    }
    Ok(())
}

async fn foreign_keys<C: Connection>(conn: &mut C, db: &str, t: &str, table: &mut Table) -> Result<(), sqlx::Error> {
    let rows = conn
        .query_rows(&format!(
            "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR),
                    CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR)
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
             WHERE k.TABLE_SCHEMA = {db} AND k.TABLE_NAME = {t} AND k.REFERENCED_TABLE_NAME IS NOT NULL
             ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
        ))
        .await?;
    let mut by_name: BTreeMap<String, ForeignKey> = BTreeMap::new();
    for row in rows {
        let action = |i| FkAction::parse(&text(&row, i)).unwrap_or_default();
        let fk = by_name.entry(text(&row, 0)).or_insert_with(|| ForeignKey {
            name: text(&row, 0),
            columns: Vec::new(),
            ref_table: text(&row, 2),
            ref_columns: Vec::new(),
            on_delete: action(4),
            on_update: action(5),
            deferrable: Deferrable::No,
            not_valid: false,
            explicit_name: true,
        });
        fk.columns.push(text(&row, 1));
        fk.ref_columns.push(text(&row, 3));
    }
    table.foreign_keys = by_name.into_values().collect();
    for fk in &mut table.foreign_keys {
        fk.explicit_name = fk.name != names::foreign_key(&table.name, &fk.columns, &fk.ref_table);
    }
    Ok(())
}

async fn indexes<C: Connection>(
    conn: &mut C,
    db: &str,
    t: &str,
    table: &mut Table,
    raw: &mut Vec<RawObject>,
) -> Result<(), sqlx::Error> {
    let rows = conn
        .query_rows(&format!(
            "SELECT CAST(INDEX_NAME AS CHAR), NON_UNIQUE = 0, CAST(COLUMN_NAME AS CHAR), CAST(INDEX_TYPE AS CHAR),
                    SUB_PART IS NULL AND COLUMN_NAME IS NOT NULL, COALESCE(COLLATION, 'A') = 'D'
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {db} AND TABLE_NAME = {t} ORDER BY INDEX_NAME, SEQ_IN_INDEX"
        ))
        .await?;
    // name → (columns, the descending ones, unique, whether the IR can hold it)
    let mut by_name: BTreeMap<String, (Vec<String>, Vec<String>, bool, bool)> = BTreeMap::new();
    for row in rows {
        let plain = yes(&row, 4) && text(&row, 3) == "BTREE";
        let entry = by_name.entry(text(&row, 0)).or_insert_with(|| (Vec::new(), Vec::new(), yes(&row, 1), true));
        entry.0.push(text(&row, 2));
        if yes(&row, 5) {
            entry.1.push(text(&row, 2));
        }
        entry.3 &= plain;
    }
    for (name, (columns, descending, unique, plain)) in by_name {
        if name == "PRIMARY" {
            table.primary_key = columns;
        } else if !unique
            && table
                .foreign_keys
                .iter()
                .any(|fk| fk.columns == columns && (fk.name == name || columns.first() == Some(&name)))
        {
            // The index MySQL made for a foreign key: under the key's name, or under its
            // first column's when the key was declared on the column.
        } else if !plain {
            let create = index_definition(conn, table, &name).await?;
            raw.push(RawObject { kind: RawKind::Index, name, table: Some(table.name.clone()), create });
        } else if unique && descending.is_empty() {
            let explicit_name = !generated_unique_name(&name, &table.name, &columns);
            table.uniques.push(Unique { name, columns, explicit_name });
        } else {
            let explicit_name = name != names::index(&table.name, &columns, unique);
            let mut index = Index { name, columns, unique, explicit_name, ..Index::default() };
            for key in &descending {
                index.set_key(key, KeyOptions { descending: true, ..KeyOptions::default() });
            }
            table.indexes.push(index);
        }
    }
    Ok(())
}

/// `ALTER TABLE t ADD ...` for an index the IR cannot hold (a prefix, full-text or
/// spatial index, a descending or functional key part), from `SHOW CREATE TABLE`.
async fn index_definition<C: Connection>(conn: &mut C, table: &Table, name: &str) -> Result<String, sqlx::Error> {
    let shown = conn.query_rows(&format!("SHOW CREATE TABLE {}", D.quote(&table.name))).await?;
    let create = shown.first().map(|r| text(r, 1)).unwrap_or_default();
    let key = format!("KEY {} (", D.quote(name));
    let line = create.lines().map(|l| l.trim().trim_end_matches(',')).find(|l| l.contains(&key));
    Ok(match line {
        Some(l) => format!("ALTER TABLE {} ADD {l}", D.quote(&table.name)),
        None => format!("-- index {name} of {}: not found in SHOW CREATE TABLE", table.name),
    })
}

/// Views, triggers, functions and procedures.
async fn raw_objects<C: Connection>(conn: &mut C, db: &str, raw: &mut Vec<RawObject>) -> Result<(), sqlx::Error> {
    let views = format!(
        "SELECT CAST(TABLE_NAME AS CHAR), NULL, CONCAT('CREATE VIEW `', REPLACE(TABLE_NAME, '`', '``'), '` AS ', VIEW_DEFINITION)
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {db}"
    );
    let triggers = format!(
        "SELECT CAST(TRIGGER_NAME AS CHAR), CAST(EVENT_OBJECT_TABLE AS CHAR),
                CONCAT('CREATE TRIGGER `', REPLACE(TRIGGER_NAME, '`', '``'), '` ', ACTION_TIMING, ' ', EVENT_MANIPULATION,
                       ' ON `', REPLACE(EVENT_OBJECT_TABLE, '`', '``'), '` FOR EACH ROW ', ACTION_STATEMENT)
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {db}"
    );
    for (kind, sql) in [(RawKind::View, views), (RawKind::Trigger, triggers)] {
        for row in conn.query_rows(&sql).await? {
            raw.push(RawObject { kind, name: text(&row, 0), table: opt(&row, 1), create: text(&row, 2) });
        }
    }
    let routines = format!(
        "SELECT CAST(ROUTINE_NAME AS CHAR), CAST(ROUTINE_TYPE AS CHAR) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {db}"
    );
    for row in conn.query_rows(&routines).await? {
        let (name, kind) = (text(&row, 0), text(&row, 1));
        let shown = conn.query_rows(&format!("SHOW CREATE {kind} {}", D.quote(&name))).await?;
        // `CREATE DEFINER=`user`@`host` FUNCTION ...`: the definer is the server's, not the schema's.
        let create = shown.first().map(|r| text(r, 2)).unwrap_or_default();
        let create = match (create.find(" DEFINER="), create.find(&format!(" {kind} "))) {
            (Some(start), Some(end)) if start < end => format!("{}{}", &create[..start], &create[end..]),
            _ => create,
        };
        raw.push(RawObject { kind: RawKind::Function, name, table: None, create });
    }
    Ok(())
}
