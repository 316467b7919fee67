//! Reading accounts within the caller's scope.

use entity::account;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::input::AccountFilterParams;
use crate::auth::Scope;
use crate::db::{any_of, columns_with, rows_of};
use crate::error::Result;
use crate::ordering::Ordering;
use crate::paging::{KeysetPage, KeysetRequest, PageRequest, RowPage, fetch_keyset, fetch_page};
use crate::text_search::matches_all_terms;

/// One account, if it exists and the caller may see it.
#[tracing::instrument(skip(db))]
pub async fn find(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<account::Model>> {
    Ok(visible(scope, id).one(db).await?)
}

/// The query for row `id` if the caller may see it.
fn visible(scope: &Scope, id: Uuid) -> sea_orm::Select<account::Entity> {
    account::Entity::find_by_id(id).filter(scope.account_condition())
}

/// One account the caller may see, share-locked until the transaction ends, for a write that
/// points at it: a concurrent move or delete waits for this transaction instead of slipping
/// between our read and our insert (PostgreSQL `FOR SHARE`; SQLite's write transactions
/// are serialised already, and it has no row locks).
pub async fn find_for_reference(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<account::Model>> {
    Ok(visible(scope, id).lock_shared().one(db).await?)
}

/// A page of the accounts the caller may see, in `ordering`: the `columns` given, the others
/// left at their defaults.
#[tracing::instrument(skip(db, columns))]
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &AccountFilterParams,
    ordering: &Ordering,
    page: PageRequest,
    columns: &[account::Column],
) -> Result<RowPage<account::Model>> {
    fetch_page(db, filtered(db, scope, filter), ordering, page, columns).await
}

/// A keyset page of the accounts the caller may see, in `ordering` (`accountsConnection`).
#[tracing::instrument(skip(db))]
pub async fn connection(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &AccountFilterParams,
    ordering: &Ordering,
    page: &KeysetRequest,
) -> Result<KeysetPage<account::Model>> {
    fetch_keyset(db, filtered(db, scope, filter), ordering, page).await
}

/// The accounts the caller may see that pass `filter`.
fn filtered(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &AccountFilterParams,
) -> sea_orm::Select<account::Entity> {
    let mut select = account::Entity::find().filter(scope.account_condition());
    if let Some(customer_id) = filter.customer_id {
        select = select.filter(account::Column::CustomerId.eq(customer_id));
    }
    if let Some(status) = filter.status {
        select = select.filter(account::Column::Status.eq(status.as_db()));
    }
    if let Some(search) = &filter.search {
        select = select.filter(matches_all_terms(
            db.get_database_backend(),
            search,
            &[account::Column::Name, account::Column::AccountNumber],
        ));
    }
    select
}

/// The accounts among `ids` the caller may see (one statement, for loaders).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<account::Model>> {
    Ok(account::Entity::find()
        .filter(any_of(
            db.get_database_backend(),
            (account::Entity, account::Column::Id),
            ids,
        ))
        .filter(scope.account_condition())
        .all(db)
        .await?)
}

/// The accounts of the customers `customer_ids` the caller may see, oldest first: the
/// `columns` given (and the keys), the others left at their defaults.
#[tracing::instrument(skip(db, customer_ids, columns), fields(keys = customer_ids.len()))]
pub async fn of_customers(
    db: &impl ConnectionTrait,
    scope: &Scope,
    customer_ids: &[Uuid],
    max_rows: u64,
    columns: &[account::Column],
) -> Result<Vec<account::Model>> {
    let columns = columns_with(columns, &[account::Column::Id, account::Column::CustomerId]);
    let mut select = Query::select();
    select
        .columns(columns.iter().map(|column| (account::Entity, *column)))
        .from(account::Entity)
        .and_where(any_of(
            db.get_database_backend(),
            (account::Entity, account::Column::CustomerId),
            customer_ids,
        ))
        .cond_where(scope.account_condition())
        .limit(max_rows);
    let mut rows: Vec<account::Model> = rows_of(db, &select, &columns).await?;
    // Sorted here, not by an ORDER BY: with one, SQLite (and PostgreSQL's generic plan, whose
    // LIMIT is a parameter) may walk the primary key in order and filter every row, where
    // without one both read just these keys from the parent's index (BENCHMARKS.md).
    rows.sort_unstable_by_key(|row| row.id);
    Ok(rows)
}
