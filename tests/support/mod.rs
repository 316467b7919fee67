//! The test harness every suite shares: `TestApp::spawn(backend)` and friends, the
//! `backend_tests!` macro, and the `fixtures` that arrange data below the API.

pub mod fixtures;
pub mod process;
#[macro_use]
pub mod snapshot;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kith::auth::{Claims, JwtKeys, Role};
use kith::metrics::Metrics;
use kith::{App, Settings};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

/// The HS256 secret every test server is configured with.
pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

/// Which database a test server runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL server `KITH_TEST_DATABASE_URL` names. PostgreSQL tests are compiled as
    /// ignored without it (see `build.rs`), so reaching here without it is a broken setup, e.g.
    /// `--include-ignored` or a test binary run under a different environment than it was
    /// built in: fail loudly rather than pass without testing anything.
    pub fn postgres() -> Backend {
        match std::env::var("KITH_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Backend::Postgres(url),
            _ => panic!("KITH_TEST_DATABASE_URL is not set: this PostgreSQL test cannot run"),
        }
    }
}

/// Generate one test per backend from each `async fn name(backend: Backend) { .. }`.
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block )*) => {
        mod sqlite {
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $backend = $crate::support::Backend::Sqlite;
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
                async fn $name() {
                    let $backend = $crate::support::Backend::postgres();
                    $body
                }
            )*
        }
    };
}

/// Removes the test's database when the test ends, however it ends.
pub enum DatabaseGuard {
    SqliteFile(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another server's database: that server's guard removes it.
    Borrowed,
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        match self {
            DatabaseGuard::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            DatabaseGuard::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot block on itself: use a
                // thread with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime for cleanup");
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
            DatabaseGuard::Borrowed => {}
        }
    }
}

/// A new, empty database on `backend` and its URL; the guard removes it when dropped.
pub async fn fresh_database(backend: Backend) -> (String, DatabaseGuard) {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("kith-test-{}.db", Uuid::new_v4()));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                DatabaseGuard::SqliteFile(path),
            )
        }
        Backend::Postgres(admin_url) => {
            let name = format!("kith_test_{}", Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|error| {
                panic!("KITH_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error}")
            });
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.expect("close admin connection");
            let url = replace_database_name(&admin_url, &name);
            (url, DatabaseGuard::Postgres { admin_url, name })
        }
    }
}

/// A running Kith server with its own database.
pub struct TestApp {
    pub address: String,
    /// The server's database.
    pub database_url: String,
    pub client: reqwest::Client,
    /// A direct connection to the server's database, for arranging data and checking writes.
    pub db: DatabaseConnection,
    keys: JwtKeys,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _database: DatabaseGuard,
}

/// An HTTP response to a GraphQL request.
#[derive(Debug)]
pub struct GqlResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl GqlResponse {
    /// The `data` of a response that must have no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code: {}", self.body))
    }
}

impl TestApp {
    /// A server with the test defaults.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server whose settings `configure` adjusts first.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let (database_url, guard) = fresh_database(backend).await;
        Self::spawn_on(database_url, guard, configure).await
    }

    /// A second server on this server's database (which this one keeps), its settings
    /// adjusted by `configure`: for comparing two configurations over the same rows.
    pub async fn spawn_beside(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_on(
            self.database_url.clone(),
            DatabaseGuard::Borrowed,
            configure,
        )
        .await
    }

    /// A server on `database_url`, a database someone else owns (and removes).
    pub async fn spawn_at(database_url: &str) -> TestApp {
        Self::spawn_on(database_url.to_owned(), DatabaseGuard::Borrowed, |_| {}).await
    }

    async fn spawn_on(
        database_url: String,
        guard: DatabaseGuard,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let mut settings = Settings::with_database(&database_url);
        settings.jwt_secret = Some(SECRET.to_owned());
        settings.bind = "127.0.0.1:0".parse().expect("bind address");
        settings.db_max_connections = 4;
        configure(&mut settings);

        let metrics = Arc::new(Metrics::default());
        let keys = JwtKeys::from_settings(&settings, None).expect("jwt keys");
        let server_db = kith::db::connect(
            &database_url,
            settings.db_max_connections,
            settings.db_acquire_timeout,
            metrics.clone(),
        )
        .await
        .expect("connect and migrate");
        let app = App::build_with(settings, server_db, metrics)
            .await
            .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = app
                .run_until(async {
                    let _ = stopped.await;
                })
                .await;
        });
        let db = Database::connect(&database_url)
            .await
            .expect("test connection");
        TestApp {
            address,
            database_url: database_url.clone(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            db,
            keys,
            shutdown: Some(shutdown),
            server: Some(server),
            _database: guard,
        }
    }

    /// Stop the server and wait until it has finished (in-flight requests included).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// POST a GraphQL request.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> GqlResponse {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /graphql");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.expect("JSON body");
        GqlResponse {
            status,
            headers,
            body,
        }
    }

    /// A GraphQL request that must succeed; returns its `data`.
    pub async fn query(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self.graphql(Some(token), query, variables).await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.data().clone()
    }

    /// A token for these roles and customers, signed with the server's secret.
    pub fn token(
        &self,
        roles: &[Role],
        customers: Option<Vec<Uuid>>,
        permissions: &[&str],
    ) -> String {
        let claims = self.claims(roles, customers, permissions);
        self.keys.sign(&claims).expect("sign token")
    }

    /// Claims as `token` would sign them, for tests that sign differently.
    pub fn claims(
        &self,
        roles: &[Role],
        customers: Option<Vec<Uuid>>,
        permissions: &[&str],
    ) -> Claims {
        self.keys.claims(
            "test-user",
            roles,
            customers,
            permissions.iter().map(|p| (*p).to_owned()).collect(),
            Duration::from_secs(600),
        )
    }

    /// `claims` signed with the server's secret.
    pub fn sign(&self, claims: &Claims) -> String {
        self.keys.sign(claims).expect("sign token")
    }

    /// An ADMIN token.
    pub fn admin(&self) -> String {
        self.token(&[Role::Admin], None, &[])
    }

    /// GET a path, returning status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// `kith_db_queries_total` as the server reports it.
    pub async fn db_queries(&self) -> u64 {
        let (_, metrics) = self.get("/metrics").await;
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("kith_db_queries_total "))
            .and_then(|value| value.trim().parse().ok())
            .expect("kith_db_queries_total in /metrics")
    }
}

/// `postgres://user@host/db?x` with `db` replaced by `name`.
fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Ids of `items` in a GraphQL list, in order.
pub fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("expected a list: {items}"))
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}
