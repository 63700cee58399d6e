//! Load on a live table for the benchmarks: statements run in a loop on a connection of
//! their own, each latency recorded, and the summary printed next to a migration.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use migrations_core::Dialect;
use migrations_runtime::sqlx::{self, Connection as _};

/// Values never used before, for unique columns.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// What a worker saw: each statement's latency, and the statements that failed.
#[derive(Debug, Default)]
pub struct Seen {
    /// The latency of every statement.
    pub latencies: Vec<Duration>,
    /// The first error of each kind, and how many statements failed.
    pub failures: Vec<String>,
    /// How many statements failed.
    pub failed: usize,
}

impl Seen {
    /// `max / p99 ms`, and how many failed if any did.
    pub fn summary(&self) -> String {
        let mut s = max_p99(self.latencies.clone());
        if self.failed > 0 {
            s.push_str(&format!(" ({} FAILED)", self.failed));
        }
        s
    }
}

/// Runs `sql` in a loop on its own connection until `stop`, recording each latency and
/// each failure. In each statement `{n}` becomes a pseudo-random row number in
/// `1..=rows` and `{u}` a value never used before.
pub async fn worker(dialect: Dialect, url: String, sql: Vec<&'static str>, rows: u64, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let mut n: u64 = 1;
    macro_rules! run_loop {
        ($conn:expr) => {{
            let mut conn = $conn;
            while !stop.load(Ordering::Relaxed) {
                for s in &sql {
                    n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let unique = SEQ.fetch_add(1, Ordering::Relaxed).to_string();
                    let text = s.replace("{n}", &((n >> 33) % rows.max(1) + 1).to_string()).replace("{u}", &unique);
                    let started = Instant::now();
                    if let Err(e) = sqlx::raw_sql(&text).execute(&mut conn).await {
                        seen.failed += 1;
                        let e = e.to_string();
                        if !seen.failures.contains(&e) {
                            seen.failures.push(e);
                        }
                    }
                    seen.latencies.push(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }};
    }
    match dialect {
        Dialect::Postgres => run_loop!(sqlx::PgConnection::connect(&url).await.expect("connect")),
        _ => run_loop!(sqlx::MySqlConnection::connect(&url).await.expect("connect")),
    }
    seen
}

/// `max / p99 ms` of `latencies`.
pub fn max_p99(mut latencies: Vec<Duration>) -> String {
    if latencies.is_empty() {
        return "-".into();
    }
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    format!("{:>7.0} / {:>6.1} ms", latencies[latencies.len() - 1].as_secs_f64() * 1000.0, p99.as_secs_f64() * 1000.0)
}
