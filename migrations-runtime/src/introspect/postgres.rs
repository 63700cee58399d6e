//! PostgreSQL's catalog (`pg_catalog`) → [`Inspected`].

use migrations_core::catalog::{column_type, default_value};
use migrations_core::dialect::quote_str;
use migrations_core::schema::{
    names, Check, Column, ColumnType, Deferrable, EnumType, FkAction, ForeignKey, Index, IndexMethod, KeyOptions,
    Table, Unique,
};
use migrations_core::Dialect;

use super::{list, opt, text, yes, InspectOptions, Inspected, RawKind, RawObject, Rows};
use crate::backend::Connection;

const D: Dialect = Dialect::Postgres;

/// `'name'`, or `current_schema()`.
fn namespace(options: &InspectOptions) -> String {
    options.schema.as_deref().map_or_else(|| "current_schema()".to_string(), |s| quote_str(D, s))
}

pub(super) async fn read<C: Connection>(conn: &mut C, options: &InspectOptions) -> Result<Inspected, sqlx::Error> {
    let ns = namespace(options);
    let mut out = Inspected::default();
    let tables: Rows = conn
        .query_rows(&format!(
            "SELECT c.relname::text, obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = {ns} AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1"
        ))
        .await?;
    for row in tables.iter().filter(|r| options.wants(&text(r, 0))) {
        let mut table = Table::new(text(row, 0));
        table.comment = opt(row, 1);
        columns(conn, &ns, &mut table).await?;
        constraints(conn, &ns, &mut table, &mut out.objects).await?;
        indexes(conn, &ns, &mut table, &mut out.objects).await?;
        out.schema.tables.insert(table.name.clone(), table);
    }
    raw_objects(conn, &ns, &mut out.objects).await?;
    Ok(out)
}

async fn columns<C: Connection>(conn: &mut C, ns: &str, table: &mut Table) -> Result<(), sqlx::Error> {
    let rows = conn
        .query_rows(&format!(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                    a.attidentity <> '' OR pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) IS NOT NULL,
                    col_description(a.attrelid, a.attnum), a.attgenerated <> '', a.attidentity = '',
                    (SELECT t.typname::text FROM pg_type t WHERE t.oid = a.atttypid AND t.typtype = 'e'),
                    (SELECT string_agg(e.enumlabel, chr(31) ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE n.nspname = {ns} AND c.relname = {} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            quote_str(D, &table.name)
        ))
        .await?;
    for row in rows {
        let ty = match (opt(&row, 8), opt(&row, 9)) {
            // An enumerated type: its name and its labels, in order.
            (Some(name), Some(labels)) => {
                ColumnType::Enum(EnumType { name, values: labels.split('\u{1f}').map(str::to_string).collect() })
            }
            _ => column_type(&text(&row, 1), D),
        };
        let auto_increment = yes(&row, 4);
        // A serial column's default is its sequence: auto-increment says that.
        let default = match opt(&row, 3) {
            Some(d) if auto_increment && d.starts_with("nextval(") => None,
            // A generated column's expression is not a default (the IR has no generated columns).
            Some(_) if yes(&row, 6) => None,
            Some(d) => default_value(&d, &ty, D),
            None => None,
        };
        table.columns.push(Column {
            name: text(&row, 0),
            ty,
            nullable: yes(&row, 2),
            default,
            auto_increment,
            serial: auto_increment && yes(&row, 7),
            comment: opt(&row, 5),
        });
    }
    Ok(())
}

/// `ARRAY[..]` of attribute names of `rel` for the attribute numbers in `keys`, in order,
/// joined with the unit separator.
fn names_of(keys: &str, rel: &str) -> String {
    format!(
        "(SELECT string_agg(a.attname::text, chr(31) ORDER BY k.ord) FROM unnest({keys}) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.attnum)"
    )
}

fn action(code: &str) -> Option<FkAction> {
    Some(match code {
        "a" => FkAction::NoAction,
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        // SET DEFAULT: not in the IR.
        _ => return None,
    })
}

async fn constraints<C: Connection>(
    conn: &mut C,
    ns: &str,
    table: &mut Table,
    raw: &mut Vec<RawObject>,
) -> Result<(), sqlx::Error> {
    let rows = conn
        .query_rows(&format!(
            "SELECT con.conname::text, con.contype::text, {}, ref.relname::text, {}, con.confdeltype::text, con.confupdtype::text,
                    con.condeferrable, con.convalidated, con.confmatchtype::text, pg_get_constraintdef(con.oid),
                    refns.nspname = n.nspname, con.condeferred
             FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
             LEFT JOIN pg_class ref ON ref.oid = con.confrelid LEFT JOIN pg_namespace refns ON refns.oid = ref.relnamespace
             WHERE n.nspname = {ns} AND rel.relname = {} ORDER BY con.conname",
            names_of("con.conkey", "con.conrelid"),
            names_of("con.confkey", "con.confrelid"),
            quote_str(D, &table.name)
        ))
        .await?;
    for row in rows {
        let name = text(&row, 0);
        let definition = text(&row, 10);
        let plain = !yes(&row, 7) && yes(&row, 8);
        match text(&row, 1).as_str() {
            "p" => {
                table.primary_key = list(&row, 2);
                table.primary_key_name = Some(name).filter(|n| *n != default_primary_key_name(&table.name));
            }
            "u" if plain => {
                let columns = list(&row, 2);
                let explicit_name = name != names::unique(&table.name, &columns);
                table.uniques.push(Unique { name, columns, explicit_name });
            }
            // A check or foreign key may be NOT VALID: the IR holds that.
            "c" if !yes(&row, 7) => {
                let expr = definition.strip_prefix("CHECK ").unwrap_or(&definition);
                let expr = expr.strip_suffix(" NO INHERIT").unwrap_or(expr).trim();
                let expr = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')).unwrap_or(expr);
                table.checks.push(Check { name, expr: expr.to_string(), not_valid: !yes(&row, 8) });
            }
            // A foreign key may be deferrable: the IR holds that.
            "f" if text(&row, 9) == "s" && yes(&row, 11) => {
                let deferrable = match (yes(&row, 7), yes(&row, 12)) {
                    (false, _) => Deferrable::No,
                    (true, false) => Deferrable::InitiallyImmediate,
                    (true, true) => Deferrable::InitiallyDeferred,
                };
                match (action(&text(&row, 5)), action(&text(&row, 6))) {
                    (Some(on_delete), Some(on_update)) => {
                        let (columns, ref_table) = (list(&row, 2), text(&row, 3));
                        let explicit_name = name != names::foreign_key(&table.name, &columns, &ref_table);
                        table.foreign_keys.push(ForeignKey {
                            name,
                            columns,
                            ref_table,
                            ref_columns: list(&row, 4),
                            on_delete,
                            on_update,
                            deferrable,
                            not_valid: !yes(&row, 8),
                            explicit_name,
                        });
                    }
                    _ => raw.push(constraint(table, name, &definition)),
                }
            }
            _ => raw.push(constraint(table, name, &definition)),
        }
    }
    Ok(())
}

fn constraint(table: &Table, name: String, definition: &str) -> RawObject {
    let create = format!("ALTER TABLE {} ADD CONSTRAINT {} {definition}", D.quote(&table.name), D.quote(&name));
    RawObject { kind: RawKind::Constraint, name, table: Some(table.name.clone()), create }
}

async fn indexes<C: Connection>(
    conn: &mut C,
    ns: &str,
    table: &mut Table,
    raw: &mut Vec<RawObject>,
) -> Result<(), sqlx::Error> {
    // Per key: the column, or the expression in parentheses; then, for a key (not an
    // INCLUDE column), its order bits and operator class when it is not the default.
    // An index with a collation other than the column's, or a method the IR does not
    // name, stays raw SQL.
    let rows = conn
        .query_rows(&format!(
            "SELECT i.relname::text, ix.indisunique, am.amname::text, ix.indnkeyatts::text,
                    (SELECT string_agg(
                        CASE WHEN ix.indkey[k - 1] = 0 THEN '(' || pg_get_indexdef(ix.indexrelid, k, true) || ')'
                             ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = ix.indrelid AND a.attnum = ix.indkey[k - 1]) END
                        || chr(30) || COALESCE((ix.indoption[k - 1] & 3)::text, '')
                        || chr(30) || COALESCE((SELECT c.opcname::text FROM pg_opclass c WHERE c.oid = ix.indclass[k - 1] AND NOT c.opcdefault), ''),
                        chr(31) ORDER BY k)
                     FROM generate_series(1, ix.indnatts) k),
                    pg_get_expr(ix.indpred, ix.indrelid, true),
                    EXISTS (SELECT 1 FROM unnest(ix.indcollation::oid[]) co WHERE co NOT IN (0, 100)),
                    pg_get_indexdef(ix.indexrelid)
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
             WHERE n.nspname = {ns} AND t.relname = {} AND NOT ix.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid)
             ORDER BY 1",
            quote_str(D, &table.name)
        ))
        .await?;
    for row in rows {
        let name = text(&row, 0);
        match index_of(&table.name, &row).filter(|_| !yes(&row, 6)) {
            Some(index) => table.indexes.push(index),
            None => raw.push(RawObject {
                kind: RawKind::Index,
                name,
                table: Some(table.name.clone()),
                create: text(&row, 7),
            }),
        }
    }
    Ok(())
}

/// The index a row of the query above describes; `None` when the IR cannot hold it.
fn index_of(table: &str, row: &[Option<String>]) -> Option<Index> {
    let method = IndexMethod::parse(&text(row, 2))?;
    let key_count: usize = text(row, 3).parse().ok()?;
    let mut index = Index { name: text(row, 0), unique: yes(row, 1), method, ..Index::default() };
    let mut options = Vec::new();
    for (position, part) in list(row, 4).iter().enumerate() {
        let mut fields = part.split('\u{1e}');
        let key = fields.next()?.to_string();
        if position >= key_count {
            index.include.push(key);
            continue;
        }
        let bits: u8 = fields.next()?.parse().ok()?;
        let opclass = fields.next().filter(|o| !o.is_empty()).map(str::to_string);
        // indoption: 1 is DESC, 2 is NULLS FIRST.
        let descending = bits & 1 != 0;
        let nulls_first = bits & 2 != 0;
        options.push((key.clone(), KeyOptions { descending, nulls_first: Some(nulls_first), opclass }.canonical()));
        index.columns.push(key);
    }
    for (key, o) in options {
        if !o.is_plain() {
            index.set_key(&key, o);
        }
    }
    index.predicate = opt(row, 5);
    index.explicit_name = index.name != names::index(table, &index.columns, index.unique);
    index.expressible().then_some(index)
}

/// Views, materialized views, triggers, functions, sequences no column owns, types and
/// extensions; those of extensions are the extension's, not listed on their own.
async fn raw_objects<C: Connection>(conn: &mut C, ns: &str, raw: &mut Vec<RawObject>) -> Result<(), sqlx::Error> {
    let not_from_extension = |oid: &str, class: &str| {
        format!("NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = {oid} AND dep.classid = '{class}'::regclass AND dep.deptype = 'e')")
    };
    let queries = [
        (
            RawKind::View,
            format!(
                "SELECT c.relname::text, NULL, 'CREATE VIEW ' || quote_ident(c.relname) || ' AS' || chr(10) || pg_get_viewdef(c.oid)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {ns} AND c.relkind = 'v' AND {}",
                not_from_extension("c.oid", "pg_class")
            ),
        ),
        (
            RawKind::MaterializedView,
            format!(
                "SELECT c.relname::text, NULL, 'CREATE MATERIALIZED VIEW ' || quote_ident(c.relname) || ' AS' || chr(10) || pg_get_viewdef(c.oid)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {ns} AND c.relkind = 'm'"
            ),
        ),
        (
            RawKind::Trigger,
            format!(
                "SELECT tg.tgname::text, c.relname::text, pg_get_triggerdef(tg.oid)
                 FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = {ns} AND NOT tg.tgisinternal"
            ),
        ),
        (
            RawKind::Function,
            format!(
                "SELECT p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, pg_get_functiondef(p.oid)
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = {ns} AND p.prokind IN ('f', 'p') AND {}",
                not_from_extension("p.oid", "pg_proc")
            ),
        ),
        (
            RawKind::Sequence,
            format!(
                "SELECT c.relname::text, NULL, 'CREATE SEQUENCE ' || quote_ident(c.relname) || ' AS ' || format_type(s.seqtypid, NULL)
                        || ' INCREMENT BY ' || s.seqincrement || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax
                        || ' START WITH ' || s.seqstart || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
                 WHERE n.nspname = {ns} AND c.relkind = 'S'
                   AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = c.oid AND dep.deptype IN ('a', 'i', 'e'))"
            ),
        ),
        (
            RawKind::Type,
            format!(
                "SELECT t.typname::text, NULL, CASE t.typtype
                   WHEN 'e' THEN 'CREATE TYPE ' || quote_ident(t.typname) || ' AS ENUM ('
                        || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                   WHEN 'd' THEN 'CREATE DOMAIN ' || quote_ident(t.typname) || ' AS ' || format_type(t.typbasetype, t.typtypmod)
                        || COALESCE((SELECT ' ' || string_agg(pg_get_constraintdef(con.oid), ' ') FROM pg_constraint con WHERE con.contypid = t.oid), '')
                   ELSE 'CREATE TYPE ' || quote_ident(t.typname) || ' AS ('
                        || (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                            FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0) || ')' END
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = {ns} AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
                   AND NOT (t.typtype = 'e' AND EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                                                        WHERE a.atttypid = t.oid AND c.relkind IN ('r', 'p') AND NOT a.attisdropped))
                   AND {}",
                not_from_extension("t.oid", "pg_type")
            ),
        ),
        (
            RawKind::Extension,
            "SELECT extname::text, NULL, 'CREATE EXTENSION IF NOT EXISTS ' || quote_ident(extname) FROM pg_extension WHERE extname <> 'plpgsql'"
                .to_string(),
        ),
    ];
    for (kind, sql) in queries {
        for row in conn.query_rows(&sql).await? {
            raw.push(RawObject { kind, name: text(&row, 0), table: opt(&row, 1), create: text(&row, 2) });
        }
    }
    Ok(())
}

/// What PostgreSQL calls a primary key nobody named: `<table>_pkey`, the table's name cut
/// to fit 63 bytes.
fn default_primary_key_name(table: &str) -> String {
    let mut cut = table.len().min(63 - "_pkey".len());
    while !table.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_pkey", &table[..cut])
}
