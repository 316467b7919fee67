//! Per-request DataLoaders. Each carries the caller's scope, so a loader can only ever return
//! rows that caller may see, and it lives exactly as long as one request: no cache is shared
//! between callers.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use async_graphql::Request;
use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::Scope;

/// How long a loader waits to gather keys before sending its one statement.
const BATCH_DELAY: Duration = Duration::from_millis(1);

/// Keys per statement. Large enough that a full page of nested data is one batch, small
/// enough to stay under SQLite's and PostgreSQL's bind-parameter limits.
const MAX_BATCH_SIZE: usize = 5_000;

/// What every loader needs: the pool and the caller's scope.
#[derive(Clone)]
pub struct LoaderContext {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The caller's read scope.
    pub scope: Scope,
}

fn install<L: Loader<Uuid>>(request: Request, loader: L) -> Request {
    request.data(
        DataLoader::new(loader, tokio::spawn)
            .delay(BATCH_DELAY)
            .max_batch_size(MAX_BATCH_SIZE),
    )
}

/// Attach a fresh set of loaders for this caller to a request.
pub fn attach(request: Request, context: LoaderContext) -> Request {
    use crate::{account, address, contact, contact_point, customer, shared_link};
    let request = install(request, customer::loader::CustomerById(context.clone()));
    let request = install(request, account::loader::AccountById(context.clone()));
    let request = install(
        request,
        account::loader::AccountsByCustomer(context.clone()),
    );
    let request = install(
        request,
        contact::loader::ContactsByCustomer(context.clone()),
    );
    let request = install(request, contact::loader::ContactsByAccount(context.clone()));
    let request = install(
        request,
        contact_point::loader::ContactPointsByContact(context.clone()),
    );
    let request = install(
        request,
        address::loader::AddressesByContact(context.clone()),
    );
    install(
        request,
        shared_link::loader::LinkedCustomersByContact(context),
    )
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
