//! Fuzzing with proptest-driven mutations: the snapshot parser, the model parser and the
//! build helper's reading of migration files get damaged versions of real inputs (the
//! seeds in `tests/fuzz-corpus/` plus randomly generated schemas and migration modules),
//! mutated by deleting, duplicating and inserting ranges, characters and tokens of the
//! format. No input may panic, and every error must name its place (a line ≥ 1).
//!
//! `CHAKRA_FUZZ_CASES` inputs per target (default 2,000 in CI; RELIABILITY.md reports
//! 100,000 each): `CHAKRA_FUZZ_CASES=100000 cargo test --release -p chakra-tests --test fuzz -- --nocapture`.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chakra_tests::random_schema::schema;
use migrations_core::diff::diff;
use migrations_core::model::parse_source;
use migrations_core::snapshot::{from_toml, to_toml};
use migrations_core::Schema;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("CHAKRA_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

fn corpus(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One change to a text.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Insert { at: usize, text: String },
}

fn mutation(tokens: &'static [&'static str]) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1usize..80).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), prop::sample::select(tokens)).prop_map(|(at, t)| Mutation::Insert { at, text: t.to_string() }),
        (any::<usize>(), "\\PC{1,3}").prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Mutation::Insert { at, text: c.to_string() }),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let at = at % (s.len() + 1);
    (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

fn mutate(seed: &str, mutations: &[Mutation]) -> String {
    let mut s = seed.to_string();
    for m in mutations {
        match m {
            Mutation::Delete { at, len } => {
                let a = boundary(&s, *at);
                let b = boundary(&s, (a + len).min(s.len()));
                s.replace_range(a..b.max(a), "");
            }
            Mutation::Duplicate { at, len } => {
                let a = boundary(&s, *at);
                let b = boundary(&s, (a + len).min(s.len())).max(a);
                let copy = s[a..b].to_string();
                s.insert_str(b, &copy);
            }
            Mutation::Insert { at, text } => {
                let a = boundary(&s, *at);
                s.insert_str(a, text);
            }
        }
    }
    s
}

/// Runs `check` on `cases()` mutated inputs built from `seeds`; prints the count and the
/// slowest input's time (a hang would show here, and the run would not end).
fn fuzz(
    target: &str,
    seeds: impl Strategy<Value = String>,
    tokens: &'static [&'static str],
    check: impl Fn(&str) -> Result<(), TestCaseError>,
) {
    let slowest = Mutex::new(Duration::ZERO);
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let strategy = (seeds, prop::collection::vec(mutation(tokens), 0..6));
    let started = Instant::now();
    runner
        .run(&strategy, |(seed, mutations)| {
            let input = mutate(&seed, &mutations);
            let t = Instant::now();
            let result = check(&input);
            let took = t.elapsed();
            if let Ok(mut s) = slowest.lock() {
                *s = (*s).max(took);
            }
            result
        })
        .unwrap_or_else(|e| panic!("{target}: {e}"));
    println!(
        "fuzz {target}: {} inputs in {:.1} s, slowest {:.1} ms, no panic, every check held",
        cases(),
        started.elapsed().as_secs_f64(),
        slowest.lock().map(|s| s.as_secs_f64() * 1000.0).unwrap_or_default()
    );
}

const SNAPSHOT_TOKENS: &[&str] = &[
    "[tables.x]",
    "[[tables]]",
    "columns = [",
    "]",
    "{",
    "}",
    "=",
    ",",
    "\"",
    "'''",
    "name = ",
    "type = ",
    "\"bigint\"",
    "\"varchar(",
    "\"decimal(10,",
    "nullable = true",
    "default = { number = \"1e999\" }",
    "version = 2",
    "\n",
    "#",
    "references = \"",
    "primary_key = [\"",
    "on_delete = \"cascade\"",
    "\u{feff}",
    "\\u0000",
];

#[test]
fn fuzz_snapshot_parser() {
    let seeds = prop_oneof![Just(corpus("snapshot_blog.toml")), schema().prop_map(|s| to_toml(&s))];
    assert!(from_toml(&corpus("snapshot_blog.toml")).is_ok(), "the seed itself must parse");
    fuzz("snapshot parser", seeds, SNAPSHOT_TOKENS, |input| {
        if let Err(e) = from_toml(input) {
            prop_assert!(e.line >= 1 && e.column >= 1, "error without a place: {e:?}");
            prop_assert!(!e.message.is_empty(), "error without a message: {e:?} for input {input:?}");
        }
        Ok(())
    });
}

const MODEL_TOKENS: &[&str] = &[
    "#[model(",
    ")]",
    "#[derive(Model)]",
    "primary_key",
    "auto_increment",
    "references = ",
    "references = User",
    "\"users(id)\"",
    "\"a.b(c)\"",
    "on_delete = \"explode\"",
    "default = ",
    "default_expr = \"now()\"",
    "max_length = ",
    "0",
    "-1",
    "99999999999999999999",
    "column = \"\"",
    "table = \"",
    "index(",
    "unique(",
    "check(name = \"c\")",
    "primary_key(",
    "renamed_from = ",
    "backfill = 1.5",
    "column_type = \"sql:\"",
    "precision = 1",
    "scale = 9",
    "Option<",
    ">",
    "Vec<u8>",
    "i64",
    "u64",
    "String",
    "bool",
    "::",
    ",",
    "=",
    "\"",
    "{",
    "}",
    "(",
    ")",
    "pub ",
    "struct ",
    "enum ",
    "r#type",
    "'a",
    "\n",
    "é",
    "skip",
];

#[test]
fn fuzz_model_parser() {
    assert!(parse_source(&corpus("model_blog.rs"), &Schema::new()).is_ok(), "the seed itself must parse");
    let seeds = Just(corpus("model_blog.rs"));
    fuzz("model parser", seeds, MODEL_TOKENS, |input| {
        if let Err(e) = parse_source(input, &Schema::new()) {
            for one in e {
                prop_assert!(one.span().start().line >= 1, "error without a place: {one}");
                prop_assert!(!one.to_string().is_empty());
            }
        }
        Ok(())
    });
}

const MIGRATION_TOKENS: &[&str] = &[
    "pub const ID: &str = ",
    "pub const DEPENDENCIES: &[&str] = &[",
    "];",
    "\"0001_x\"",
    "\"app/0001_x\"",
    "m.",
    "create_model(",
    "add_field(",
    "alter_field(",
    "rename_field(",
    "run_sql(",
    "run_rust(",
    "Column::new(",
    "ColumnType::Varchar(",
    "ColumnType::",
    "DefaultValue::num(\"",
    ".nullable()",
    ".unique()",
    "Table::new(",
    "Index::new(",
    "None",
    "Some(",
    ");",
    "(",
    ")",
    "\"",
    "&[",
    "]",
    "pub fn up(m: &mut Migration) {",
    "}",
    "\n",
    "// DRAFT",
    "__chakra_comment_0!();",
    "u32::MAX",
    "-",
    "'",
];

fn generated_module(pair: (Schema, Schema)) -> String {
    let ops = diff(&pair.0, &pair.1, &Default::default()).map(|c| c.operations).unwrap_or_default();
    let spec = migrations_build::ModuleSpec {
        id: "0002_fuzz",
        dependencies: &["0001_initial".to_string()],
        operations: &ops,
        sealed_on: Some("2026-11-22"),
    };
    migrations_build::module(&spec).unwrap_or_default()
}

#[test]
fn fuzz_migration_file_reader() {
    let seed = corpus("migration_mixed.rs");
    assert!(migrations_build::interpret::read_migration(&seed, false).is_ok(), "the seed itself must read");
    let seeds = prop_oneof![Just(seed), (schema(), schema()).prop_map(generated_module)];
    let path = Path::new("migrations/0002_fuzz.rs");
    fuzz("migration file reader", seeds, MIGRATION_TOKENS, |input| {
        if let Err(e) = migrations_build::migration_files::read_text(path, "0002_fuzz", 2, input) {
            let text = e.to_string();
            prop_assert!(text.contains("0002_fuzz.rs"), "error without the file: {text}");
        }
        for backward in [false, true] {
            if let Err(e) =
                migrations_build::interpret::read_operations(input, backward, &migrations_core::Schema::new())
            {
                prop_assert!(e.line >= 1, "error without a line: {e:?}");
            }
        }
        Ok(())
    });
}
