//! What `/graphql` holds every request to, built once per server: the cost model and limits,
//! and load shedding in front of the database pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::Settings;
use crate::cost::{CostModel, Limits};

/// Requests of one lane that may use the database at once, per pooled connection. Heavy
/// requests then hold at most about one connection each, so a light request waits for one
/// statement, not for a queue of them.
const DATABASE_REQUESTS_PER_CONNECTION: usize = 1;

/// Requests that may wait for a turn, per pooled connection. Beyond that a caller would only
/// queue behind seconds of work, so it is answered 503 at once.
const DATABASE_WAITERS_PER_CONNECTION: usize = 4;

/// Complexity up to which a request is light: a point read, a short list. Light requests have
/// a lane of their own, so a flood of heavy ones is shed without shedding them.
pub(super) const LIGHT_COMPLEXITY: usize = 100;

/// What the /graphql handler enforces, built once per server.
pub struct RequestGuard {
    pub(super) cost_model: CostModel,
    pub(super) limits: Limits,
    pub(super) max_batch: usize,
    pub(super) max_body_bytes: usize,
    pub(super) max_rows: usize,
    pub(super) request_timeout: Duration,
    /// Admission to the database for light requests ([`LIGHT_COMPLEXITY`]): they hold a turn
    /// while they run.
    pub(super) light_lane: DatabaseLane,
    /// The same for every other request that touches the database.
    pub(super) heavy_lane: DatabaseLane,
}

/// Load shedding in front of the connection pool: a bounded number of requests run, a bounded
/// number wait (no longer than the pool's acquire timeout), and the rest are refused at once.
pub(super) struct DatabaseLane {
    running: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

/// Counts a waiter for as long as it waits, however the wait ends (the request timeout may
/// cancel it).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl DatabaseLane {
    fn new(pool: usize, max_wait: Duration) -> DatabaseLane {
        DatabaseLane {
            running: Semaphore::new(pool * DATABASE_REQUESTS_PER_CONNECTION),
            waiting: AtomicUsize::new(0),
            max_waiting: pool * DATABASE_WAITERS_PER_CONNECTION,
            max_wait,
        }
    }

    /// Requests waiting for a turn now (the `kith_db_requests_waiting` gauge).
    pub(super) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// A turn to use the database, or [`Busy`] when too many already run and wait.
    pub(super) async fn enter(&self) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(permit) = self.running.try_acquire() {
            return Ok(permit);
        }
        let shed = || {
            tracing::warn!("shedding load: the database is busy and its queue is full");
            Busy
        };
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(shed());
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.running.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(shed()),
        }
    }
}

impl RequestGuard {
    /// The guard for `settings`, costing documents against `sdl`.
    pub fn new(settings: &Settings, sdl: &str) -> RequestGuard {
        let pool = if settings.database_url.starts_with("sqlite:") {
            settings.db_max_connections.clamp(1, 8)
        } else {
            settings.db_max_connections.max(2)
        } as usize;
        RequestGuard {
            cost_model: CostModel::from_sdl(sdl),
            limits: Limits {
                max_depth: settings.max_depth,
                max_complexity: settings.max_complexity,
                max_fields: settings.max_fields,
                max_page_size: usize::try_from(settings.max_page_size).unwrap_or(usize::MAX),
            },
            max_batch: settings.max_batch,
            max_body_bytes: settings.max_body_bytes,
            max_rows: settings.max_rows_per_request,
            request_timeout: settings.request_timeout,
            light_lane: DatabaseLane::new(pool, settings.db_acquire_timeout),
            heavy_lane: DatabaseLane::new(pool, settings.db_acquire_timeout),
        }
    }
}

/// Too many requests already run and wait for the database.
#[derive(Debug)]
pub(super) struct Busy;
