//! When the database is in trouble: a PostgreSQL outage and recovery (on a throwaway cluster),
//! a SQLite file deleted, replaced or read-only under a running server, and filter text (NUL)
//! that must be refused before it reaches SQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kith::auth::{JwtKeys, Role};
use kith::metrics::Metrics;
use kith::{App, Settings};
use serde_json::{Value, json};

use crate::support::fixtures;
use crate::support::{GqlResponse, SECRET, TestApp};

/// The longest `/readyz` may take, whatever the database does.
const READY_WITHIN: Duration = Duration::from_secs(1);

const CREATE_CUSTOMER: &str = "mutation($name: String!) {
  createCustomer(input: { name: $name }) { customer { id } userErrors { code message } }
}";

const SMALL_QUERY: &str = "{ customers(page: { excludeTotalCount: true }) { items { id } } }";

backend_tests! {
    async fn nul_in_search_or_dealer_code_is_bad_user_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Rows that a search cut short at the NUL ("a") would find.
        fixtures::customer(&app.db, "alpha").await;
        let token = app.admin();
        let queries = [
            "query($t: String!) { customers(filter: { search: $t }) { totalCount } }",
            "query($t: String!) { customers(filter: { dealerCode: $t }) { totalCount } }",
            "query($t: String!) { contacts(filter: { search: $t }) { totalCount } }",
            "query($t: String!) { contacts(filter: { dealerCode: $t }) { totalCount } }",
            "query($t: String!) { accounts(filter: { search: $t }) { totalCount } }",
        ];
        let before = app.db_queries().await;
        for query in queries {
            for text in ["a\u{0}b", "\u{0}", "alpha\u{0}"] {
                let response = app.graphql(Some(&token), query, json!({ "t": text })).await;
                assert_eq!(response.status, 200, "{query}: {}", response.body);
                assert_eq!(response.error_code(), "BAD_USER_INPUT", "{query}: {}", response.body);
                let message = response.body["errors"][0]["message"].as_str().unwrap_or("");
                assert!(message.contains("NUL"), "{query}: {message}");
                assert!(response.body["data"].is_null(), "{query}: {}", response.body);
            }
        }
        // /metrics itself is not a statement; the refusals must have sent none.
        assert_eq!(app.db_queries().await, before, "refused before any SQL");
        // The same text without the NUL is an ordinary search.
        let found = app
            .query(&token, queries[0], json!({ "t": "alpha" }))
            .await;
        assert_eq!(found["customers"]["totalCount"], 1);
    }
}

/// The file behind a `sqlite://PATH?mode=rwc` URL.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url.trim_start_matches("sqlite://");
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// `GET /readyz`, which must answer within [`READY_WITHIN`].
async fn readiness(address: &str, client: &reqwest::Client) -> (u16, String) {
    let started = Instant::now();
    let response = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert!(
        started.elapsed() < READY_WITHIN,
        "/readyz took {:?} ({status} {body})",
        started.elapsed()
    );
    (status, body)
}

/// A refusal because the database cannot serve: 503, `Retry-After`, `SERVICE_UNAVAILABLE`.
fn assert_unavailable(response: &GqlResponse, says: &str) {
    assert_eq!(
        response.error_code(),
        "SERVICE_UNAVAILABLE",
        "{}",
        response.body
    );
    assert_eq!(response.status, 503, "{}", response.body);
    assert!(
        response.headers.contains_key("retry-after"),
        "{:?}",
        response.headers
    );
    let message = response.body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains(says), "{message}");
    for leak in ["SQLITE", "sqlx", "code:", "error returned from database"] {
        assert!(!message.contains(leak), "driver text leaked: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_deleted_while_running_is_not_ready_and_refuses_writes() {
    let app = TestApp::spawn(crate::support::Backend::Sqlite).await;
    let token = app.admin();
    let created = app
        .query(&token, CREATE_CUSTOMER, json!({ "name": "Before" }))
        .await;
    assert!(created["createCustomer"]["customer"]["id"].is_string());
    assert_eq!(readiness(&app.address, &app.client).await.0, 200);

    remove_sqlite_files(&sqlite_path(&app.database_url));

    let (status, body) = readiness(&app.address, &app.client).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("deleted"), "{body}");
    let write = app
        .graphql(Some(&token), CREATE_CUSTOMER, json!({ "name": "Lost" }))
        .await;
    assert_unavailable(&write, "deleted");
    assert!(
        write.body["data"]["createCustomer"].is_null(),
        "{}",
        write.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_replaced_while_running_is_not_ready_and_refuses_writes() {
    let app = TestApp::spawn(crate::support::Backend::Sqlite).await;
    let token = app.admin();
    app.query(&token, CREATE_CUSTOMER, json!({ "name": "Before" }))
        .await;
    let path = sqlite_path(&app.database_url);
    // A restore from a copy: a new file (new inode) under the same name.
    let copy = path.with_extension("copy");
    std::fs::copy(&path, &copy).expect("copy the database");
    std::fs::rename(&copy, &path).expect("replace the database");

    let (status, body) = readiness(&app.address, &app.client).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("replaced"), "{body}");
    let write = app
        .graphql(Some(&token), CREATE_CUSTOMER, json!({ "name": "Lost" }))
        .await;
    assert_unavailable(&write, "replaced");
}

/// Read-only for real, root included: the server opens the file with `?mode=ro`
/// (`SQLITE_OPEN_READONLY`), which SQLite enforces whatever the process may do to the file.
/// (`chmod 0444` would not do in CI, which runs as root and ignores file modes.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_read_only_database_is_not_ready_and_writes_say_why() {
    let app = TestApp::spawn(crate::support::Backend::Sqlite).await;
    app.query(&app.admin(), CREATE_CUSTOMER, json!({ "name": "Existing" }))
        .await;
    let path = sqlite_path(&app.database_url);
    let server = Server::start(&format!("sqlite://{}?mode=ro", path.display()), |_| {}).await;
    let token = server.admin();

    let (status, body) = readiness(&server.address, &server.client).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("read-only"), "{body}");
    let read = server.graphql(&token, SMALL_QUERY).await;
    assert_eq!(
        read.data()["customers"]["items"].as_array().map(Vec::len),
        Some(1)
    );
    let write = server
        .graphql_with(&token, CREATE_CUSTOMER, json!({ "name": "Refused" }))
        .await;
    assert_unavailable(&write, "read-only");
    server.stop().await;
    // The writable server on the same file is still ready.
    assert_eq!(readiness(&app.address, &app.client).await.0, 200);
}

/// Stop PostgreSQL under a running server and start it again: requests fail fast with 503
/// while it is down, `/readyz` says so within a second, and service resumes without a
/// restart. Runs on a throwaway cluster (never the shared one): `initdb` and `pg_ctl` as the
/// `postgres` user, on a free port, in a temporary directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn postgres_outage_is_unavailable_fast_and_recovers_without_a_restart() {
    let Some(cluster) = Cluster::create().await else {
        return;
    };
    cluster.start().await;
    let acquire_timeout = Duration::from_secs(1);
    let server = Server::start(&cluster.url(), |settings| {
        settings.db_acquire_timeout = acquire_timeout;
    })
    .await;
    let token = server.admin();
    server.graphql(&token, SMALL_QUERY).await.data();
    assert_eq!(readiness(&server.address, &server.client).await.0, 200);

    cluster.stop().await;
    let started = Instant::now();
    let failed = server.graphql(&token, SMALL_QUERY).await;
    let took = started.elapsed();
    assert_unavailable(&failed, "database");
    assert!(
        took < acquire_timeout + Duration::from_secs(1),
        "a request during the outage took {took:?}"
    );
    let (status, body) = readiness(&server.address, &server.client).await;
    assert_eq!(status, 503, "{body}");

    cluster.start().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = server.graphql(&token, SMALL_QUERY).await;
        if response.body.get("errors").is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {}", response.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(readiness(&server.address, &server.client).await.0, 200);
    let created = server
        .graphql_with(&token, CREATE_CUSTOMER, json!({ "name": "After" }))
        .await;
    assert!(created.data()["createCustomer"]["customer"]["id"].is_string());
    server.stop().await;
}

/// A Kith server on a database URL of the test's choosing (`TestApp` always makes a fresh
/// database of its own).
struct Server {
    address: String,
    client: reqwest::Client,
    keys: JwtKeys,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(database_url: &str, configure: impl FnOnce(&mut Settings)) -> Server {
        let mut settings = Settings::with_database(database_url);
        settings.jwt_secret = Some(SECRET.to_owned());
        settings.bind = "127.0.0.1:0".parse().expect("bind address");
        settings.db_max_connections = 4;
        configure(&mut settings);
        let metrics = Arc::new(Metrics::default());
        let keys = JwtKeys::from_settings(&settings, None).expect("jwt keys");
        let db = kith::db::connect(
            database_url,
            settings.db_max_connections,
            settings.db_acquire_timeout,
            metrics.clone(),
        )
        .await
        .expect("connect");
        let app = App::build_with(settings, db, metrics)
            .await
            .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = app
                .run_until(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Server {
            address,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            keys,
            shutdown,
            task,
        }
    }

    fn admin(&self) -> String {
        let claims = self.keys.claims(
            "test-user",
            &[Role::Admin],
            None,
            Vec::new(),
            Duration::from_secs(600),
        );
        self.keys.sign(&claims).expect("sign token")
    }

    async fn graphql(&self, token: &str, query: &str) -> GqlResponse {
        self.graphql_with(token, query, json!({})).await
    }

    async fn graphql_with(&self, token: &str, query: &str, variables: Value) -> GqlResponse {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        GqlResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.json().await.expect("JSON body"),
        }
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// A PostgreSQL cluster of the test's own, removed (stopped first) when dropped.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// `initdb` a cluster in a temporary directory; `None` (with the reason printed) when the
    /// PostgreSQL server binaries are not installed.
    async fn create() -> Option<Cluster> {
        let Some(bin) = postgres_bin_dir() else {
            eprintln!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("kith-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).expect("cluster directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster { bin, dir, port };
        // initdb refuses to run as root: the cluster belongs to the `postgres` user.
        run("chown", &["postgres:", &cluster.dir.display().to_string()]).await;
        cluster
            .pg(
                "initdb",
                &[
                    "-D",
                    &cluster.data(),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                ],
            )
            .await;
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    async fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
        .await;
    }

    async fn stop(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
            .await;
    }

    /// Run one of the cluster's binaries as `postgres`.
    async fn pg(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program).display().to_string();
        let mut all = vec!["-u", "postgres", "--", program.as_str()];
        all.extend_from_slice(args);
        run("runuser", &all).await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `pg_ctl`.
fn postgres_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    dirs.sort_by_key(|bin| {
        bin.parent()
            .and_then(|version| version.file_name()?.to_str()?.parse::<u32>().ok())
    });
    dirs.pop()
}

/// Run a command to completion; a failure fails the test with its output.
async fn run(program: &str, args: &[&str]) {
    let output = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What start-up says when the database is not there: where it looked, quickly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_names_an_unreachable_postgres_and_a_missing_sqlite_file() {
    let connect = |url: String| async move {
        let started = Instant::now();
        let metrics = Arc::new(Metrics::default());
        let outcome = kith::db::connect(&url, 2, Duration::from_secs(30), metrics).await;
        let error = outcome.err().map(|error| error.detail());
        (
            error.unwrap_or_else(|| panic!("{url} connected")),
            started.elapsed(),
        )
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    // Nothing listens there: refused until the start-up budget runs out.
    let (error, took) = connect(format!("postgres://postgres@127.0.0.1:{port}/kith")).await;
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(took < Duration::from_secs(6), "took {took:?}: {error}");

    let missing = std::env::temp_dir().join(format!("kith-missing-{}.db", uuid::Uuid::new_v4()));
    let (error, _) = connect(format!("sqlite://{}", missing.display())).await;
    assert!(error.contains(&missing.display().to_string()), "{error}");
    assert!(error.contains("?mode=rwc"), "{error}");
    assert!(!missing.exists());

    let no_directory = missing.join("kith.db");
    let (error, _) = connect(format!("sqlite://{}?mode=rwc", no_directory.display())).await;
    assert!(error.contains("does not exist"), "{error}");
    assert!(error.contains(&missing.display().to_string()), "{error}");
}

/// Text PostgreSQL cannot hold (a NUL) that slips past the input checks is still the
/// client's mistake, not an `INTERNAL` error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn postgres_nul_text_that_reaches_sql_is_bad_user_input() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    let crate::support::Backend::Postgres(url) = crate::support::Backend::postgres() else {
        unreachable!("a PostgreSQL backend");
    };
    let db = Database::connect(&url).await.expect("connect");
    let statement =
        Statement::from_sql_and_values(DbBackend::Postgres, "SELECT $1::text", ["a\u{0}b".into()]);
    let error = db
        .query_one_raw(statement)
        .await
        .expect_err("PostgreSQL refuses NUL");
    let error = kith::error::AppError::from(error);
    assert_eq!(error.code(), "BAD_USER_INPUT", "{error:?}");
    assert!(error.to_string().contains("NUL"), "{error}");
}
