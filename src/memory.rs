//! Giving memory back when the server goes idle (issue 11: idle RSS under 40 MB a minute
//! after a burst).
//!
//! mimalloc purges a thread's freed pages on that thread's later allocations; a tokio worker
//! that parks after a burst makes none, so its share stayed resident (42–49 MiB a minute after
//! a Q2 burst). Purging at once instead (`MIMALLOC_PURGE_DELAY=0`) gave the memory back but
//! cost 24–30% of throughput. So: the HTTP layer counts requests ([`note_request`]); a watcher
//! ([`watch_idle`]) notices when a period passes with none, and raises a generation number; each worker, the next time it parks ([`on_park`], the runtime's park hook), sees the
//! new generation and collects once ([`allocator::collect`]). Under load the generation does
//! not move, and `on_park` costs one atomic load.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Requests seen since start.
static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Raised each time the server goes idle.
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The generation this thread last collected for.
    static COLLECTED: Cell<u64> = const { Cell::new(0) };
}

/// Count a request (called by the access layer for every request).
pub fn note_request() {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// The runtime's park hook: collect once per idle period, on each worker as it parks.
pub fn on_park() {
    let generation = GENERATION.load(Ordering::Relaxed);
    COLLECTED.with(|collected| {
        if collected.get() != generation {
            collected.set(generation);
            allocator::collect();
        }
    });
}

/// Every `period`, see whether requests came in since the last look. Once none have for a
/// period, raise the generation and wake `workers` workers (by spawning empty tasks) so that
/// each parks again and collects; while the pause lasts, again after 2, 4, 8... periods (up to
/// every 64), for what is freed later (connections the pool closes, timers). Runs until the
/// runtime stops.
pub async fn watch_idle(period: Duration, workers: usize) {
    let mut seen = REQUESTS.load(Ordering::Relaxed);
    let mut idle_periods: u64 = 0;
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = REQUESTS.load(Ordering::Relaxed);
        if now != seen {
            seen = now;
            idle_periods = 0;
            continue;
        }
        idle_periods += 1;
        if idle_periods.is_power_of_two() || idle_periods.is_multiple_of(64) {
            GENERATION.fetch_add(1, Ordering::Relaxed);
            for _ in 0..workers {
                tokio::spawn(async {});
            }
        }
    }
}
