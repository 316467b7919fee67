//! The batch runner: a request's DataLoader batches run inside the request's own task, in
//! rounds, so that every level of a query is loaded with one statement per loader, whatever
//! the number of parents.
//!
//! `tokio::spawn` plus a batch delay (the usual DataLoader set-up) batches by timing: a level's
//! keys that trickle in over several polls (a large list is polled in slices, and results
//! arrive from other threads one waker at a time) are split into several statements once the
//! delay runs out, more often the slower the machine. Here a batch starts only when the
//! request can make no further progress without it (its future returned `Pending` without
//! waking itself) and no other batch is in flight. Siblings in a round still run concurrently.
//! Loader work also stays inside the request's tracing span, so its SQL log lines carry the
//! tracking id.
//!
//! # What this relies on in async-graphql's DataLoader
//!
//! As of async-graphql 7.2.1 (`src/dataloader/mod.rs`):
//!
//! - `load_many` queues its keys when first polled. The call that finds the loader's queue
//!   empty hands the spawner a *start-fetch* task, `async { Delay::new(delay).await; take
//!   every queued key; load them }`: the keys are taken when the task first runs, not when it
//!   is spawned. Holding that task back until the request is idle is what lets one round take
//!   a whole level.
//! - The delay is zero ([`crate::loaders::data_loader`] sets it). Kith builds async-graphql
//!   without its `tokio-timer` feature, so `Delay` is async-io's `Timer`, which is ready at its
//!   first poll when its instant has passed: the task takes its keys at once, with no timer
//!   thread. (Were `tokio-timer` enabled, a zero tokio `sleep` may wait for the timer's next
//!   millisecond: the same batch, a little later.)
//! - A call that brings the queue to `max_batch_size` keys hands over a task whose keys are
//!   already taken (an *immediate load*): a level larger than that is split into batches of
//!   that size, all of the same round.
//! - Results travel through a oneshot channel whose sender wakes the waiting field's waker,
//!   which is the request's: the runner sees the request woken and polls it before it starts
//!   anything else.
//!
//! Should an upgrade change any of this, answers stay right but statements multiply, silently.
//! `tests/api/query_counts.rs` is the guard: it counts the statements of a nested query over
//! one and over fifty customers and requires the same number.
//!
//! A request that can still progress must have woken itself by the time its poll returns. A
//! wake the runtime defers until after the poll (tokio's `yield_now`, its co-operative budget)
//! reads as idle and starts the round early: answers stay right, a level may take two
//! statements. async-graphql's execution does neither.
//!
//! # The rule: a loader never awaits another loader
//!
//! A batch must finish on its own. The runner starts queued batches only when none is in
//! flight, so if loader A's `load` awaited loader B, B's start-fetch task would wait in the
//! queue for A to finish while A waits for B: the request hangs until its timeout. A loader
//! that needs another table's rows reads them in its own statement (a join); a resolver that
//! needs two loaders awaits them itself.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// Hands a request's loader batches to its [`BatchRunner`].
#[derive(Clone, Debug)]
pub struct BatchSpawner(mpsc::UnboundedSender<BoxFuture<'static, ()>>);

impl BatchSpawner {
    /// Queue `batch` for the next round. Once the runner is gone (the response is complete, or
    /// the request was cancelled) nobody waits for the batch any more: it is dropped unpolled.
    pub fn spawn(&self, batch: BoxFuture<'static, ()>) {
        let _ = self.0.send(batch);
    }
}

/// Runs a request's loader batches in the request's own task, in rounds (see the module
/// documentation).
#[derive(Debug)]
pub struct BatchRunner(mpsc::UnboundedReceiver<BoxFuture<'static, ()>>);

/// A connected spawner and runner for one request.
pub fn batch_runner() -> (BatchSpawner, BatchRunner) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (BatchSpawner(sender), BatchRunner(receiver))
}

/// The request's waker: it remembers that the request asked to be polled again, and wakes the
/// task that drives the runner.
#[derive(Default)]
struct ProgressSignal {
    woken: AtomicBool,
    runner: AtomicWaker,
}

impl Wake for ProgressSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // The flag before the wake: the runner, once polled, must see it.
        self.woken.store(true, Ordering::SeqCst);
        self.runner.wake();
    }
}

impl BatchRunner {
    /// Drive `work` (the request) and the batches its loaders start, until `work` completes.
    /// Batches still queued or in flight then are dropped, as they are when this future is.
    pub async fn run_alongside<T>(self, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        let mut rounds = Rounds::new(self);
        std::future::poll_fn(move |cx| rounds.poll(cx, |cx| work.as_mut().poll(cx))).await
    }

    /// Drive `stream` (a subscription: one execution per event) and the batches its loaders
    /// start, each event's levels in rounds as a request's are. The runner lives as long as
    /// the stream.
    pub fn run_stream<S>(self, stream: S) -> impl Stream<Item = S::Item> + Send
    where
        S: Stream + Unpin + Send,
    {
        let mut stream = stream;
        let mut rounds = Rounds::new(self);
        futures_util::stream::poll_fn(move |cx| rounds.poll(cx, |cx| stream.poll_next_unpin(cx)))
    }
}

/// The state of a runner driving work: queued and running batches, and the work's waker.
struct Rounds {
    queued: mpsc::UnboundedReceiver<BoxFuture<'static, ()>>,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
    signal: Arc<ProgressSignal>,
    work_waker: Waker,
}

impl Rounds {
    fn new(runner: BatchRunner) -> Rounds {
        let signal = Arc::new(ProgressSignal::default());
        Rounds {
            queued: runner.0,
            running: FuturesUnordered::new(),
            work_waker: Waker::from(signal.clone()),
            signal,
        }
    }

    /// Poll the work (`poll_work`, with the work's own waker) and, when it can make no
    /// progress without them, start the queued batches.
    fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll_work: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // Registered before the flag is cleared, so a wake from another thread in between
        // polls this task again rather than getting lost.
        self.signal.runner.register(cx.waker());
        self.signal.woken.store(false, Ordering::SeqCst);
        if let Poll::Ready(output) = poll_work(&mut Context::from_waker(&self.work_waker)) {
            return Poll::Ready(output);
        }
        loop {
            while let Poll::Ready(Some(())) = self.running.poll_next_unpin(cx) {}
            let idle = self.running.is_empty() && !self.signal.woken.load(Ordering::SeqCst);
            if !idle {
                return Poll::Pending;
            }
            let mut started = false;
            while let Poll::Ready(Some(batch)) = self.queued.poll_recv(cx) {
                self.running.push(batch);
                started = true;
            }
            if !started {
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};
    use std::time::Duration;

    use tokio::sync::{Barrier, oneshot};

    use super::batch_runner;

    /// Fails a test that would otherwise hang.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// Pending once, having woken itself: a request that can still make progress.
    #[derive(Default)]
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_that_completes_on_another_thread_wakes_the_request() {
        let (spawner, runner) = batch_runner();
        let work = async move {
            let (sender, receiver) = oneshot::channel();
            spawner.spawn(Box::pin(async move {
                let value = tokio::task::spawn_blocking(|| 42).await.unwrap_or(0);
                let _ = sender.send(value);
            }));
            receiver.await
        };
        let answer = tokio::time::timeout(PATIENCE, runner.run_alongside(work)).await;
        assert_eq!(answer.expect("the request was never woken"), Ok(42));
    }

    /// Three levels of four keys: each level's batches start only once every key of the level
    /// is registered (the request yields between keys), and run together in one round.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_level_is_one_round_started_when_the_request_is_idle() {
        const LEVELS: usize = 3;
        const KEYS: usize = 4;
        let (spawner, runner) = batch_runner();
        let registered = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(Mutex::new(Vec::new()));
        let work = {
            let registered = registered.clone();
            let started = started.clone();
            async move {
                for level in 0..LEVELS {
                    // Only a round that runs all four batches at once gets past the barrier.
                    let barrier = Arc::new(Barrier::new(KEYS));
                    let mut answers = Vec::new();
                    for _ in 0..KEYS {
                        let (sender, receiver) = oneshot::channel();
                        registered.fetch_add(1, Ordering::SeqCst);
                        let (registered, started, barrier) =
                            (registered.clone(), started.clone(), barrier.clone());
                        spawner.spawn(Box::pin(async move {
                            let seen = registered.load(Ordering::SeqCst);
                            started.lock().expect("log").push((level, seen));
                            barrier.wait().await;
                            let _ = sender.send(level);
                        }));
                        answers.push(receiver);
                        YieldOnce::default().await;
                    }
                    for answer in answers {
                        assert_eq!(answer.await, Ok(level));
                    }
                }
            }
        };
        tokio::time::timeout(PATIENCE, runner.run_alongside(work))
            .await
            .expect("a level's batches did not run in one round");
        let started = started.lock().expect("log").clone();
        let expected: Vec<(usize, usize)> = (0..LEVELS)
            .flat_map(|level| std::iter::repeat_n((level, (level + 1) * KEYS), KEYS))
            .collect();
        assert_eq!(started, expected);
    }

    /// Dropping the request mid-flight (a client gone, a timeout) drops the batch in flight
    /// and the one queued behind it, without panicking and without leaking either.
    #[tokio::test]
    async fn cancelling_the_request_drops_its_batches() {
        let (spawner, runner) = batch_runner();
        let held = Arc::new(());
        let second_started = Arc::new(AtomicBool::new(false));
        let (reached, reached_receiver) = oneshot::channel();
        let work = {
            let (held, second_started, spawner) =
                (held.clone(), second_started.clone(), spawner.clone());
            async move {
                let (in_flight, in_flight_receiver) = oneshot::channel();
                let first = held.clone();
                spawner.spawn(Box::pin(async move {
                    let _held = first;
                    let _ = in_flight.send(());
                    std::future::pending::<()>().await;
                }));
                let _ = in_flight_receiver.await;
                let second = held.clone();
                spawner.spawn(Box::pin(async move {
                    let _held = second;
                    second_started.store(true, Ordering::SeqCst);
                }));
                let _ = reached.send(());
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = runner.run_alongside(work) => panic!("the request cannot finish"),
            reached = tokio::time::timeout(PATIENCE, reached_receiver) => {
                assert!(matches!(reached, Ok(Ok(()))), "the first batch never ran");
            }
        }
        assert!(
            !second_started.load(Ordering::SeqCst),
            "a batch started while another was in flight"
        );
        assert_eq!(Arc::strong_count(&held), 1, "a batch outlived its request");
        // Late batches of a cancelled request are dropped too.
        let late = held.clone();
        spawner.spawn(Box::pin(async move { drop(late) }));
        assert_eq!(Arc::strong_count(&held), 1);
    }

    /// A batch handed over after the response is complete, or left queued when it completed,
    /// is dropped without being polled.
    #[tokio::test]
    async fn a_batch_handed_to_a_finished_runner_is_dropped_unpolled() {
        let (spawner, runner) = batch_runner();
        let polled = Arc::new(AtomicBool::new(false));
        let held = Arc::new(());
        let batch = |polled: Arc<AtomicBool>, held: Arc<()>| {
            Box::pin(async move {
                let _held = held;
                polled.store(true, Ordering::SeqCst);
            })
        };
        let work = {
            let (spawner, polled, held) = (spawner.clone(), polled.clone(), held.clone());
            async move {
                spawner.spawn(batch(polled, held));
                7
            }
        };
        assert_eq!(runner.run_alongside(work).await, 7);
        spawner.spawn(batch(polled.clone(), held.clone()));
        assert!(!polled.load(Ordering::SeqCst));
        assert_eq!(Arc::strong_count(&held), 1);
    }
}
