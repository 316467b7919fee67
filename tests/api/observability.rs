//! What operators see: log formats and one access line per request (the real binary, its
//! stderr read), tracking ids taken from `x-request-id`, the metrics `/metrics` exposes, and
//! traces sent over OTLP/HTTP to a receiver the test starts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValueKind;
use opentelemetry_proto::tonic::trace::v1::Span as OtlpSpan;
use prost::Message;
use serde_json::{Value, json};

use crate::support::{SECRET, TestApp};

/// A `kith serve` of the real binary on a fresh SQLite file, its stderr collected line by line.
struct Server {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
    database: std::path::PathBuf,
}

impl Server {
    async fn start(envs: &[(&str, &str)]) -> Server {
        let database = std::env::temp_dir().join(format!("kith-obs-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", database.display());
        let mut command = Command::new(env!("CARGO_BIN_EXE_kith"));
        command
            .env("DATABASE_URL", &url)
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .env_remove("KITH_LOG_FORMAT")
            .env_remove("NO_COLOR")
            .envs(envs.iter().copied())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("kith serve");
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let stderr = child.stderr.take().expect("stderr");
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().expect("lines").push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            // Text or JSON, the start-up line names the address.
            let found = lines.lock().expect("lines").iter().find_map(|line| {
                let rest = &line[line.find("GraphQL on http://")? + "GraphQL on ".len()..];
                Some(rest[..rest.find("/graphql")?].to_owned())
            });
            if let Some(base) = found {
                break base;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {:?}",
                lines.lock().expect("lines")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Server {
            child,
            base,
            lines,
            database,
        }
    }

    /// Stop the server and return everything it logged.
    fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread drains what was written before the kill.
        std::thread::sleep(Duration::from_millis(200));
        let lines = self.lines.lock().expect("lines").clone();
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.database.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
        lines
    }
}

fn token(subject: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env("JWT_SECRET", SECRET)
        .args(["token", "--role", "ADMIN", "--sub", subject])
        .output()
        .expect("kith token");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// One named, authenticated query carrying `request_id`, and one probe.
async fn two_requests(base: &str, token: &str, request_id: &str) {
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .json(&json!({ "query": "query Whoami { me { subject } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], request_id);
    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("GET");
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_access_line_per_request() {
    let token = token("ops-user");
    let server = Server::start(&[("KITH_LOG_FORMAT", "json")]).await;
    two_requests(&server.base, &token, "req-7f3a.json:1").await;
    let lines = server.stop();

    let records: Vec<Value> = lines
        .iter()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line:?}"))
        })
        .collect();
    let access: Vec<&Value> = records
        .iter()
        .filter(|record| record["target"] == "kith::access")
        .collect();
    assert_eq!(access.len(), 2, "one access line per request: {access:#?}");
    let graphql = access
        .iter()
        .find(|record| record["path"] == "/graphql")
        .expect("the /graphql line");
    assert_eq!(graphql["level"], "INFO");
    assert_eq!(graphql["method"], "POST");
    assert_eq!(graphql["status"], 200);
    assert_eq!(graphql["operation_name"], "Whoami");
    assert_eq!(graphql["tracking_id"], "req-7f3a.json:1");
    assert_eq!(graphql["subject"], "ops-user");
    assert!(graphql["duration_ms"].as_f64().is_some(), "{graphql}");

    let probe = access
        .iter()
        .find(|record| record["path"] == "/healthz")
        .expect("the /healthz line");
    assert_eq!(probe["method"], "GET");
    assert_eq!(probe["status"], 200);
    assert!(probe.get("operation_name").is_none(), "{probe}");
    assert!(probe.get("subject").is_none(), "{probe}");
    let id = probe["tracking_id"].as_str().expect("tracking_id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{probe}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_are_not_coloured_when_stderr_is_not_a_terminal() {
    let token = token("ops-user");
    let server = Server::start(&[]).await;
    two_requests(&server.base, &token, "req-text-1").await;
    let lines = server.stop();

    assert!(
        lines.iter().all(|line| !line.contains('\u{1b}')),
        "no ANSI escape codes in a pipe: {lines:#?}"
    );
    let access: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("kith::access"))
        .collect();
    assert_eq!(access.len(), 2, "{lines:#?}");
    let graphql = access
        .iter()
        .find(|line| line.contains("path=/graphql"))
        .expect("the /graphql line");
    for field in [
        " INFO ",
        "method=POST",
        "status=200",
        "operation_name=\"Whoami\"",
        "tracking_id=req-text-1",
        "subject=\"ops-user\"",
        "duration_ms=",
    ] {
        assert!(graphql.contains(field), "{field} in {graphql}");
    }
}

#[test]
fn an_unknown_log_format_is_refused_at_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env("KITH_LOG_FORMAT", "xml")
        .arg("schema")
        .output()
        .expect("kith schema");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("xml") && stderr.contains("json"),
        "{stderr}"
    );
}

/// POST `query` with an `x-request-id` header; the response's header and trackingId.
async fn with_request_id(app: &TestApp, request_id: &str, token: Option<&str>) -> (String, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-request-id", request_id)
        .json(&json!({ "query": "{ me { subject } }" }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("POST");
    let header = response.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let body: Value = response.json().await.expect("JSON");
    (header, body)
}

/// The value of the sample `name` in an exposition, if it is there.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

backend_tests! {
    async fn a_valid_request_id_becomes_the_tracking_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let uuid = uuid::Uuid::new_v4().to_string();
        let nginx = "5d41402abc4b2a76b9719d911017c592";
        let longest = "a".repeat(128);
        for id in [uuid.as_str(), nginx, "req_42.b:c-d", longest.as_str()] {
            for token in [Some(admin.as_str()), None, Some("garbage")] {
                let (header, body) = with_request_id(&app, id, token).await;
                assert_eq!(header, id, "{body}");
                assert_eq!(body["extensions"]["trackingId"], id, "{body}");
            }
        }
        // Not a tracking id: a fresh UUID instead, never the text sent.
        let too_long = "a".repeat(129);
        for id in ["has space", "quote\"d", "semi;colon", "new\\nline", too_long.as_str()] {
            let (header, body) = with_request_id(&app, id, Some(&admin)).await;
            assert!(uuid::Uuid::parse_str(&header).is_ok(), "{id}: {header}");
            assert_eq!(body["extensions"]["trackingId"], header.as_str(), "{body}");
        }
        // Every route answers with its tracking id.
        let probe = app
            .client
            .get(format!("{}/healthz", app.address))
            .header("x-request-id", "probe-1")
            .send()
            .await
            .expect("GET");
        assert_eq!(probe.headers()["x-request-id"], "probe-1");
        let fresh = app.client.get(format!("{}/readyz", app.address)).send().await.expect("GET");
        let id = fresh.headers()["x-request-id"].to_str().expect("ASCII");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }

    async fn metrics_count_operations_errors_loader_batches_and_the_pool(backend: Backend) {
        let postgres = matches!(backend, crate::support::Backend::Postgres(_));
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        app.query(
            &admin,
            "mutation Create { createCustomer(input: { name: \"Metered\" }) { customer { id } } }",
            json!({}),
        )
        .await;
        app.query(&admin, "query Nested { customers { items { name accounts { name } } } }", json!({}))
            .await;
        app.query(&admin, "query Nested { customers { totalCount } }", json!({})).await;
        let invalid = app.graphql(Some(&admin), "query Broken { noSuchField }", json!({})).await;
        assert_eq!(invalid.error_code(), "GRAPHQL_VALIDATION_FAILED");
        let refused = app.graphql(Some("garbage"), "{ me { subject } }", json!({})).await;
        assert_eq!(refused.status, 401);
        let refused_code = refused.error_code().to_owned();

        let response = app
            .client
            .get(format!("{}/metrics", app.address))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(
            response.headers()["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let metrics = response.text().await.expect("text");
        assert!(metrics.ends_with("# EOF\n"), "{metrics}");
        let count = |name: &str| sample(&metrics, name).unwrap_or_else(|| panic!("{name} in {metrics}"));
        assert_eq!(count("kith_graphql_request_duration_seconds_count{operation=\"Nested\"}"), 2.0);
        assert_eq!(count("kith_graphql_request_duration_seconds_count{operation=\"Create\"}"), 1.0);
        assert_eq!(count("kith_graphql_request_duration_seconds_count{operation=\"Broken\"}"), 1.0);
        assert_eq!(count("kith_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}"), 1.0);
        assert_eq!(count(&format!("kith_graphql_errors_total{{code=\"{refused_code}\"}}")), 1.0);
        // On PostgreSQL one customer's accounts are written by PostgreSQL with the customer.
        let nested_reader = if postgres { "PostgresJson" } else { "AccountsByCustomer" };
        assert!(count(&format!("kith_loader_batch_rows_count{{loader=\"{nested_reader}\"}}")) >= 1.0);
        assert!(count(&format!("kith_loader_batch_keys_count{{loader=\"{nested_reader}\"}}")) >= 1.0);
        assert!(count("kith_db_pool_connections{state=\"idle\"}") >= 0.0);
        assert!(count("kith_db_pool_connections{state=\"in_use\"}") >= 0.0);
        assert!(
            count("kith_db_pool_connections{state=\"idle\"}")
                + count("kith_db_pool_connections{state=\"in_use\"}")
                >= 1.0,
            "the pool holds a connection: {metrics}"
        );
        assert_eq!(count("kith_db_requests_waiting{lane=\"light\"}"), 0.0);
        assert_eq!(count("kith_db_requests_waiting{lane=\"heavy\"}"), 0.0);
        assert!(count("kith_db_queries_total") >= 3.0);
        assert_eq!(
            count("kith_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"401\"}"),
            1.0
        );
    }

    async fn operation_names_are_a_bounded_label(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        for n in 0..=kith::metrics::MAX_OPERATION_NAMES {
            app.query(&admin, &format!("query Op{n} {{ __typename }}"), json!({})).await;
        }
        app.query(&admin, "query Op0 { __typename }", json!({})).await;
        app.query(&admin, "{ __typename }", json!({})).await;
        let (_, metrics) = app.get("/metrics").await;
        let count = |operation: &str| {
            sample(
                &metrics,
                &format!("kith_graphql_request_duration_seconds_count{{operation=\"{operation}\"}}"),
            )
        };
        assert_eq!(count("Op0"), Some(2.0));
        assert_eq!(count("Op99"), Some(1.0));
        assert_eq!(count("Op100"), None, "the 101st name is not a label");
        assert_eq!(count("other"), Some(1.0));
        assert_eq!(count("anonymous"), Some(1.0));
        let series = metrics
            .lines()
            .filter(|line| line.starts_with("kith_graphql_request_duration_seconds_count{"))
            .count();
        assert_eq!(series, kith::metrics::MAX_OPERATION_NAMES + 2, "{metrics}");
    }
}

/// A small OTLP/HTTP receiver: every `POST /v1/traces` body, decoded.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<ExportTraceServiceRequest>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                store.lock().expect("received").push(request);
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (address, received)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn attribute<'a>(span: &'a OtlpSpan, key: &str) -> Option<&'a AnyValueKind> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_continue_the_callers_traceparent_over_otlp() {
    let (endpoint, received) = otlp_receiver().await;
    let token = token("ops-user");
    let server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let caller_span = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({ "query": "query Traced { customers { totalCount } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);

    // Spans leave in batches every 100 ms; wait for the request's and its statements'.
    let deadline = Instant::now() + Duration::from_secs(20);
    let spans = loop {
        let spans: Vec<OtlpSpan> = received
            .lock()
            .expect("received")
            .iter()
            .flat_map(|request| &request.resource_spans)
            .flat_map(|resource| &resource.scope_spans)
            .flat_map(|scope| &scope.spans)
            .filter(|span| hex(&span.trace_id) == trace_id)
            .cloned()
            .collect();
        let has_request = spans.iter().any(|span| span.name.contains("Traced"));
        let has_sql = spans
            .iter()
            .any(|span| attribute(span, "db.query.text").is_some());
        if has_request && has_sql {
            break spans;
        }
        if Instant::now() > deadline {
            let lines = server.stop();
            panic!("no request and SQL spans in trace {trace_id}: {spans:#?}\n{lines:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = server.stop();

    let request = spans
        .iter()
        .find(|span| span.name.contains("Traced"))
        .expect("request span");
    assert_eq!(request.name, "POST /graphql Traced");
    assert_eq!(
        hex(&request.parent_span_id),
        caller_span,
        "the caller's span is the parent"
    );
    assert_eq!(
        attribute(request, "graphql.operation.name"),
        Some(&AnyValueKind::StringValue("Traced".into()))
    );
    assert_eq!(
        attribute(request, "http.response.status_code"),
        Some(&AnyValueKind::IntValue(200))
    );
    // Each statement's span descends from the request's.
    let parents: std::collections::HashMap<Vec<u8>, Vec<u8>> = spans
        .iter()
        .map(|span| (span.span_id.clone(), span.parent_span_id.clone()))
        .collect();
    let statements: Vec<&OtlpSpan> = spans
        .iter()
        .filter(|span| attribute(span, "db.query.text").is_some())
        .collect();
    for statement in &statements {
        let mut ancestor = statement.parent_span_id.clone();
        let mut steps = 0;
        while ancestor != request.span_id {
            ancestor = parents
                .get(&ancestor)
                .unwrap_or_else(|| panic!("{statement:?} outside the request's span"))
                .clone();
            steps += 1;
            assert!(steps < 10, "{statement:?}");
        }
    }
    assert!(
        statements.iter().any(|statement| matches!(
            attribute(statement, "db.query.text"),
            Some(AnyValueKind::StringValue(sql)) if sql.contains("customer")
        )),
        "{statements:#?}"
    );
}
