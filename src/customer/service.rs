//! Reading customers within the caller's scope.

use entity::customer;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::input::CustomerFilterParams;
use crate::auth::Scope;
use crate::db::any_of;
use crate::error::Result;
use crate::ordering::Ordering;
use crate::paging::{KeysetPage, KeysetRequest, PageRequest, RowPage, fetch_keyset, fetch_page};
use crate::text_search::matches_all_terms;

/// One customer, if it exists and the caller may see it.
#[tracing::instrument(skip(db))]
pub async fn find(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<customer::Model>> {
    Ok(visible(scope, id).one(db).await?)
}

/// The query for row `id` if the caller may see it.
fn visible(scope: &Scope, id: Uuid) -> sea_orm::Select<customer::Entity> {
    customer::Entity::find_by_id(id).filter(scope.customer_condition())
}

/// One customer the caller may see, share-locked until the transaction ends, for a write that
/// points at it: a concurrent delete waits for this transaction instead of slipping
/// between our read and our insert (PostgreSQL `FOR SHARE`; SQLite's write transactions
/// are serialised already, and it has no row locks).
pub async fn find_for_reference(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<customer::Model>> {
    Ok(visible(scope, id).lock_shared().one(db).await?)
}

/// A page of the customers the caller may see, in `ordering`: the `columns` given, the others
/// left at their defaults.
#[tracing::instrument(skip(db, columns))]
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &CustomerFilterParams,
    ordering: &Ordering,
    page: PageRequest,
    columns: &[customer::Column],
) -> Result<RowPage<customer::Model>> {
    fetch_page(db, filtered(db, scope, filter), ordering, page, columns).await
}

/// A keyset page of the customers the caller may see, in `ordering` (`customersConnection`).
#[tracing::instrument(skip(db))]
pub async fn connection(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &CustomerFilterParams,
    ordering: &Ordering,
    page: &KeysetRequest,
) -> Result<KeysetPage<customer::Model>> {
    fetch_keyset(db, filtered(db, scope, filter), ordering, page).await
}

/// The customers the caller may see that pass `filter`.
fn filtered(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &CustomerFilterParams,
) -> sea_orm::Select<customer::Entity> {
    let mut select = customer::Entity::find().filter(scope.customer_condition());
    if let Some(search) = &filter.search {
        select = select.filter(matches_all_terms(
            db.get_database_backend(),
            search,
            &[customer::Column::Name, customer::Column::CustomerNumber],
        ));
    }
    if let Some(dealer_code) = &filter.dealer_code {
        select = select.filter(customer::Column::DealerCode.eq(dealer_code.as_str()));
    }
    select
}

/// The customers among `ids` the caller may see (one statement, for loaders).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(any_of(
            db.get_database_backend(),
            (customer::Entity, customer::Column::Id),
            ids,
        ))
        .filter(scope.customer_condition())
        .order_by_asc(customer::Column::Id)
        .all(db)
        .await?)
}
