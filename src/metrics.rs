//! Process metrics in Prometheus text format, kept per `App` (not global) so that several
//! servers in one process — the test suite — count independently.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bucket, bound) in self.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// One label set of the HTTP request metrics.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestKey {
    method: String,
    route: String,
    status: u16,
}

/// All of Kith's counters.
#[derive(Default)]
pub struct Metrics {
    db_queries: AtomicU64,
    db_query_failures: AtomicU64,
    db_query_seconds: Mutex<Histogram>,
    requests: Mutex<Vec<(RequestKey, Histogram)>>,
}

impl Metrics {
    /// Count one SQL statement sent to the database.
    pub fn record_db_query(&self, elapsed: Duration, failed: bool) {
        self.db_queries.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.db_query_failures.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut histogram) = self.db_query_seconds.lock() {
            histogram.observe(elapsed.as_secs_f64());
        }
    }

    /// SQL statements sent so far.
    pub fn db_queries(&self) -> u64 {
        self.db_queries.load(Ordering::Relaxed)
    }

    /// Record one HTTP request. `route` is the matched route template, never the raw path,
    /// so that label cardinality stays bounded.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let key = RequestKey {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        let position = match requests.iter().position(|(existing, _)| *existing == key) {
            Some(position) => position,
            None => {
                requests.push((key, Histogram::default()));
                requests.len() - 1
            }
        };
        requests[position].1.observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kith_db_queries_total SQL statements sent to the database.\n\
             # TYPE kith_db_queries_total counter\n\
             kith_db_queries_total {}",
            self.db_queries()
        );
        let _ = writeln!(
            out,
            "# HELP kith_db_query_failures_total SQL statements that returned an error.\n\
             # TYPE kith_db_query_failures_total counter\n\
             kith_db_query_failures_total {}",
            self.db_query_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP kith_db_query_duration_seconds Time spent per SQL statement.\n\
             # TYPE kith_db_query_duration_seconds histogram"
        );
        if let Ok(histogram) = self.db_query_seconds.lock() {
            write_histogram(&mut out, "kith_db_query_duration_seconds", "", &histogram);
        }

        let Ok(mut requests) = self.requests.lock() else {
            return out;
        };
        requests.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = writeln!(
            out,
            "# HELP kith_http_requests_total HTTP requests served.\n\
             # TYPE kith_http_requests_total counter"
        );
        for (key, histogram) in requests.iter() {
            let _ = writeln!(
                out,
                "kith_http_requests_total{{{}}} {}",
                labels(key),
                histogram.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP kith_http_request_duration_seconds HTTP request latency.\n\
             # TYPE kith_http_request_duration_seconds histogram"
        );
        for (key, histogram) in requests.iter() {
            write_histogram(
                &mut out,
                "kith_http_request_duration_seconds",
                &labels(key),
                histogram,
            );
        }
        out
    }
}

fn labels(key: &RequestKey) -> String {
    format!(
        "method=\"{}\",route=\"{}\",status=\"{}\"",
        key.method, key.route, key.status
    )
}

fn write_histogram(out: &mut String, name: &str, labels: &str, histogram: &Histogram) {
    let separator = if labels.is_empty() { "" } else { "," };
    for (count, bound) in histogram.buckets.iter().zip(LATENCY_BUCKETS) {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
        histogram.count
    );
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", histogram.sum);
    let _ = writeln!(out, "{name}_count{braces} {}", histogram.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.record_request("POST", "/graphql", 200, Duration::from_millis(3));
        metrics.record_request("POST", "/graphql", 200, Duration::from_millis(300));
        let text = metrics.render();
        assert!(text.contains(
            "kith_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
    }

    #[test]
    fn counts_db_queries() {
        let metrics = Metrics::default();
        metrics.record_db_query(Duration::from_micros(50), false);
        metrics.record_db_query(Duration::from_micros(50), true);
        assert_eq!(metrics.db_queries(), 2);
        assert!(metrics.render().contains("kith_db_query_failures_total 1"));
    }
}
