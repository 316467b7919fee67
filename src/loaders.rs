//! What every resource's DataLoaders share. A loader carries the caller's scope, so it can
//! only ever return rows that caller may see, and it lives exactly as long as one request: no
//! cache is shared between callers.
//!
//! Loaders import this module; nothing here imports a loader. The set of loaders a request
//! gets is assembled above the resources, in [`crate::schema::attach_loaders`].

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::Scope;
use crate::batch::BatchSpawner;
use crate::error::{AppError, SharedError};

/// How long a started batch waits for more keys. The [`BatchRunner`](crate::batch::BatchRunner)
/// only starts a batch once the request has registered every key it can, so there is nothing
/// to wait for (`crate::batch` says what this relies on).
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
    /// Runs batches inside the request's task (see [`crate::batch`]).
    pub spawner: BatchSpawner,
    /// Rows this request may still load, shared by all its loaders.
    pub rows: Arc<RowBudget>,
}

impl LoaderContext {
    /// Finish a batch of `keys` keys: count its keys and rows (`kith_loader_batch_keys`,
    /// `kith_loader_batch_rows`), charge the rows to the request's budget, and log a failure
    /// here, once, rather than once for every field that waited on the batch.
    pub fn finish<M>(
        &self,
        loader: &'static str,
        keys: usize,
        rows: crate::error::Result<Vec<M>>,
    ) -> Result<Vec<M>, SharedError> {
        count_batch(&self.rows, loader, keys, rows).map_err(|error| {
            let _span = tracing::error_span!("loader", loader).entered();
            error.log_if_internal();
            Arc::new(error)
        })
    }
}

/// Count a finished batch of `keys` keys in the loader metrics and charge its rows to the
/// request's budget: what every batched read does, through a DataLoader or not.
pub fn count_batch<M>(
    budget: &RowBudget,
    loader: &'static str,
    keys: usize,
    rows: crate::error::Result<Vec<M>>,
) -> crate::error::Result<Vec<M>> {
    let rows = rows?;
    crate::metrics::record_loader_batch(loader, keys, rows.len());
    budget.charge(rows.len())?;
    Ok(rows)
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

    /// Rows loaded so far.
    pub fn loaded(&self) -> usize {
        self.loaded.load(Ordering::Relaxed)
    }

    /// Go back to `loaded` rows: the reads since then were abandoned, to be done again.
    pub fn rewind(&self, loaded: usize) {
        self.loaded.store(loaded, Ordering::Relaxed);
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

/// A request's DataLoader over `loader`, its batches run by the request's
/// [`BatchRunner`](crate::batch::BatchRunner).
pub fn data_loader<L: Loader<Uuid>>(loader: L, spawner: &BatchSpawner) -> DataLoader<L> {
    let spawner = spawner.clone();
    DataLoader::new(loader, move |batch| spawner.spawn(batch))
        .delay(BATCH_DELAY)
        .max_batch_size(MAX_BATCH_SIZE)
}

/// Group `(parent, child)` rows into the map a one-to-many loader returns, keeping row order.
pub fn group_by_parent<K: Eq + Hash, V, S: BuildHasher + Default>(
    rows: impl IntoIterator<Item = (K, V)>,
) -> HashMap<K, Vec<V>, S> {
    let mut groups: HashMap<K, Vec<V>, S> = HashMap::default();
    for (parent, child) in rows {
        groups.entry(parent).or_default().push(child);
    }
    groups
}
