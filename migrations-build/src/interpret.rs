//! Reading the operations of a migration module without compiling it: the builder calls
//! that generated modules (and most hand-written ones) are made of, evaluated from the
//! `syn` tree. `cargo chakra sql`, check mode's data-loss review and the cross-app
//! lookups use it. A Rust data step (`m.run_rust("name", step)`) is read by its name
//! only; anything else it does not know (helper functions, other Rust) is an error that
//! names the line and says to ask the application binary instead.

use migrations_core::builder::{Dropped, Migration};
use migrations_core::schema::{
    Check, Column, ColumnType, DefaultValue, Deferrable, FkAction, ForeignKey, Index, IndexMethod, Table, Unique,
};
use migrations_core::{Operation, Schema};
use syn::spanned::Spanned;
use syn::{Expr, Lit};

/// Something the interpreter cannot read, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReadError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A value of the builder language.
#[derive(Debug, Clone)]
enum Value {
    Str(String),
    Int(u32),
    Bool(bool),
    Opt(Option<Box<Value>>),
    List(Vec<Value>),
    Raw(migrations_core::schema::RawSql),
    Type(ColumnType),
    Default(DefaultValue),
    Action(FkAction),
    Deferrable(Deferrable),
    Method(IndexMethod),
    Column(Column),
    Table(Table),
    Index(Index),
    View(migrations_core::schema::View),
    Unique(Unique),
    Check(Check),
    ForeignKey(ForeignKey),
    /// `ForeignKey::on(..)` before its `.references(..)`.
    ForeignKeyFrom(migrations_core::builder::ForeignKeyFrom),
    Dialect(migrations_core::Dialect),
}

fn fail<T>(at: &impl Spanned, message: impl Into<String>) -> Result<T, ReadError> {
    Err(ReadError { line: at.span().start().line, message: message.into() })
}

fn qualified(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

fn eval(e: &Expr) -> Result<Value, ReadError> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Ok(Value::Str(s.value())),
            Lit::Int(i) => i.base10_parse().map(Value::Int).or_else(|_| fail(e, "integer out of range")),
            Lit::Bool(b) => Ok(Value::Bool(b.value)),
            _ => fail(e, "unsupported literal"),
        },
        Expr::Group(g) => eval(&g.expr),
        Expr::Paren(p) => eval(&p.expr),
        Expr::Reference(r) => eval(&r.expr),
        Expr::Array(a) => a.elems.iter().map(eval).collect::<Result<_, _>>().map(Value::List),
        // `("old", "new")`: a pair, read as a list of two.
        Expr::Tuple(t) => t.elems.iter().map(eval).collect::<Result<_, _>>().map(Value::List),
        Expr::Path(p) => path_value(&qualified(&p.path))
            .map_or_else(|| fail(e, format!("unknown name `{}`", qualified(&p.path))), Ok),
        Expr::Struct(s) if qualified(&s.path).ends_with("Decimal") => {
            let mut precision = None;
            let mut scale = None;
            for f in &s.fields {
                let syn::Member::Named(name) = &f.member else { return fail(f, "expected `precision` or `scale`") };
                let Value::Int(n) = eval(&f.expr)? else { return fail(f, "expected an integer") };
                if name == "precision" {
                    precision = Some(n);
                } else if name == "scale" {
                    scale = Some(n);
                }
            }
            match (precision, scale) {
                (Some(precision), Some(scale)) => Ok(Value::Type(ColumnType::Decimal { precision, scale })),
                _ => fail(e, "Decimal needs precision and scale"),
            }
        }
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else { return fail(e, "unsupported call") };
            let args = c.args.iter().map(eval).collect::<Result<Vec<_>, _>>()?;
            call(&qualified(&p.path), args).map_or_else(|m| fail(e, m), Ok)
        }
        Expr::MethodCall(m) => {
            let receiver = eval(&m.receiver)?;
            let args = m.args.iter().map(eval).collect::<Result<Vec<_>, _>>()?;
            method(receiver, &m.method.to_string(), args).map_or_else(|msg| fail(e, msg), Ok)
        }
        _ => fail(e, "this expression is not part of the migration builder language"),
    }
}

fn path_value(path: &str) -> Option<Value> {
    let name = path.rsplit("::").next().unwrap_or(path);
    let ty = |t| Some(Value::Type(t));
    if path.contains("Dialect") {
        if let Ok(d) = name.parse() {
            return Some(Value::Dialect(d));
        }
    }
    if path.contains("IndexMethod") {
        return IndexMethod::parse(name).map(Value::Method);
    }
    match (path.contains("FkAction"), name) {
        (true, "NoAction") => Some(Value::Action(FkAction::NoAction)),
        (true, "Restrict") => Some(Value::Action(FkAction::Restrict)),
        (true, "Cascade") => Some(Value::Action(FkAction::Cascade)),
        (true, "SetNull") => Some(Value::Action(FkAction::SetNull)),
        (_, "InitiallyImmediate") => Some(Value::Deferrable(Deferrable::InitiallyImmediate)),
        (_, "InitiallyDeferred") => Some(Value::Deferrable(Deferrable::InitiallyDeferred)),
        (_, "None") => Some(Value::Opt(None)),
        (_, "SmallInt") => ty(ColumnType::SmallInt),
        (_, "Integer") => ty(ColumnType::Integer),
        (_, "BigInt") => ty(ColumnType::BigInt),
        (_, "Boolean") => ty(ColumnType::Boolean),
        (_, "Real") => ty(ColumnType::Real),
        (_, "Double") => ty(ColumnType::Double),
        (_, "UnboundedVarchar") => ty(ColumnType::UnboundedVarchar),
        (_, "Text") => ty(ColumnType::Text),
        (_, "CiText") => ty(ColumnType::CiText),
        (_, "Binary") => ty(ColumnType::Binary),
        (_, "Date") => ty(ColumnType::Date),
        (_, "Time") => ty(ColumnType::Time),
        (_, "Timestamp") => ty(ColumnType::Timestamp),
        (_, "TimestampTz") => ty(ColumnType::TimestampTz),
        (_, "Uuid") => ty(ColumnType::Uuid),
        (_, "Json") => ty(ColumnType::Json),
        (_, "JsonText") => ty(ColumnType::JsonText),
        (_, "Inet") => ty(ColumnType::Inet),
        (_, "Cidr") => ty(ColumnType::Cidr),
        (_, "Interval") => ty(ColumnType::Interval),
        (_, "TsVector") => ty(ColumnType::TsVector),
        (_, "TimeTz") => ty(ColumnType::TimeTz),
        _ => None,
    }
}

fn strings(v: Value) -> Result<Vec<String>, String> {
    match v {
        Value::List(items) => items.into_iter().map(string).collect(),
        _ => Err("expected a list of names".into()),
    }
}

/// A name and a column list: the arguments of `Index::new`, `Unique::new`,
/// `ForeignKey::on` and `.references`, and both halves of `ForeignKey::new`.
fn name_and_columns(
    args: &mut impl Iterator<Item = Value>,
    name: &str,
    columns: &str,
) -> Result<(String, Vec<String>), String> {
    let n = string(args.next().ok_or_else(|| format!("missing {name}"))?)?;
    let c = strings(args.next().ok_or_else(|| format!("missing {columns}"))?)?;
    Ok((n, c))
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn string(v: Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(format!("expected a string, found {other:?}")),
    }
}

fn opt_string(v: Value) -> Result<Option<String>, String> {
    match v {
        Value::Opt(None) => Ok(None),
        Value::Opt(Some(inner)) => string(*inner).map(Some),
        other => Err(format!("expected `Some(\"...\")` or `None`, found {other:?}")),
    }
}

fn call(path: &str, mut args: Vec<Value>) -> Result<Value, String> {
    let mut take = |n: usize| -> Result<Vec<Value>, String> {
        if args.len() == n {
            Ok(std::mem::take(&mut args))
        } else {
            Err(format!("`{path}` takes {n} argument(s)"))
        }
    };
    let name = path.rsplit("::").next().unwrap_or(path);
    let owner = path.rsplit("::").nth(1).unwrap_or("");
    Ok(match (owner, name) {
        (_, "Some") => Value::Opt(take(1)?.pop().map(Box::new)),
        ("ColumnType", "Varchar") => match take(1)?.pop() {
            Some(Value::Int(n)) => Value::Type(ColumnType::Varchar(n)),
            _ => return Err("Varchar takes a length".into()),
        },
        ("ColumnType", "array_of") => match take(1)?.remove(0) {
            Value::Type(element) if element.can_be_an_array_element() => Value::Type(ColumnType::array_of(element)),
            _ => return Err("`ColumnType::array_of` takes a portable ColumnType".into()),
        },
        ("ColumnType", "sql_for") => {
            let mut a = take(2)?.into_iter();
            match (a.next(), a.next()) {
                (Some(Value::Dialect(d)), Some(sql)) => Value::Type(ColumnType::sql_for(d, &string(sql)?)),
                _ => return Err("`ColumnType::sql_for` takes a Dialect and the SQL".into()),
            }
        }
        ("ColumnType", "Custom") => Value::Type(ColumnType::Custom(string(take(1)?.remove(0))?)),
        ("ColumnType", "enumeration") => {
            let mut a = take(2)?.into_iter();
            let name = string(a.next().ok_or("missing name")?)?;
            let values = strings(a.next().ok_or("missing values")?)?;
            let ty = migrations_core::schema::EnumType { name, values };
            if let Some(problem) = ty.problem() {
                return Err(problem);
            }
            Value::Type(ColumnType::Enum(ty))
        }
        ("DefaultValue", "Bool") => match take(1)?.pop() {
            Some(Value::Bool(b)) => Value::Default(DefaultValue::Bool(b)),
            _ => return Err("Bool takes true or false".into()),
        },
        ("DefaultValue", "num") => Value::Default(DefaultValue::num(&string(take(1)?.remove(0))?)),
        ("DefaultValue", "text") => Value::Default(DefaultValue::text(&string(take(1)?.remove(0))?)),
        ("DefaultValue", "expr") => Value::Default(DefaultValue::expr(&string(take(1)?.remove(0))?)),
        ("DefaultValue", "expr_for") => {
            let mut a = take(2)?.into_iter();
            match (a.next(), a.next()) {
                (Some(Value::Dialect(d)), Some(sql)) => Value::Default(DefaultValue::expr_for(d, &string(sql)?)),
                _ => return Err("`DefaultValue::expr_for` takes a Dialect and the SQL".into()),
            }
        }
        ("Column", "new") => {
            let mut a = take(2)?.into_iter();
            let name = string(a.next().ok_or("missing name")?)?;
            match a.next() {
                Some(Value::Type(t)) => Value::Column(Column::new(name, t)),
                _ => return Err("Column::new takes a name and a ColumnType".into()),
            }
        }
        ("Table", "new") => Value::Table(Table::new(string(take(1)?.remove(0))?)),
        ("RawSql", "new") => {
            let a: Vec<String> = take(2)?.into_iter().map(string).collect::<Result<_, _>>()?;
            Value::Raw(migrations_core::schema::RawSql::new(&a[0], &a[1]))
        }
        ("Index", "new") => {
            let (name, cols) = name_and_columns(&mut take(2)?.into_iter(), "name", "columns")?;
            Value::Index(Index::new(&name, &strs(&cols)))
        }
        ("Unique", "new") => {
            let (name, cols) = name_and_columns(&mut take(2)?.into_iter(), "name", "columns")?;
            Value::Unique(Unique::new(&name, &strs(&cols)))
        }
        ("Check", "new") => {
            let mut a = take(2)?.into_iter();
            let name = string(a.next().ok_or("missing name")?)?;
            Value::Check(Check::new(&name, &string(a.next().ok_or("missing expression")?)?))
        }
        ("ForeignKey", "new") => {
            let mut a = take(4)?.into_iter();
            let (name, cols) = name_and_columns(&mut a, "name", "columns")?;
            let (table, refs) = name_and_columns(&mut a, "table", "referenced columns")?;
            Value::ForeignKey(ForeignKey::new(&name, &strs(&cols), &table, &strs(&refs)))
        }
        ("View", "new") => {
            let mut a = take(2)?.into_iter();
            match (a.next(), a.next()) {
                (Some(name), Some(sql)) => {
                    Value::View(migrations_core::schema::View::new(&string(name)?, &string(sql)?))
                }
                _ => return Err("`View::new` takes a name and the SQL".into()),
            }
        }
        ("ForeignKey", "on") => {
            let (name, cols) = name_and_columns(&mut take(2)?.into_iter(), "name", "columns")?;
            Value::ForeignKeyFrom(ForeignKey::on(&name, &strs(&cols)))
        }
        _ => return Err(format!("`{path}` is not part of the migration builder language")),
    })
}

fn method(receiver: Value, name: &str, args: Vec<Value>) -> Result<Value, String> {
    let mut args = args.into_iter();
    let mut arg = || args.next().ok_or_else(|| format!("`.{name}()` needs an argument"));
    Ok(match (receiver, name) {
        (v @ Value::Str(_), "into" | "to_string" | "to_owned") => v,
        (Value::Column(c), "nullable") => Value::Column(c.nullable()),
        (Value::Column(c), "auto_increment") => Value::Column(c.auto_increment()),
        (Value::Column(c), "serial") => Value::Column(c.serial()),
        (Value::Column(c), "default") => match arg()? {
            Value::Default(d) => Value::Column(c.default(d)),
            _ => return Err("`.default()` takes a DefaultValue".into()),
        },
        (Value::Type(t @ ColumnType::PerDialect(_)), "and_for") => match (arg()?, arg()?) {
            (Value::Dialect(dialect), sql) => Value::Type(t.and_for(dialect, &string(sql)?)),
            _ => return Err("`.and_for()` takes a Dialect and the SQL".into()),
        },
        (Value::Default(d @ DefaultValue::PerDialect(_)), "and_for") => match (arg()?, arg()?) {
            (Value::Dialect(dialect), sql) => Value::Default(d.and_for(dialect, &string(sql)?)),
            _ => return Err("`.and_for()` takes a Dialect and the SQL".into()),
        },
        (Value::Column(c), "comment") => Value::Column(c.comment(string(arg()?)?)),
        (Value::Raw(o), "on_table") => Value::Raw(o.on_table(&string(arg()?)?)),
        (Value::Raw(o), "sql") => Value::Raw(o.sql(&string(arg()?)?, &string(arg()?)?)),
        (Value::Raw(o), "sql_for") => match arg()? {
            Value::Dialect(d) => Value::Raw(o.sql_for(d, &string(arg()?)?, &string(arg()?)?)),
            _ => return Err("`.sql_for()` takes a Dialect and two statements".into()),
        },
        (Value::Table(t), "field") => match arg()? {
            Value::Column(c) => Value::Table(t.field(c)),
            _ => return Err("`.field()` takes a Column".into()),
        },
        (Value::Table(t), "primary_key") => Value::Table(t.primary_key(&strs(&strings(arg()?)?))),
        (Value::Table(t), "primary_key_name") => Value::Table(t.primary_key_name(&string(arg()?)?)),
        (Value::Table(t), "unique") => match arg()? {
            Value::Unique(u) => Value::Table(t.unique(u)),
            _ => return Err("`.unique()` takes a Unique".into()),
        },
        (Value::Table(t), "check") => match arg()? {
            Value::Check(c) => Value::Table(t.check(c)),
            _ => return Err("`.check()` takes a Check".into()),
        },
        (Value::Table(t), "foreign_key") => match arg()? {
            Value::ForeignKey(f) => Value::Table(t.foreign_key(f)),
            _ => return Err("`.foreign_key()` takes a ForeignKey".into()),
        },
        (Value::Table(t), "index") => match arg()? {
            Value::Index(i) => Value::Table(t.index(i)),
            _ => return Err("`.index()` takes an Index".into()),
        },
        (Value::Table(t), "comment") => Value::Table(t.comment(&string(arg()?)?)),
        (Value::Index(i), "unique") => Value::Index(i.unique()),
        (Value::Index(i), "named") => Value::Index(i.named()),
        (Value::View(v), "reads") => Value::View(v.reads(&strs(&strings(arg()?)?))),
        (Value::View(v), "materialized") => Value::View(v.materialized()),
        (Value::Index(i), "using") => match arg()? {
            Value::Method(m) => Value::Index(i.using(m)),
            _ => return Err("`.using()` takes an IndexMethod".into()),
        },
        (Value::Index(i), "descending" | "nulls_first" | "nulls_last" | "opclass") => {
            let key = string(arg()?)?;
            if !i.columns.contains(&key) {
                return Err(format!("`.{name}(\"{key}\")`: `{key}` is not a key of index `{}`", i.name));
            }
            Value::Index(match name {
                "descending" => i.descending(&key),
                "nulls_first" => i.nulls_first(&key),
                "nulls_last" => i.nulls_last(&key),
                _ => i.opclass(&key, &string(arg()?)?),
            })
        }
        (Value::Index(i), "include") => Value::Index(i.include(&strs(&strings(arg()?)?))),
        (Value::Index(i), "partial") => Value::Index(i.partial(&string(arg()?)?)),
        (Value::Unique(u), "named") => Value::Unique(u.named()),
        (Value::ForeignKeyFrom(f), "references") => {
            let (table, refs) = name_and_columns(&mut args, "table", "referenced columns")?;
            Value::ForeignKey(f.references(&table, &strs(&refs)))
        }
        (Value::ForeignKey(f), "named") => Value::ForeignKey(f.named()),
        (Value::ForeignKey(f), "not_valid") => Value::ForeignKey(f.not_valid()),
        (Value::Check(c), "not_valid") => Value::Check(c.not_valid()),
        (Value::ForeignKey(f), "on_delete" | "on_update") => match arg()? {
            Value::Action(a) if name == "on_delete" => Value::ForeignKey(f.on_delete(a)),
            Value::Action(a) => Value::ForeignKey(f.on_update(a)),
            _ => return Err(format!("`.{name}()` takes an FkAction")),
        },
        (Value::ForeignKey(f), "deferrable") => match arg()? {
            Value::Deferrable(d) => Value::ForeignKey(f.deferrable(d)),
            _ => return Err("`.deferrable()` takes a Deferrable".into()),
        },
        (other, _) => return Err(format!("no method `.{name}()` on {other:?}")),
    })
}

fn constraint(v: Value) -> Result<migrations_core::schema::Constraint, String> {
    match v {
        Value::Unique(u) => Ok(u.into()),
        Value::Check(c) => Ok(c.into()),
        Value::ForeignKey(f) => Ok(f.into()),
        other => Err(format!("expected a Unique, Check or ForeignKey, found {other:?}")),
    }
}

/// What a drop is given: a name (a string) or the definition `definition` reads.
fn dropped<T>(v: Value, definition: impl FnOnce(Value) -> Result<T, String>) -> Result<Dropped<T>, String> {
    match v {
        Value::Str(name) => Ok(Dropped::Name(name)),
        other => definition(other).map(Dropped::Definition),
    }
}

fn record(m: &mut Migration, op: &str, args: Vec<Value>) -> Result<(), String> {
    let mut a = args.into_iter();
    let mut next = || a.next().ok_or_else(|| format!("`m.{op}` is missing an argument"));
    let column = |v: Value| match v {
        Value::Column(c) => Ok(c),
        other => Err(format!("expected a Column, found {other:?}")),
    };
    let table = |v: Value| match v {
        Value::Table(t) => Ok(t),
        other => Err(format!("expected a Table, found {other:?}")),
    };
    let index = |v: Value| match v {
        Value::Index(i) => Ok(i),
        other => Err(format!("expected an Index, found {other:?}")),
    };
    let view = |v: Value| match v {
        Value::View(v) => Ok(v),
        other => Err(format!("expected a View, found {other:?}")),
    };
    let raw = |v: Value| match v {
        Value::Raw(o) => Ok(o),
        other => Err(format!("expected a RawSql, found {other:?}")),
    };
    let default = |v: Value| match v {
        Value::Default(d) => Ok(d),
        other => Err(format!("expected a DefaultValue, found {other:?}")),
    };
    match op {
        "create_model" => m.create_model(table(next()?)?),
        "delete_model" => m.delete_model(dropped(next()?, table)?),
        "rename_model" => m.rename_model(&string(next()?)?, &string(next()?)?),
        "alter_model_comment" => {
            let t = string(next()?)?;
            let (old, new) = (opt_string(next()?)?, opt_string(next()?)?);
            m.alter_model_comment(&t, old.as_deref(), new.as_deref())
        }
        "add_field" => m.add_field(&string(next()?)?, column(next()?)?),
        "add_field_filled" => m.add_field_filled(&string(next()?)?, column(next()?)?, default(next()?)?),
        "remove_field" => m.remove_field(&string(next()?)?, dropped(next()?, column)?),
        "alter_field" => m.alter_field(&string(next()?)?, column(next()?)?, column(next()?)?),
        "alter_field_filled" => {
            m.alter_field_filled(&string(next()?)?, column(next()?)?, column(next()?)?, default(next()?)?)
        }
        "rename_field" => m.rename_field(&string(next()?)?, &string(next()?)?, &string(next()?)?),
        "create_index" => m.create_index(&string(next()?)?, index(next()?)?),
        "create_view" => m.create_view(view(next()?)?),
        "drop_view" => m.drop_view(dropped(next()?, view)?),
        "drop_index" => m.drop_index(&string(next()?)?, dropped(next()?, index)?),
        "rename_index" => m.rename_index(&string(next()?)?, &string(next()?)?, &string(next()?)?),
        "add_constraint" => m.add_constraint(&string(next()?)?, constraint(next()?)?),
        "remove_constraint" => m.remove_constraint(&string(next()?)?, dropped(next()?, constraint)?),
        "alter_constraint" => m.alter_constraint(&string(next()?)?, constraint(next()?)?, constraint(next()?)?),
        "run_sql" => {
            let forward = string(next()?)?;
            let reverse = opt_string(next()?)?;
            m.run_sql(&forward, reverse.as_deref())
        }
        "create_raw" => m.create_raw(raw(next()?)?),
        "drop_raw" => m.drop_raw(raw(next()?)?),
        "drop_raw_named" => m.drop_raw_named(&string(next()?)?, &string(next()?)?),
        "alter_enum" => {
            let name = string(next()?)?;
            let (from, to) = (strings(next()?)?, strings(next()?)?);
            let renamed = match next()? {
                Value::List(pairs) => pairs
                    .into_iter()
                    .map(|pair| match strings(pair)?.as_slice() {
                        [old, new] => Ok((old.clone(), new.clone())),
                        _ => Err("a rename is a pair: (\"old\", \"new\")".to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                other => return Err(format!("expected a list of (old, new) pairs, found {other:?}")),
            };
            let pairs: Vec<(&str, &str)> = renamed.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            m.alter_enum(&name, &strs(&from), &strs(&to), &pairs)
        }
        "rename_enum" => m.rename_enum(&string(next()?)?, &string(next()?)?),
        "irreversible" => m.irreversible(),
        "run_sql_for" | "run_sql_outside_transaction" => {
            let dialect = match next()? {
                Value::Dialect(d) => d,
                other => return Err(format!("expected a Dialect, found {other:?}")),
            };
            let forward = string(next()?)?;
            let reverse = opt_string(next()?)?;
            if op == "run_sql_for" {
                m.run_sql_for(dialect, &forward, reverse.as_deref())
            } else {
                m.run_sql_outside_transaction(dialect, &forward, reverse.as_deref())
            }
        }
        other => return Err(format!("`m.{other}(...)` is not an operation the CLI can read")),
    };
    Ok(())
}

/// The operations `fn up` (or `fn down`, when `backward`) of a migration module records,
/// drops given by name looked up in `start`, the schema that direction meets.
pub fn read_operations(text: &str, backward: bool, start: &Schema) -> Result<Vec<Operation>, ReadError> {
    read_operations_and_steps(text, backward, start).map(|(ops, _)| ops)
}

/// [`read_operations`], and the direction's Rust data steps.
pub fn read_operations_and_steps(
    text: &str,
    backward: bool,
    start: &Schema,
) -> Result<(Vec<Operation>, Vec<DataStep>), ReadError> {
    let (m, data) = read_steps(text, backward)?;
    Ok((resolved(m, start, backward)?, data))
}

/// The operations of `m`, read from `fn up` (or `fn down`), drops given by name looked up
/// in `start`.
pub fn resolved(mut m: Migration, start: &Schema, backward: bool) -> Result<Vec<Operation>, ReadError> {
    m.resolve(start).map_err(|e| ReadError { line: 1, message: format!("fn {}: {e}", direction(backward)) })?;
    Ok(m.into_operations())
}

fn direction(backward: bool) -> &'static str {
    if backward {
        "down"
    } else {
        "up"
    }
}

/// What `fn up` (or `fn down`) records, as it records it: drops given by name hold only
/// the name (see [`Migration::resolve`]). A Rust data step (`m.run_rust(..)`) changes
/// rows, not the schema: it is left out (see [`read_steps`] for where it runs).
pub fn read_migration(text: &str, backward: bool) -> Result<Migration, ReadError> {
    read_steps(text, backward).map(|(m, _)| m)
}

/// A Rust data step of a migration: its name, and how many operations run before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataStep {
    /// The name given to `m.run_rust`.
    pub name: String,
    /// The number of schema operations recorded before it.
    pub after: usize,
}

/// What `fn up` (or `fn down`) records, and its Rust data steps, which only the
/// application can run.
pub fn read_steps(text: &str, backward: bool) -> Result<(Migration, Vec<DataStep>), ReadError> {
    steps_of(&parse(text)?, backward)
}

/// A migration module's syntax tree, for [`steps_of`] and whatever else a reader wants
/// from the same text (parsing it once: it is the slow part at opt-level 0).
pub fn parse(text: &str) -> Result<syn::File, ReadError> {
    syn::parse_file(text)
        .map_err(|e| ReadError { line: e.span().start().line, message: format!("does not parse: {e}") })
}

/// [`read_steps`] of a module already parsed.
pub fn steps_of(file: &syn::File, backward: bool) -> Result<(Migration, Vec<DataStep>), ReadError> {
    let wanted = direction(backward);
    let func = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Fn(f) if f.sig.ident == wanted => Some(f),
            _ => None,
        })
        .ok_or_else(|| ReadError { line: 1, message: format!("no `fn {wanted}`") })?;
    let mut m = Migration::new();
    let mut data = Vec::new();
    for stmt in &func.block.stmts {
        match stmt {
            syn::Stmt::Local(l) if matches!(&l.pat, syn::Pat::Wild(_)) => {}
            syn::Stmt::Expr(Expr::MethodCall(call), Some(_))
                if matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("m")) && call.method == "run_rust" =>
            {
                // The step itself is Rust; only its name is read.
                let name = match call.args.first().map(eval) {
                    Some(Ok(Value::Str(name))) => name,
                    _ => return fail(call, "`m.run_rust` takes the step's name as a string literal, then the step"),
                };
                data.push(DataStep { name, after: m.operations().len() });
            }
            syn::Stmt::Expr(Expr::MethodCall(call), Some(_)) if matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("m")) =>
            {
                let args = call.args.iter().map(eval).collect::<Result<Vec<_>, _>>()?;
                record(&mut m, &call.method.to_string(), args)
                    .map_err(|message| ReadError { line: call.span().start().line, message })?;
            }
            syn::Stmt::Macro(_) | syn::Stmt::Item(_) => {}
            other => {
                return fail(
                    other,
                    "this statement is Rust code the CLI cannot run; ask the application: `<app> migrate sql <ID>`",
                );
            }
        }
    }
    Ok((m, data))
}
