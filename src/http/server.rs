//! The connection layer under the router: accepts TCP connections and serves HTTP/1.1 on them
//! with the bounds `axum::serve` lacks (issue 9 §2), so that idle or slow clients cannot hold
//! the server's file descriptors:
//!
//! - headers must arrive within [`HEADER_READ_TIMEOUT`] of the connection opening or going
//!   idle, which also closes keep-alive connections that send no new request;
//! - a response the client stops reading is abandoned after [`WRITE_STALL_TIMEOUT`];
//! - at most [`ServerLimits::max_connections`] connections are open at once: at the cap the
//!   listener is not polled, so new clients wait in the kernel's backlog until one closes;
//! - accept errors (`EMFILE` and friends) are logged at most every 5 s and retried after
//!   100 ms;
//! - on shutdown the listener closes at once, idle connections close, and requests in flight
//!   finish within [`ServerLimits::drain_timeout`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Sleep;

/// How long a client has to send a request's headers, counted from the moment the connection
/// opens or, on a keep-alive connection, from the moment the previous response has been handed
/// to the operating system (API.md). It is therefore also the idle keep-alive timeout.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a response may make no progress because the client does not read it.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Pause before accepting again after the listener failed (e.g. out of file descriptors):
/// retrying at once would spin.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// At most one log line per this period for repeated accept errors.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(5);

/// Descriptors left for everything but client connections: the listener, log files, the
/// runtime's own, DNS and TLS roots for PostgreSQL, migrations.
const RESERVED_DESCRIPTORS: usize = 64;

/// Most connections the derived default allows, whatever the descriptor limit: each open
/// connection costs buffers, and a limit of a million (common in containers) would let idle
/// clients alone take gigabytes.
const MAX_DEFAULT_CONNECTIONS: usize = 4096;

/// Fewest connections the derived default allows, for tiny descriptor limits.
const MIN_DEFAULT_CONNECTIONS: usize = 16;

/// The bounds [`serve`] enforces.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Most client connections open at once.
    pub max_connections: usize,
    /// How long in-flight requests may take to finish after the shutdown signal before their
    /// connections are dropped.
    pub drain_timeout: Duration,
}

/// The connection cap when `KITH_MAX_CONNECTIONS` is unset: the soft open-file limit
/// (`RLIMIT_NOFILE`) minus what the database pool (three descriptors a pooled SQLite
/// connection: database, WAL and shared memory) and the process itself need (64), within
/// 16..=4096. Returns the cap and the limit
/// it was derived from (`None`: unknown or unlimited).
pub fn default_max_connections(db_pool_size: u32) -> (usize, Option<u64>) {
    let limit = open_file_limit();
    let reserved = 3 * db_pool_size as usize + RESERVED_DESCRIPTORS;
    let cap = match limit {
        Some(limit) => usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(reserved)
            .clamp(MIN_DEFAULT_CONNECTIONS, MAX_DEFAULT_CONNECTIONS),
        None => MAX_DEFAULT_CONNECTIONS,
    };
    (cap, limit)
}

/// The soft `RLIMIT_NOFILE`, read from `/proc` (no `unsafe` getrlimit call). `None` where
/// there is no `/proc` or the limit is `unlimited`.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&limits)
}

fn parse_open_file_limit(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
}

/// Serve `router` on `listener` until `shutdown` completes, then drain (see the module
/// documentation).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_sender, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut accept_errors = RateLimitedLog::default();
    tokio::pin!(shutdown);

    loop {
        while connections.try_join_next().is_some() {}
        // Backpressure: at the cap, wait for a connection to close before accepting again.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // The client gave up between connecting and being accepted: nothing to report.
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    accept_errors.log(&error);
                    drop(permit);
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_RETRY_PAUSE) => continue,
                    }
                }
            },
        };
        // Responses are written whole: waiting to coalesce small writes only adds latency.
        let _ = stream.set_nodelay(true);
        let connection = http
            .serve_connection(
                TokioIo::new(StallGuard::new(stream, WRITE_STALL_TIMEOUT)),
                TowerToHyperService::new(router.clone()),
            )
            .with_upgrades();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let stopping = async move {
                let _ = stop.wait_for(|stopping| *stopping).await;
            };
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stopping => {
                    // Idle connections close now; a request in flight finishes first.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                // Timeouts, resets and malformed requests: the client's doing, not ours.
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }

    drop(listener);
    let _ = stop_sender.send(true);
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still busy after the drain timeout: closing them"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Errors of one connection that was being accepted, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Logs a repeated error at most once per `ACCEPT_ERROR_LOG_EVERY`, with how many were
/// left out: out of descriptors, `accept` fails on every try.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn log(&mut self, error: &io::Error) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < ACCEPT_ERROR_LOG_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        tracing::error!(
            %error,
            suppressed = self.suppressed,
            "cannot accept connections; retrying"
        );
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// A socket whose writes fail once they have made no progress for `timeout`: a client that
/// stops reading would otherwise hold its connection (and a connection permit) forever.
struct StallGuard<T> {
    inner: T,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    fn new(inner: T, timeout: Duration) -> Self {
        StallGuard {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Pass a write's result through, starting the stall clock when it is pending and
    /// stopping it once the write completes.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match poll {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stalled.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading the response",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63432                63432                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_file_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_file_limit(unlimited), None);
    }

    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_stall_timeout() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (server, idle_client) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(server, Duration::from_millis(200));
        let started = Instant::now();
        let error = guarded
            .write_all(&[0; 1024])
            .await
            .expect_err("the client never reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
        // Open until here: a closed client would fail the write for another reason.
        drop(idle_client);

        // A reader that keeps up, however slowly, is never cut off.
        let (server, mut client) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(server, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut buffer = [0; 32];
            let mut total = 0;
            while total < 1024 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                total += client.read(&mut buffer).await.expect("read");
            }
        });
        guarded.write_all(&[0; 1024]).await.expect("written");
        reader.await.expect("reader");
    }
}
