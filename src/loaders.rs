//! Per-request DataLoaders. Each carries the caller's scope, so a loader can only ever return
//! rows that caller may see, and it lives exactly as long as one request: no cache is shared
//! between callers.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::Request;
use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::auth::Scope;
use crate::error::{AppError, SharedError};

/// How long a started batch waits for more keys. The [`BatchRunner`] only starts a batch once
/// the request has registered every key it can, so there is nothing to wait for.
const BATCH_DELAY: Duration = Duration::ZERO;

/// Keys per statement. Large enough that a full page of nested data is one batch, small
/// enough to stay under SQLite's and PostgreSQL's bind-parameter limits.
const MAX_BATCH_SIZE: usize = 5_000;

/// What every loader needs: the pool, the caller's scope, and where to run its batches.
#[derive(Clone)]
pub struct LoaderContext {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The caller's read scope.
    pub scope: Scope,
    /// Runs batches inside the request's task (see [`BatchRunner`]).
    pub spawner: BatchSpawner,
    /// Rows this request may still load, shared by all its loaders.
    pub rows: Arc<RowBudget>,
}

impl LoaderContext {
    /// Finish a batch: charge its rows to the request's budget, and log a failure here, once,
    /// rather than once for every field that waited on the batch.
    pub fn finish<M>(
        &self,
        loader: &'static str,
        rows: crate::error::Result<Vec<M>>,
    ) -> Result<Vec<M>, SharedError> {
        let rows = rows.and_then(|rows| self.rows.charge(rows.len()).map(|()| rows));
        rows.map_err(|error| {
            let _span = tracing::error_span!("loader", loader).entered();
            error.log_if_internal();
            Arc::new(error)
        })
    }
}

/// The rows one request may load (`KITH_MAX_ROWS_PER_REQUEST`): a document that would need
/// more fails with `QUERY_TOO_COMPLEX` instead of holding unbounded memory.
#[derive(Debug)]
pub struct RowBudget {
    limit: usize,
    loaded: AtomicUsize,
}

impl RowBudget {
    /// A budget of `limit` rows.
    pub fn new(limit: usize) -> RowBudget {
        RowBudget {
            limit,
            loaded: AtomicUsize::new(0),
        }
    }

    /// The `LIMIT` of a loader's statement: the rows still allowed plus one, so that a batch
    /// that would cross the budget reads one row past it (and fails) instead of all of them.
    /// Sibling loaders of one round read concurrently, each against what was left before the
    /// round: the memory held stays within (loaders × budget), never unbounded.
    pub fn limit(&self) -> u64 {
        let remaining = self
            .limit
            .saturating_sub(self.loaded.load(Ordering::Relaxed));
        u64::try_from(remaining)
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// Count `rows` more rows, failing once the request has loaded more than its limit.
    pub fn charge(&self, rows: usize) -> crate::error::Result<()> {
        let loaded = self
            .loaded
            .fetch_add(rows, Ordering::Relaxed)
            .saturating_add(rows);
        if loaded > self.limit {
            return Err(AppError::QueryTooComplex(format!(
                "the request would load more than {} rows (KITH_MAX_ROWS_PER_REQUEST); \
                 ask for fewer items or less nesting",
                self.limit
            )));
        }
        Ok(())
    }
}

/// Attach a fresh set of loaders for this caller to a request.
pub fn attach(request: Request, context: LoaderContext) -> Request {
    use crate::{account, address, contact, contact_point, customer, shared_link};

    fn install<L: Loader<Uuid>>(request: Request, loader: L, spawner: &BatchSpawner) -> Request {
        let spawner = spawner.clone();
        request.data(
            DataLoader::new(loader, move |batch| spawner.spawn(batch))
                .delay(BATCH_DELAY)
                .max_batch_size(MAX_BATCH_SIZE),
        )
    }

    let spawner = &context.spawner;
    let c = || context.clone();
    let request = install(request, customer::loader::CustomerById(c()), spawner);
    let request = install(request, account::loader::AccountById(c()), spawner);
    let request = install(request, account::loader::AccountsByCustomer(c()), spawner);
    let request = install(request, contact::loader::ContactsByCustomer(c()), spawner);
    let request = install(request, contact::loader::ContactsByAccount(c()), spawner);
    let request = install(
        request,
        contact_point::loader::ContactPointsByContact(c()),
        spawner,
    );
    let request = install(request, address::loader::AddressesByContact(c()), spawner);
    install(
        request,
        shared_link::loader::LinkedCustomersByContact(c()),
        spawner,
    )
}

/// Hands a request's loader batches to its [`BatchRunner`].
#[derive(Clone, Debug)]
pub struct BatchSpawner(mpsc::UnboundedSender<BoxFuture<'static, ()>>);

impl BatchSpawner {
    fn spawn(&self, batch: BoxFuture<'static, ()>) {
        // The runner lives as long as the request; a send can only fail once the response is
        // complete, when nobody waits for the batch any more.
        let _ = self.0.send(batch);
    }
}

/// Runs a request's loader batches in the request's own task, in rounds.
///
/// `tokio::spawn` plus a batch delay (the usual DataLoader set-up) batches by timing: a level's
/// keys that trickle in over several polls (a large list is polled in slices, and results
/// arrive from other threads one waker at a time) are split into several statements once the
/// delay runs out, more often the slower the machine. Here a batch starts only when the
/// request can make no further progress without it (its future returned `Pending` without
/// waking itself) and no other batch is in flight. Every level is therefore loaded in one
/// round, one statement per loader, whatever the number of parents; siblings in a round still
/// run concurrently. Loader work also stays inside the request's tracing span, so its SQL log
/// lines carry the tracking id.
#[derive(Debug)]
pub struct BatchRunner(mpsc::UnboundedReceiver<BoxFuture<'static, ()>>);

/// A connected spawner and runner for one request.
pub fn batch_runner() -> (BatchSpawner, BatchRunner) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (BatchSpawner(sender), BatchRunner(receiver))
}

/// Wakes the request task and remembers that the request itself asked to be polled again.
#[derive(Default)]
struct ProgressSignal {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl ProgressSignal {
    fn register(&self, waker: &Waker) {
        if let Ok(mut task) = self.task.lock()
            && !task
                .as_ref()
                .is_some_and(|current| current.will_wake(waker))
        {
            *task = Some(waker.clone());
        }
    }
}

impl Wake for ProgressSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Ok(task) = self.task.lock()
            && let Some(waker) = task.as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

impl BatchRunner {
    /// Drive `work` (the request) and the batches its loaders start, until `work` completes.
    pub async fn run_alongside<T>(self, work: impl Future<Output = T>) -> T {
        let mut queued = self.0;
        let mut work = std::pin::pin!(work);
        let mut running = FuturesUnordered::new();
        let signal = Arc::new(ProgressSignal::default());
        let work_waker = Waker::from(signal.clone());
        std::future::poll_fn(move |cx| {
            signal.register(cx.waker());
            signal.woken.store(false, Ordering::SeqCst);
            if let Poll::Ready(output) = work.as_mut().poll(&mut Context::from_waker(&work_waker)) {
                return Poll::Ready(output);
            }
            loop {
                while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
                let idle = running.is_empty() && !signal.woken.load(Ordering::SeqCst);
                if !idle {
                    return Poll::Pending;
                }
                let mut started = false;
                while let Poll::Ready(Some(batch)) = queued.poll_recv(cx) {
                    running.push(batch);
                    started = true;
                }
                if !started {
                    return Poll::Pending;
                }
            }
        })
        .await
    }
}

/// Group `(parent, child)` rows into the map a one-to-many loader returns, keeping row order.
pub fn group_by_parent<K: Eq + Hash, V>(
    rows: impl IntoIterator<Item = (K, V)>,
) -> HashMap<K, Vec<V>> {
    let mut groups: HashMap<K, Vec<V>> = HashMap::new();
    for (parent, child) in rows {
        groups.entry(parent).or_default().push(child);
    }
    groups
}
