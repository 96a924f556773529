//! Process-wide counters and the database-latency histogram, rendered as Prometheus text
//! exposition (`metrics()`). Relaxed atomics: a counter costs one uncontended add on the
//! path it counts. No label carries a token, key, handle or user id.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets; the last bucket is +Inf.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn inc(&self) {
        self.add(1);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len() + 1],
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

pub struct Metrics {
    pub sessions_created: Counter,
    pub sessions_verified: Counter,
    pub sessions_refreshed: Counter,
    pub token_theft_detected: Counter,
    pub sessions_revoked: Counter,
    pub database_errors: Counter,
    pub database_retries: Counter,
    pub database_latency: Histogram,
}

pub static METRICS: Metrics = Metrics {
    sessions_created: Counter::new(),
    sessions_verified: Counter::new(),
    sessions_refreshed: Counter::new(),
    token_theft_detected: Counter::new(),
    sessions_revoked: Counter::new(),
    database_errors: Counter::new(),
    database_retries: Counter::new(),
    database_latency: Histogram::new(),
};

const PREFIX: &str = "supertokens";

fn counter(out: &mut String, name: &str, help: &str, c: &Counter) {
    let _ = writeln!(out, "# HELP {PREFIX}_{name}_total {help}");
    let _ = writeln!(out, "# TYPE {PREFIX}_{name}_total counter");
    let _ = writeln!(out, "{PREFIX}_{name}_total {}", c.get());
}

/// The Prometheus text exposition (format 0.0.4) of every metric.
pub fn render() -> String {
    let m = &METRICS;
    let mut out = String::with_capacity(2048);
    counter(
        &mut out,
        "sessions_created",
        "Sessions created (logins).",
        &m.sessions_created,
    );
    counter(
        &mut out,
        "sessions_verified",
        "Access tokens verified successfully (getSession).",
        &m.sessions_verified,
    );
    counter(
        &mut out,
        "sessions_refreshed",
        "Successful refreshes.",
        &m.sessions_refreshed,
    );
    counter(
        &mut out,
        "token_theft_detected",
        "Refresh tokens reused after rotation (UNAUTHORISED_AND_TOKEN_THEFT_DETECTED).",
        &m.token_theft_detected,
    );
    counter(
        &mut out,
        "sessions_revoked",
        "Sessions removed by revocation.",
        &m.sessions_revoked,
    );
    counter(
        &mut out,
        "database_errors",
        "Database operations that failed after retries.",
        &m.database_errors,
    );
    counter(
        &mut out,
        "database_retries",
        "Database operations rerun after a conflict or on another server.",
        &m.database_retries,
    );
    let name = format!("{PREFIX}_database_operation_duration_seconds");
    let h = &m.database_latency;
    let _ = writeln!(
        out,
        "# HELP {name} Duration of database operations, retries included."
    );
    let _ = writeln!(out, "# TYPE {name} histogram");
    let mut cumulative = 0;
    for (i, bucket) in h.buckets.iter().enumerate() {
        cumulative += bucket.load(Ordering::Relaxed);
        let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum {sum}");
    let _ = writeln!(out, "{name}_count {cumulative}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(9));
        let counts: Vec<u64> = h
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[3], 1, "3 ms lands in the 5-ms bucket");
        assert_eq!(counts[BUCKETS.len()], 1, "9 s lands in +Inf");
        let text = render();
        assert!(text.contains("# TYPE supertokens_sessions_created_total counter\n"));
        assert!(
            text.contains("supertokens_database_operation_duration_seconds_bucket{le=\"+Inf\"} ")
        );
    }
}
