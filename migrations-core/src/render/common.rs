//! Pieces every dialect shares: types, defaults, column definitions, constraints.

use crate::dialect::{quote_str, Dialect};
use crate::schema::{Check, Column, ColumnType, Constraint, DefaultValue, FkAction, ForeignKey, Index, Unique};

/// The SQL type of a column type in `dialect`.
pub fn column_type_sql(ty: &ColumnType, dialect: Dialect) -> String {
    use ColumnType::*;
    use Dialect::*;
    let s = match (ty, dialect) {
        (Custom(sql), _) => return sql.clone(),
        (Array(element), Postgres) => return format!("{}[]", column_type_sql(element, dialect)),
        // (Only PostgreSQL has arrays: the build refuses them elsewhere.)
        (Array(_), MySql) => "JSON",
        (Array(_), Sqlite) => "TEXT",
        (PerDialect(_), _) => return column_type_sql(&ty.on(dialect), dialect),
        // PostgreSQL's type is created by name (see `postgres::enum_type_statements`);
        // MySQL writes the list into the column; SQLite keeps text, and `column_def`
        // adds the CHECK of the list.
        (Enum(e), Postgres) => return dialect.quote(&e.name),
        (Enum(e), MySql) => return format!("ENUM({})", enum_values_sql(e, dialect)),
        (Enum(_), Sqlite) => "TEXT",
        (SmallInt, _) => "SMALLINT",
        (Integer, MySql) => "INT",
        (Integer, _) => "INTEGER",
        (BigInt, _) => "BIGINT",
        (Boolean, _) => "BOOLEAN",
        (Real, MySql) => "FLOAT",
        (Real, _) => "REAL",
        (Double, Postgres) => "DOUBLE PRECISION",
        (Double, _) => "DOUBLE",
        (Decimal { precision, scale }, Postgres) => return format!("NUMERIC({precision}, {scale})"),
        (Decimal { precision, scale }, _) => return format!("DECIMAL({precision}, {scale})"),
        (Varchar(n), _) => return format!("VARCHAR({n})"),
        // MySQL has none: the build refuses it there (`portability`); what an
        // application that renders it anyway gets is the nearest type.
        (UnboundedVarchar, MySql) => "LONGTEXT",
        (UnboundedVarchar, _) => "VARCHAR",
        (Text, MySql) => "LONGTEXT",
        (Text, _) => "TEXT",
        (Binary, Postgres) => "BYTEA",
        (Binary, MySql) => "LONGBLOB",
        (Binary, Sqlite) => "BLOB",
        (Date, _) => "DATE",
        (Time, MySql) => "TIME(6)",
        (Time, _) => "TIME",
        (Timestamp, MySql) | (TimestampTz, MySql) => "DATETIME(6)",
        (Timestamp, Postgres) => "TIMESTAMP",
        (Timestamp, Sqlite) => "DATETIME",
        (TimestampTz, Postgres) => "TIMESTAMPTZ",
        (TimestampTz, Sqlite) => "TIMESTAMPTZ",
        (Uuid, MySql) => "BINARY(16)",
        (Uuid, _) => "UUID",
        (Json, Postgres) => "JSONB",
        (Json | JsonText, _) => "JSON",
        // PostgreSQL's own; SQLite keeps addresses as text, and the build refuses the
        // rest where there is no such type (`portability`).
        (Inet, Postgres) => "INET",
        (Cidr, Postgres) => "CIDR",
        (Interval, Postgres) => "INTERVAL",
        (TsVector, Postgres) => "TSVECTOR",
        (TimeTz, Postgres) => "TIMETZ",
        (CiText, Postgres) => "CITEXT",
        // MySQL's default collations compare text without regard to case already.
        (CiText, MySql) => "LONGTEXT",
        (CiText, Sqlite) => "TEXT COLLATE NOCASE",
        (Inet | Cidr | Interval | TsVector, MySql) => "LONGTEXT",
        (Inet | Cidr | Interval | TsVector, Sqlite) => "TEXT",
        (TimeTz, MySql) => "TIME(6)",
        (TimeTz, Sqlite) => "TIME",
    };
    s.to_string()
}

/// A default (or fill) value as SQL in `dialect`, for a column of type `ty`. Written so
/// it is valid both after `DEFAULT` and on the right of `SET col =`.
pub fn default_sql(value: &DefaultValue, ty: &ColumnType, dialect: Dialect) -> String {
    let mysql_blob_like =
        dialect == Dialect::MySql && matches!(ty, ColumnType::Text | ColumnType::Binary | ColumnType::Json);
    match value {
        DefaultValue::Bool(b) => match dialect {
            Dialect::Sqlite => if *b { "1" } else { "0" }.to_string(),
            _ => if *b { "TRUE" } else { "FALSE" }.to_string(),
        },
        DefaultValue::Number(n) if dialect == Dialect::Sqlite && n.starts_with('-') => format!("({n})"),
        DefaultValue::Number(n) => n.clone(),
        // UUIDs are 16 bytes on MySQL (BINARY(16)) and SQLite (BLOB), as sqlx stores them.
        DefaultValue::Text(s) if *ty == ColumnType::Uuid && dialect != Dialect::Postgres => {
            format!("(UNHEX(REPLACE({}, '-', '')))", quote_str(dialect, s))
        }
        DefaultValue::Text(s) if mysql_blob_like => format!("({})", quote_str(dialect, s)),
        // MySQL takes neither `T` nor an offset in a DATETIME literal: as it stores them
        // (UTC for a timestamp with time zone; as written, offset dropped, for one without,
        // as PostgreSQL does).
        DefaultValue::Text(s)
            if dialect == Dialect::MySql && matches!(ty, ColumnType::Timestamp | ColumnType::TimestampTz) =>
        {
            match crate::civil::DateTimeText::parse(s) {
                Some(t) => quote_str(dialect, &t.sql_datetime(*ty == ColumnType::TimestampTz)),
                None => quote_str(dialect, s),
            }
        }
        DefaultValue::Text(s) => quote_str(dialect, s),
        DefaultValue::Expr(e) => expr_sql(e, ty, dialect),
        DefaultValue::PerDialect(_) => default_sql(&value.on(dialect), ty, dialect),
    }
}

fn expr_sql(expr: &str, ty: &ColumnType, dialect: Dialect) -> String {
    use Dialect::*;
    let is_datetime = matches!(ty, ColumnType::Timestamp | ColumnType::TimestampTz);
    match (expr, dialect) {
        ("now()", Postgres) => "now()".into(),
        ("now()", MySql) if is_datetime => "CURRENT_TIMESTAMP(6)".into(),
        ("now()", MySql) => "(NOW(6))".into(),
        ("now()", Sqlite) => "CURRENT_TIMESTAMP".into(),
        ("current_date", Postgres) | ("current_date", Sqlite) => "CURRENT_DATE".into(),
        ("current_date", MySql) => "(CURRENT_DATE)".into(),
        ("current_time", Postgres) => "LOCALTIME".into(),
        ("current_time", Sqlite) => "CURRENT_TIME".into(),
        ("current_time", MySql) => "(CURRENT_TIME(6))".into(),
        ("gen_uuid()", Postgres) => "gen_random_uuid()".into(),
        ("gen_uuid()", MySql) => "(UNHEX(REPLACE(UUID(), '-', '')))".into(),
        ("gen_uuid()", Sqlite) => "(randomblob(16))".into(),
        (other, Postgres) => other.to_string(),
        (other, _) => format!("({})", sql_expr(other, dialect)),
    }
}

/// `"name" TYPE NOT NULL DEFAULT x` — without auto-increment, which each dialect spells itself.
pub fn column_def(c: &Column, dialect: Dialect) -> String {
    let mut s = format!("{} {}", dialect.quote(&c.name), column_type_sql(&c.ty, dialect));
    if !c.nullable {
        s.push_str(" NOT NULL");
    } else if dialect == Dialect::MySql {
        // MySQL gives some types implicit NOT NULL defaults otherwise; say NULL outright.
        s.push_str(" NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(&default_sql(d, &c.ty, dialect));
    }
    if let (ColumnType::Enum(e), Dialect::Sqlite) = (&c.ty, dialect) {
        s.push_str(&format!(" CHECK ({} IN ({}))", dialect.quote(&c.name), enum_values_sql(e, dialect)));
    }
    s
}

/// The statement that creates (or, not `create`, drops) a hand-written object on
/// `dialect`; none where the object does not exist.
pub fn raw_statement(object: &crate::schema::RawSql, create: bool, dialect: Dialect) -> Vec<String> {
    match object.on(dialect) {
        Some(sql) if create => vec![sql.create.clone()],
        Some(sql) => vec![sql.drop.clone()],
        None => Vec::new(),
    }
}

/// An enumerated type's values as a list of SQL strings: `'a', 'b'`.
pub fn enum_values_sql(e: &crate::schema::EnumType, dialect: Dialect) -> String {
    e.values.iter().map(|v| quote_str(dialect, v)).collect::<Vec<_>>().join(", ")
}

/// `"a", "b"`.
pub fn column_list(columns: &[String], dialect: Dialect) -> String {
    columns.iter().map(|c| dialect.quote(c)).collect::<Vec<_>>().join(", ")
}

/// A constraint as it appears inside `CREATE TABLE` or after `ADD`.
pub fn constraint_def(c: &Constraint, dialect: Dialect) -> String {
    match c {
        Constraint::Unique(u) => unique_def(u, dialect),
        Constraint::Check(ch) => check_def(ch, dialect),
        Constraint::ForeignKey(fk) => foreign_key_def(fk, dialect),
    }
}

/// `CONSTRAINT "uq" UNIQUE ("a")`.
pub fn unique_def(u: &Unique, dialect: Dialect) -> String {
    format!("CONSTRAINT {} UNIQUE ({})", dialect.quote(&u.name), column_list(&u.columns, dialect))
}

/// `CONSTRAINT "ck" CHECK (expr)`.
pub fn check_def(c: &Check, dialect: Dialect) -> String {
    format!("CONSTRAINT {} CHECK ({})", dialect.quote(&c.name), sql_expr(&c.expr, dialect))
}

/// A SQL expression written by a person, for `dialect`. Identifiers in double quotes
/// (standard SQL) become backtick-quoted on MySQL, where double quotes make a string;
/// single-quoted strings are left alone.
pub fn sql_expr(expr: &str, dialect: Dialect) -> String {
    if dialect != Dialect::MySql {
        return expr.to_string();
    }
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                out.push(c);
                while let Some(s) = chars.next() {
                    out.push(s);
                    if s == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.extend(chars.next());
                        } else {
                            break;
                        }
                    }
                }
            }
            '"' => {
                let mut ident = String::new();
                while let Some(s) = chars.next() {
                    if s == '"' {
                        if chars.peek() == Some(&'"') {
                            ident.push('"');
                            chars.next();
                        } else {
                            break;
                        }
                    } else {
                        ident.push(s);
                    }
                }
                out.push_str(&dialect.quote(&ident));
            }
            _ => out.push(c),
        }
    }
    out
}

/// `CONSTRAINT "fk" FOREIGN KEY ("a") REFERENCES "t" ("id") ON DELETE CASCADE`.
pub fn foreign_key_def(fk: &ForeignKey, dialect: Dialect) -> String {
    let mut s = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        dialect.quote(&fk.name),
        column_list(&fk.columns, dialect),
        dialect.quote(&fk.ref_table),
        column_list(&fk.ref_columns, dialect)
    );
    if fk.on_delete != FkAction::NoAction {
        s.push_str(&format!(" ON DELETE {}", fk.on_delete.sql()));
    }
    if fk.on_update != FkAction::NoAction {
        s.push_str(&format!(" ON UPDATE {}", fk.on_update.sql()));
    }
    // (MySQL has none: the build refuses a deferrable key there.)
    if fk.deferrable != crate::schema::Deferrable::No && dialect != Dialect::MySql {
        s.push(' ');
        s.push_str(fk.deferrable.sql());
    }
    s
}

/// `CREATE [UNIQUE] INDEX "ix" ON "t" ("a", "b")`.
pub fn create_index(table: &str, index: &Index, dialect: Dialect) -> String {
    create_index_as(table, index, dialect, "")
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY "ix" ON "t" ("a", "b")` (PostgreSQL).
pub fn create_index_concurrently(table: &str, index: &Index) -> String {
    create_index_as(table, index, Dialect::Postgres, "CONCURRENTLY ")
}

fn create_index_as(table: &str, index: &Index, dialect: Dialect, how: &str) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {how}{} ON {}",
        if index.unique { "UNIQUE " } else { "" },
        dialect.quote(&index.name),
        dialect.quote(table),
    );
    // (Only PostgreSQL has other methods, INCLUDE and operator classes: the build
    // refuses them for the others.)
    if index.method != crate::schema::IndexMethod::Btree && dialect == Dialect::Postgres {
        sql.push_str(" USING ");
        sql.push_str(index.method.as_str());
    }
    sql.push_str(&format!(" ({})", index_keys(index, dialect)));
    if !index.include.is_empty() && dialect == Dialect::Postgres {
        sql.push_str(&format!(" INCLUDE ({})", column_list(&index.include, dialect)));
    }
    if let Some(predicate) = &index.predicate {
        sql.push_str(" WHERE ");
        sql.push_str(&sql_expr(predicate, dialect));
    }
    sql
}

/// An index's keys as SQL: `"a", "b" DESC, (lower(c)) text_pattern_ops`.
pub fn index_keys(index: &Index, dialect: Dialect) -> String {
    let keys: Vec<String> = index
        .columns
        .iter()
        .enumerate()
        .map(|(position, key)| {
            let mut k = if Index::is_expression(key) { sql_expr(key, dialect) } else { dialect.quote(key) };
            let options = index.key(position);
            if let Some(opclass) = options.opclass.as_ref().filter(|_| dialect == Dialect::Postgres) {
                k.push(' ');
                k.push_str(opclass);
            }
            let order = match dialect {
                Dialect::Postgres => options.order_sql(),
                _ if options.descending => "DESC".to_string(),
                _ => String::new(),
            };
            if !order.is_empty() {
                k.push(' ');
                k.push_str(&order);
            }
            k
        })
        .collect();
    keys.join(", ")
}

/// `CREATE [MATERIALIZED] VIEW "v" AS SELECT ...`.
pub fn create_view(view: &crate::schema::View, dialect: Dialect) -> String {
    // (Only PostgreSQL has materialized views; the others get a plain view.)
    let kind = if view.materialized && dialect == Dialect::Postgres { "MATERIALIZED VIEW" } else { "VIEW" };
    format!("CREATE {kind} {} AS {}", dialect.quote(&view.name), sql_expr(&view.sql, dialect))
}

/// `DROP [MATERIALIZED] VIEW "v"`.
pub fn drop_view(view: &crate::schema::View, dialect: Dialect) -> String {
    let kind = if view.materialized && dialect == Dialect::Postgres { "MATERIALIZED VIEW" } else { "VIEW" };
    format!("DROP {kind} {}", dialect.quote(&view.name))
}

/// `CREATE TABLE` with the column lines and table constraints given, one per line.
pub fn create_table(table: &str, lines: &[String], suffix: &str, dialect: Dialect) -> String {
    format!("CREATE TABLE {} (\n    {}\n){suffix}", dialect.quote(table), lines.join(",\n    "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quoted_identifiers_become_backticks_on_mysql_only() {
        let expr = r#""price" > 0 AND "a""b" <> 'it''s "quoted"'"#;
        assert_eq!(sql_expr(expr, Dialect::MySql), r#"`price` > 0 AND `a"b` <> 'it''s "quoted"'"#);
        assert_eq!(sql_expr(expr, Dialect::Postgres), expr);
    }
}
