//! The live feed of committed changes, for subscriptions (API.md: `customerChanged`,
//! `contactChanged`).
//!
//! The change table is the one source: each instance reads the records after the last it
//! published, in id order, and broadcasts them to its own subscribers. What wakes it:
//!
//! - on PostgreSQL, a `NOTIFY` on [`CHANNEL`], sent inside every writing transaction (so only
//!   committed changes are announced, by whichever instance took the write), received on a
//!   connection of its own that `LISTEN`s;
//! - on SQLite (one process), [`committed`], called after every commit;
//! - and, on both, a sweep every [`SWEEP`], which catches whatever a wake missed: notifications
//!   lost while the listening connection was down (a PostgreSQL restart), whose records are
//!   then read from the table in id order.
//!
//! Ids are issued when a transaction inserts its records, but transactions commit in any
//! order, so on PostgreSQL a record may become visible after one with a higher id. The feed
//! therefore remembers the ids it published above the highest id below which it has seen
//! every one (`low`), and re-reads from there: a missing id is either still in flight (it will
//! come) or was rolled back (it never will; after [`GAP_PATIENCE`] it is given up on).

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use super::CHANNEL;
use super::service::{self, ChangeRecord};
use crate::error::Result;

/// How often the feed reads the table even when nothing woke it.
const SWEEP: Duration = Duration::from_secs(1);

/// How long a missing id may stay missing before the feed stops waiting for it (a rolled-back
/// transaction's ids never appear).
const GAP_PATIENCE: Duration = Duration::from_secs(30);

/// Records read per statement.
const BATCH: u64 = 500;

/// How long a wake waits for the next ones before reading: one read then serves a burst of
/// writes, however many instances took them.
const COALESCE: Duration = Duration::from_millis(5);

/// Records a subscriber may fall behind by before it is dropped (it is told, and may
/// subscribe again).
const BACKLOG: usize = 4_096;

/// The SQLite databases of this process, each with what its writers raise after every commit
/// with changes: wakes the feed of that database only (tests run many servers in one
/// process, each on a file of its own).
static COMMITS: LazyLock<Mutex<HashMap<PathBuf, watch::Sender<u64>>>> =
    LazyLock::new(Mutex::default);

/// The signal of the SQLite database `db` (none for PostgreSQL, whose `NOTIFY` wakes every
/// instance's feed).
fn commits_of(db: &DatabaseConnection) -> Option<watch::Sender<u64>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_owned();
    let mut signals = COMMITS.lock().unwrap_or_else(PoisonError::into_inner);
    Some(
        signals
            .entry(file)
            .or_insert_with(|| watch::Sender::new(0))
            .clone(),
    )
}

/// A write to `db` committed changes (what wakes a SQLite feed).
pub fn committed(db: &DatabaseConnection) {
    if let Some(signal) = commits_of(db) {
        signal.send_modify(|count| *count = count.wrapping_add(1));
    }
}

/// An instance's feed: subscribe to receive every change committed from now on.
#[derive(Debug)]
pub struct Feed {
    sender: broadcast::Sender<Arc<ChangeRecord>>,
    task: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    /// Start the feed of `server`'s changes, before the server takes requests: it listens
    /// first and then reads where the history ends, so a change committed after that point
    /// is announced to it, and none committed before is delivered.
    pub async fn start(server: &DatabaseConnection) -> Feed {
        let (sender, _) = broadcast::channel(BACKLOG);
        let db = server.clone();
        let mut wake = Wake::new(&db);
        wake.listen().await;
        let low = match service::last_id(server).await {
            Ok(low) => Some(low),
            Err(error) => {
                tracing::warn!(%error, "change feed: cannot read the change table yet; retrying");
                None
            }
        };
        let task = tokio::spawn(run(db, sender.clone(), wake, low));
        Feed { sender, task }
    }

    /// Every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeRecord>> {
        self.sender.subscribe()
    }
}

/// What the feed has published: every id up to `low`, and those in `above`.
struct Published {
    low: i64,
    above: BTreeSet<i64>,
    gap_since: Option<Instant>,
}

impl Published {
    fn record(&mut self, id: i64) -> bool {
        id > self.low && self.above.insert(id)
    }

    /// Move `low` up over the ids now contiguous, and over a gap older than the patience.
    fn advance(&mut self) {
        loop {
            while self.above.remove(&(self.low + 1)) {
                self.low += 1;
            }
            let Some(&first) = self.above.first() else {
                self.gap_since = None;
                return;
            };
            let since = *self.gap_since.get_or_insert_with(Instant::now);
            if since.elapsed() < GAP_PATIENCE {
                return;
            }
            self.low = first - 1;
            self.gap_since = None;
        }
    }
}

async fn run(
    db: DatabaseConnection,
    sender: broadcast::Sender<Arc<ChangeRecord>>,
    mut wake: Wake,
    low: Option<i64>,
) {
    let low = match low {
        Some(low) => low,
        None => loop {
            match service::last_id(&db).await {
                Ok(low) => break low,
                Err(error) => {
                    tracing::warn!(%error, "change feed: cannot read the change table; retrying");
                    tokio::time::sleep(SWEEP).await;
                }
            }
        },
    };
    let mut published = Published {
        low,
        above: BTreeSet::new(),
        gap_since: None,
    };
    loop {
        let mut woken = wake.next().await;
        let until = tokio::time::Instant::now() + COALESCE;
        while let Ok(more) = tokio::time::timeout_at(until, wake.next()).await {
            woken = woken.and(more);
        }
        if let Err(error) = publish(&db, &sender, &mut published, woken).await {
            tracing::warn!(%error, "change feed: reading changes failed; retrying");
        }
    }
}

/// Read and broadcast what is new.
async fn publish(
    db: &DatabaseConnection,
    sender: &broadcast::Sender<Arc<ChangeRecord>>,
    published: &mut Published,
    woken: Woken,
) -> Result<()> {
    if sender.receiver_count() == 0 {
        // No subscriber: nothing to read, only the position to keep after a commit: as the
        // notification announced it (no statement), else as the table says. The sweep costs
        // nothing then. A subscriber that comes may see a change of the last moments before.
        let last = match woken {
            Woken::Sweep => return Ok(()),
            Woken::Committed(Some(id)) => id,
            Woken::Committed(None) => service::last_id(db).await?,
        };
        published.low = published.low.max(last);
        published.above.clear();
        published.gap_since = None;
        return Ok(());
    }
    let mut from = published.low;
    loop {
        let records = service::after(db, from, BATCH).await?;
        let full = records.len() as u64 == BATCH;
        for record in records {
            from = record.row.id;
            if published.record(record.row.id) {
                // No receiver left is not an error: the next round checks again.
                let _ = sender.send(Arc::new(record));
            }
        }
        if !full {
            break;
        }
    }
    published.advance();
    Ok(())
}

/// Why the feed woke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Woken {
    /// The periodic sweep.
    Sweep,
    /// Changes were committed, up to this id when the wake says.
    Committed(Option<i64>),
}

impl Woken {
    /// The wake that says the most of two in a row.
    fn and(self, next: Woken) -> Woken {
        match (self, next) {
            (Woken::Committed(a), Woken::Committed(b)) => Woken::Committed(a.max(b)),
            (Woken::Committed(a), Woken::Sweep) | (Woken::Sweep, Woken::Committed(a)) => {
                Woken::Committed(a)
            }
            (Woken::Sweep, Woken::Sweep) => Woken::Sweep,
        }
    }
}

/// What wakes the feed: a notification, a local commit, or the sweep.
enum Wake {
    Postgres {
        /// A pool of one connection of its own (same options, TLS included), so listening
        /// never holds one of the server's.
        pool: PgPool,
        listener: Option<PgListener>,
        sweep: Interval,
    },
    Local {
        commits: watch::Receiver<u64>,
        sweep: Interval,
    },
}

impl Wake {
    fn new(db: &DatabaseConnection) -> Wake {
        let mut sweep = tokio::time::interval(SWEEP);
        sweep.set_missed_tick_behavior(MissedTickBehavior::Delay);
        if db.get_database_backend() == DbBackend::Postgres {
            let options = db.get_postgres_connection_pool().connect_options();
            Wake::Postgres {
                pool: PgPoolOptions::new()
                    .max_connections(1)
                    .connect_lazy_with((*options).clone()),
                listener: None,
                sweep,
            }
        } else {
            Wake::Local {
                // SQLite is the only other backend.
                commits: commits_of(db).map_or_else(
                    || watch::Sender::new(0).subscribe(),
                    |signal| signal.subscribe(),
                ),
                sweep,
            }
        }
    }

    /// On PostgreSQL, start listening now if it can (else the next wake retries).
    async fn listen(&mut self) {
        if let Wake::Postgres { pool, listener, .. } = self
            && listener.is_none()
        {
            *listener = listen(pool).await;
        }
    }

    /// The next wake.
    async fn next(&mut self) -> Woken {
        match self {
            Wake::Postgres {
                pool,
                listener,
                sweep,
            } => {
                let Some(listening) = listener else {
                    *listener = listen(pool).await;
                    sweep.tick().await;
                    return Woken::Sweep;
                };
                tokio::select! {
                    received = listening.try_recv() => match received {
                        Ok(Some(notification)) => Woken::Committed(highest_id(notification.payload())),
                        // Reconnected (and listening again): the next read catches up.
                        Ok(None) => {
                            tracing::info!("change feed: LISTEN connection lost and restored");
                            Woken::Sweep
                        }
                        Err(error) => {
                            tracing::warn!(%error, "change feed: LISTEN connection failed; retrying");
                            sweep.tick().await;
                            Woken::Sweep
                        }
                    },
                    _ = sweep.tick() => Woken::Sweep,
                }
            }
            Wake::Local { commits, sweep } => {
                tokio::select! {
                    Ok(()) = commits.changed() => Woken::Committed(None),
                    _ = sweep.tick() => Woken::Sweep,
                }
            }
        }
    }
}

/// The highest id of a notification's payload: `id,id,…` or `first-last` (the migration's
/// trigger writes it).
fn highest_id(payload: &str) -> Option<i64> {
    payload
        .split([',', '-'])
        .filter_map(|id| id.trim().parse().ok())
        .max()
}

/// A listener on [`CHANNEL`], or `None` (logged) while PostgreSQL cannot be reached.
async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "change feed: cannot LISTEN yet; retrying");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "change feed: LISTEN failed; retrying");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::highest_id;

    #[test]
    fn a_payload_names_ids_or_a_range() {
        assert_eq!(highest_id("12"), Some(12));
        assert_eq!(highest_id("12,15,13"), Some(15));
        assert_eq!(highest_id("100-250"), Some(250));
        assert_eq!(highest_id(""), None);
    }
}
