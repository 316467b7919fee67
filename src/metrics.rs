//! Process metrics in the OpenMetrics text format (`prometheus-client`), kept per `App` (not
//! global) so that several servers in one process — the test suite — count independently.
//!
//! Code that runs for a request but holds no handle on its server's metrics (the `/graphql`
//! handler's authentication, the loaders) reaches them through [`in_request`]: the HTTP layer
//! runs each request inside it, and the `note_*` / `record_*` functions below find the
//! request's metrics there, doing nothing outside a request.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Upper bounds of the rows-per-batch histogram: one row up to a full batch.
const BATCH_ROW_BUCKETS: [f64; 10] = [
    1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, 50000.0,
];

/// Distinct operation names that get a label of their own; later names are counted as
/// [`OTHER_OPERATION`]. Clients choose the names, so without a cap each new one would add
/// series for as long as the process lives.
pub const MAX_OPERATION_NAMES: usize = 100;

/// The label of operation names beyond [`MAX_OPERATION_NAMES`], and of names that are not
/// GraphQL names at all.
pub const OTHER_OPERATION: &str = "other";

/// The label of an operation without a name.
const ANONYMOUS_OPERATION: &str = "anonymous";

/// The label of a batch of several operations.
const BATCH_OPERATION: &str = "batch";

/// Longest operation name used as a label.
const MAX_OPERATION_NAME_LEN: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoaderLabels {
    loader: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExecutorLabels {
    executor: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LaneLabels {
    lane: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn batch_rows_histogram() -> Histogram {
    Histogram::new(BATCH_ROW_BUCKETS)
}

/// All of Kith's metrics, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    db_queries: Counter,
    db_query_failures: Counter,
    db_query_seconds: Histogram,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<RequestLabels>,
    operation_seconds: HistogramFamily<OperationLabels>,
    errors: Family<CodeLabels, Counter>,
    operations: Family<ExecutorLabels, Counter>,
    loader_batch_rows: HistogramFamily<LoaderLabels>,
    loader_batch_keys: HistogramFamily<LoaderLabels>,
    pool_connections: Family<StateLabels, Gauge>,
    database_waiting: Family<LaneLabels, Gauge>,
    /// The operation names that have a label of their own (at most [`MAX_OPERATION_NAMES`]).
    operation_names: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut metrics = Metrics {
            db_queries: Counter::default(),
            db_query_failures: Counter::default(),
            db_query_seconds: latency_histogram(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            operation_seconds: Family::new_with_constructor(latency_histogram),
            errors: Family::default(),
            operations: Family::default(),
            loader_batch_rows: Family::new_with_constructor(batch_rows_histogram),
            loader_batch_keys: Family::new_with_constructor(batch_rows_histogram),
            pool_connections: Family::default(),
            database_waiting: Family::default(),
            operation_names: Mutex::new(HashSet::new()),
            registry: Registry::default(),
        };
        // Counters get their `_total` suffix from the encoder.
        metrics.registry.register(
            "kith_db_queries",
            "SQL statements sent to the database",
            metrics.db_queries.clone(),
        );
        metrics.registry.register(
            "kith_db_query_failures",
            "SQL statements that returned an error",
            metrics.db_query_failures.clone(),
        );
        metrics.registry.register(
            "kith_db_query_duration_seconds",
            "Time spent per SQL statement",
            metrics.db_query_seconds.clone(),
        );
        metrics.registry.register(
            "kith_db_pool_connections",
            "Connections of the database pool, by state (in_use, idle)",
            metrics.pool_connections.clone(),
        );
        metrics.registry.register(
            "kith_db_requests_waiting",
            "GraphQL requests waiting for a turn to use the database, by load-shedding lane",
            metrics.database_waiting.clone(),
        );
        metrics.registry.register(
            "kith_http_requests",
            "HTTP requests served",
            metrics.requests.clone(),
        );
        metrics.registry.register(
            "kith_http_request_duration_seconds",
            "HTTP request latency",
            metrics.request_seconds.clone(),
        );
        metrics.registry.register(
            "kith_graphql_request_duration_seconds",
            "GraphQL request latency by operation name (`anonymous`, `batch`, or `other` \
             beyond the first 100 distinct names)",
            metrics.operation_seconds.clone(),
        );
        metrics.registry.register(
            "kith_graphql_operations",
            "GraphQL operations executed, by executor: `compiled` (the compiled read path) \
             or `async_graphql`",
            metrics.operations.clone(),
        );
        metrics.registry.register(
            "kith_graphql_errors",
            "GraphQL errors returned, by extensions.code",
            metrics.errors.clone(),
        );
        metrics.registry.register(
            "kith_loader_batch_rows",
            "Rows loaded per DataLoader batch (one SQL statement), by loader",
            metrics.loader_batch_rows.clone(),
        );
        metrics.registry.register(
            "kith_loader_batch_keys",
            "Keys (parents) per DataLoader batch (one SQL statement), by loader",
            metrics.loader_batch_keys.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// Count one SQL statement sent to the database.
    pub fn record_db_query(&self, elapsed: Duration, failed: bool) {
        self.db_queries.inc();
        if failed {
            self.db_query_failures.inc();
        }
        self.db_query_seconds.observe(elapsed.as_secs_f64());
    }

    /// SQL statements sent so far.
    pub fn db_queries(&self) -> u64 {
        self.db_queries.get()
    }

    /// Record one HTTP request. `route` is the matched route template, never the raw path,
    /// so that label cardinality stays bounded.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Record the latency of a GraphQL request by its operations' names (`None` for an
    /// anonymous operation).
    pub fn record_operations(&self, operations: &[Option<String>], elapsed: Duration) {
        let operation = match operations {
            [] => return,
            [single] => self.operation_label(single.as_deref()),
            _ => BATCH_OPERATION.to_owned(),
        };
        self.operation_seconds
            .get_or_create(&OperationLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Count one operation by the executor that ran it.
    pub fn record_executor(&self, compiled: bool) {
        let executor = if compiled {
            "compiled"
        } else {
            "async_graphql"
        };
        self.operations
            .get_or_create(&ExecutorLabels { executor })
            .inc();
    }

    /// Count one GraphQL error by its `extensions.code`.
    pub fn record_error(&self, code: &str) {
        // Codes are Kith's own (a fixed set); anything else would be a bug, not a new series.
        let code = if code.len() <= 40 && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        {
            code
        } else {
            "OTHER"
        };
        self.errors
            .get_or_create(&CodeLabels {
                code: code.to_owned(),
            })
            .inc();
    }

    /// Record the keys one DataLoader batch asked for and the rows it loaded.
    pub fn record_loader_batch(&self, loader: &'static str, keys: usize, rows: usize) {
        self.loader_batch_keys
            .get_or_create(&LoaderLabels { loader })
            .observe(keys as f64);
        self.loader_batch_rows
            .get_or_create(&LoaderLabels { loader })
            .observe(rows as f64);
    }

    /// Set the pool gauges: connections in use and idle.
    pub fn set_pool(&self, in_use: usize, idle: usize) {
        let gauge = |state| self.pool_connections.get_or_create(&StateLabels { state });
        gauge("in_use").set(i64::try_from(in_use).unwrap_or(i64::MAX));
        gauge("idle").set(i64::try_from(idle).unwrap_or(i64::MAX));
    }

    /// Set the number of requests waiting for the database in a load-shedding lane.
    pub fn set_waiting(&self, lane: &'static str, waiting: usize) {
        self.database_waiting
            .get_or_create(&LaneLabels { lane })
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// The OpenMetrics text exposition of every metric ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The label of an operation name: the name while it is among the first
    /// [`MAX_OPERATION_NAMES`] distinct ones, [`OTHER_OPERATION`] after.
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return ANONYMOUS_OPERATION.to_owned();
        };
        if !is_graphql_name(name) || name.len() > MAX_OPERATION_NAME_LEN {
            return OTHER_OPERATION.to_owned();
        }
        let mut names = self
            .operation_names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if names.contains(name) {
            return name.to_owned();
        }
        if names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            return name.to_owned();
        }
        OTHER_OPERATION.to_owned()
    }
}

/// `[_A-Za-z][_0-9A-Za-z]*`, the GraphQL `Name` grammar.
pub fn is_graphql_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first == b'_' || first.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// What the handling of one request learned about it, for its access-log line.
#[derive(Clone, Debug, Default)]
pub struct RequestNotes {
    /// The name of each GraphQL operation executed (`None`: anonymous), in order.
    pub operations: Vec<Option<String>>,
    /// The authenticated caller's subject (`sub`).
    pub subject: Option<String>,
}

struct CurrentRequest {
    metrics: Arc<Metrics>,
    notes: Mutex<RequestNotes>,
}

tokio::task_local! {
    static CURRENT: Arc<CurrentRequest>;
}

/// Run `future` (one request's handling) so that the `note_*` and `record_*` functions
/// called within it reach `metrics`; returns its output and what it noted.
pub async fn in_request<F: Future>(metrics: Arc<Metrics>, future: F) -> (F::Output, RequestNotes) {
    let current = Arc::new(CurrentRequest {
        metrics,
        notes: Mutex::new(RequestNotes::default()),
    });
    let output = CURRENT.scope(current.clone(), future).await;
    let notes = std::mem::take(&mut *current.notes.lock().unwrap_or_else(PoisonError::into_inner));
    (output, notes)
}

fn with_current(action: impl FnOnce(&CurrentRequest)) {
    let _ = CURRENT.try_with(|current| action(current));
}

/// Note the authenticated subject of the current request.
pub fn note_subject(subject: Option<&str>) {
    with_current(|current| {
        current
            .notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .subject = subject.map(str::to_owned);
    });
}

/// Note a GraphQL operation the current request executes: its `operationName`, or else the
/// name the document gives its first operation.
pub fn note_operation(operation_name: Option<&str>, query: &str) {
    // A name that is not a GraphQL name fails the request; it must not reach a log line.
    let name = match operation_name {
        Some(name) => {
            (is_graphql_name(name) && name.len() <= MAX_OPERATION_NAME_LEN).then(|| name.to_owned())
        }
        None => first_operation_name(query),
    };
    with_current(|current| {
        current
            .notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .operations
            .push(name);
    });
}

/// Count an operation of the current request by the executor that ran it.
pub fn record_executor(compiled: bool) {
    with_current(|current| current.metrics.record_executor(compiled));
}

/// Count a GraphQL error of the current request by its `extensions.code`.
pub fn record_error(code: &str) {
    with_current(|current| current.metrics.record_error(code));
}

/// Record the keys one DataLoader batch of the current request asked for and the rows it
/// loaded.
pub fn record_loader_batch(loader: &'static str, keys: usize, rows: usize) {
    with_current(|current| current.metrics.record_loader_batch(loader, keys, rows));
}

/// The name in `query mine { … }` (or `mutation`, `subscription`): the first operation's, if
/// it has one. Comments before it are skipped; a shorthand `{ … }` has none.
fn first_operation_name(query: &str) -> Option<String> {
    let mut rest = query;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == '\u{feff}');
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => break,
        }
    }
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|keyword| rest.strip_prefix(keyword))?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    is_graphql_name(name).then(|| name.to_owned())
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
        let bucket = |le: &str, count: u64| {
            format!(
                "kith_http_request_duration_seconds_bucket{{le=\"{le}\",method=\"POST\",\
                 route=\"/graphql\",status=\"200\"}} {count}\n"
            )
        };
        assert!(text.contains(&bucket("0.0025", 0)), "{text}");
        assert!(text.contains(&bucket("0.005", 1)), "{text}");
        assert!(text.contains(&bucket("0.5", 2)), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn counts_db_queries() {
        let metrics = Metrics::default();
        metrics.record_db_query(Duration::from_micros(50), false);
        metrics.record_db_query(Duration::from_micros(50), true);
        assert_eq!(metrics.db_queries(), 2);
        assert!(metrics.render().contains("kith_db_query_failures_total 1"));
    }

    #[test]
    fn operation_names_are_capped() {
        let metrics = Metrics::default();
        for n in 0..=MAX_OPERATION_NAMES {
            metrics.record_operations(&[Some(format!("Op{n}"))], Duration::ZERO);
        }
        metrics.record_operations(&[Some("Op0".into())], Duration::ZERO);
        metrics.record_operations(&[Some("not a name".into())], Duration::ZERO);
        metrics.record_operations(&[None], Duration::ZERO);
        metrics.record_operations(&[None, None], Duration::ZERO);
        let text = metrics.render();
        let count = |operation: &str| {
            let prefix = format!(
                "kith_graphql_request_duration_seconds_count{{operation=\"{operation}\"}} "
            );
            text.lines()
                .find_map(|line| line.strip_prefix(prefix.as_str()))
                .and_then(|value| value.parse::<u64>().ok())
        };
        assert_eq!(count("Op0"), Some(2));
        assert_eq!(count("Op99"), Some(1));
        assert_eq!(count("Op100"), None);
        assert_eq!(count(OTHER_OPERATION), Some(2));
        assert_eq!(count(ANONYMOUS_OPERATION), Some(1));
        assert_eq!(count(BATCH_OPERATION), Some(1));
    }

    #[test]
    fn finds_the_first_operation_name() {
        assert_eq!(
            first_operation_name("query Me { me { subject } }").as_deref(),
            Some("Me")
        );
        assert_eq!(
            first_operation_name("# a comment\n  mutation\n  Create_2($x: Int) { a }").as_deref(),
            Some("Create_2")
        );
        assert_eq!(first_operation_name("{ me { subject } }"), None);
        assert_eq!(first_operation_name("query { me { subject } }"), None);
        assert_eq!(first_operation_name("queryMe { a }"), None);
    }
}
