//! Settings checked at start: CORS origins and headers, limits that must be positive, and a
//! listen address that may be a host name.

use std::process::Child;

use super::cli::{kith, remove_sqlite, run_briefly, temp_sqlite};
use crate::support::TestApp;
use crate::support::process::start_server;

/// The headers browser apps send besides the credentials: request correlation and Apollo's
/// client identification.
const BROWSER_HEADERS: &str = "authorization,content-type,x-request-id,traceparent,\
                               apollographql-client-name,apollographql-client-version";

async fn preflight(address: &str, origin: &str, headers: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{address}/graphql"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .expect("preflight")
}

/// The lowercased names in a response's `access-control-allow-headers`.
fn allowed_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("access-control-allow-headers")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or_default().split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

backend_tests! {
    async fn preflights_allow_correlation_and_client_headers(backend: Backend) {
        let app = TestApp::spawn_with(backend, |settings| {
            settings.cors_origins = vec!["https://app.example".into()];
        })
        .await;
        let response = preflight(&app.address, "https://app.example", BROWSER_HEADERS).await;
        assert!(response.status().is_success(), "{}", response.status());
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "https://app.example"
        );
        let allowed = allowed_headers(&response);
        for wanted in BROWSER_HEADERS.split(',') {
            assert!(allowed.iter().any(|name| name == wanted), "{wanted} in {allowed:?}");
        }
    }

    async fn graphiql_without_a_dev_token_sends_no_authorization(backend: Backend) {
        // TestApp signs with JWT_SECRET: no development token for the page to carry.
        let app = TestApp::spawn(backend).await;
        let (status, page) = app.get("/").await;
        assert_eq!(status, 200);
        // Empty: a placeholder `Authorization` would be sent as is, and refused with a 401.
        assert!(page.contains(r#""headers":"{}""#), "headers start empty: {page}");
        assert!(page.contains("paste into Headers"), "the page says where a token goes");
    }
}

/// `kith serve` on a fresh SQLite file with `configure` applied; returns the child and the
/// `http://IP:PORT` it logged. Both pipes are drained for the child's whole life.
fn serve(
    configure: impl FnOnce(&mut std::process::Command),
) -> (Child, String, std::path::PathBuf) {
    let (url, path) = temp_sqlite();
    let mut command = kith();
    command
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .arg("serve");
    configure(&mut command);
    let (child, address) = start_server(command);
    (child, address, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_host_names_and_reads_cors_settings_from_the_environment() {
    let (mut child, address, path) = serve(|command| {
        command
            .args(["--bind", "localhost:0"])
            // Written as people do; compared as browsers send it.
            .env(
                "KITH_CORS_ORIGINS",
                "https://App.Example:443, http://localhost:3000",
            )
            .env("KITH_CORS_HEADERS", "Authorization, Content-Type, X-Tenant");
    });
    let host = address.trim_start_matches("http://");
    let ip: std::net::SocketAddr = host.parse().expect("an IP address was bound");
    assert!(
        ip.ip().is_loopback(),
        "localhost resolves to loopback: {ip}"
    );

    let health = reqwest::get(format!("{address}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let response = preflight(&address, "https://app.example", "x-tenant").await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(
        allowed_headers(&response),
        ["authorization", "content-type", "x-tenant"]
    );
    let response = preflight(&address, "http://localhost:3000", "content-type").await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let _ = child.kill();
    let _ = child.wait();
    remove_sqlite(&path);
}

/// Start `kith serve` with one variable set to `value`: it must refuse before touching the
/// database, with a message naming the problem. Returns stderr.
fn refused(variable: &str, value: &str) -> String {
    let (url, path) = temp_sqlite();
    let mut command = kith();
    command
        .env("DATABASE_URL", &url)
        .env(variable, value)
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let (status, stderr) = run_briefly(command);
    assert!(
        !status.success(),
        "{variable}={value:?} is refused: {stderr}"
    );
    assert!(
        !path.exists(),
        "{variable}={value:?} refused before opening the database"
    );
    remove_sqlite(&path);
    stderr
}

#[test]
fn bad_cors_settings_refuse_to_start() {
    for origin in [
        "https://app.example/",
        "app.example",
        "https://app.example/graphql",
        "https://app.example,",
    ] {
        let stderr = refused("KITH_CORS_ORIGINS", origin);
        assert!(stderr.contains("is not an origin"), "{origin}: {stderr}");
        assert!(
            stderr.contains("scheme://host[:port]"),
            "says what is expected: {stderr}"
        );
    }
    let stderr = refused("KITH_CORS_HEADERS", "x tenant");
    assert!(stderr.contains("is not a header name"), "{stderr}");
}

#[test]
fn zero_limits_refuse_to_start() {
    for variable in [
        "KITH_MAX_DEPTH",
        "KITH_MAX_PAGE_SIZE",
        "KITH_DB_MAX_CONNECTIONS",
        "KITH_MAX_COMPLEXITY",
        "KITH_MAX_FIELDS",
    ] {
        let stderr = refused(variable, "0");
        assert!(stderr.contains("invalid value '0'"), "{variable}: {stderr}");
    }
}

#[test]
fn unresolvable_bind_addresses_refuse_to_start() {
    let stderr = refused("KITH_BIND", "localhost");
    assert!(stderr.contains("is not HOST:PORT"), "{stderr}");
    let stderr = refused("KITH_BIND", "no-such-host.invalid:8080");
    assert!(stderr.contains("cannot resolve"), "{stderr}");
}
