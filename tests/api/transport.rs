//! The connection layer: header-read and idle timeouts, the connection cap, graceful shutdown.
//! Raw sockets, because an HTTP client would not misbehave the way these tests need. The
//! database plays no part here, so these run on SQLite only.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Backend, TestApp};

fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Read one response whose body has a `content-length`; returns its text.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response in time")
            .expect("read");
        assert!(n > 0, "connection closed mid-response");
        bytes.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("content-length");
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// Wait for the server to close `stream`; returns how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut chunk),
        )
        .await
        {
            Err(_) => panic!("the server kept the connection open for {limit:?}"),
            // A reset counts as closed too.
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_must_arrive_within_ten_seconds() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kith\r\n")
        .await
        .expect("half a header");
    let waited = closed_within(&mut stream, Duration::from_secs(12)).await;
    assert!(
        waited >= Duration::from_secs(9),
        "closed too early: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kith\r\n\r\n")
        .await
        .expect("request");
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // Kept alive for a next request, but not forever.
    let waited = closed_within(&mut stream, Duration::from_secs(12)).await;
    assert!(
        waited >= Duration::from_secs(9),
        "closed too early: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.max_connections = Some(3);
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(host(&app)).await.expect("connect"));
    }
    let healthz = format!("{}/healthz", app.address);
    // A new client each time: a pooled connection would not test the cap.
    let fresh = || reqwest::Client::builder().build().expect("client");
    let blocked = fresh()
        .get(&healthz)
        .timeout(Duration::from_millis(1500))
        .send()
        .await;
    assert!(
        blocked.as_ref().is_err_and(reqwest::Error::is_timeout),
        "a fourth connection got through: {blocked:?}"
    );

    drop(idle.pop());
    let response = fresh()
        .get(&healthz)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("served once a connection closed");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let address = host(&app);
    let body = br#"{"query":"{ __typename }"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    stream
        .write_all(
            format!(
                "POST /graphql HTTP/1.1\r\nHost: kith\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .expect("headers");
    stream.write_all(first).await.expect("half the body");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(&address).await.is_err(),
        "the listener is closed once shutdown begins"
    );
    assert!(!stopping.is_finished(), "shutdown waits for the request");

    stream.write_all(rest).await.expect("rest of the body");
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("__typename"), "{response}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown completes after the request")
        .expect("stop");
}
