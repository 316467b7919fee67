//! Reading contacts within the caller's scope.

use entity::{contact, shared_contact_link};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IntoSimpleExpr, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::input::ContactFilterParams;
use crate::auth::Scope;
use crate::db::{any_of, columns_with, rows_of};
use crate::error::Result;
use crate::ordering::Ordering;
use crate::paging::{KeysetPage, KeysetRequest, PageRequest, RowPage, fetch_keyset, fetch_page};
use crate::text_search::matches_all_terms;

/// One contact, if it exists and the caller may see it.
#[tracing::instrument(skip(db))]
pub async fn find(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<contact::Model>> {
    Ok(visible(scope, id).one(db).await?)
}

/// The query for row `id` if the caller may see it.
fn visible(scope: &Scope, id: Uuid) -> sea_orm::Select<contact::Entity> {
    contact::Entity::find_by_id(id).filter(scope.contact_condition())
}

/// One contact the caller may see, share-locked until the transaction ends, for a write that
/// points at it: a concurrent delete or change of owner waits for this transaction instead of slipping
/// between our read and our insert (PostgreSQL `FOR SHARE`; SQLite's write transactions
/// are serialised already, and it has no row locks).
pub async fn find_for_reference(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<contact::Model>> {
    Ok(visible(scope, id).lock_shared().one(db).await?)
}

/// One contact the caller may see, locked for update until the transaction ends, for a write
/// whose rule spans the contact's children: counting its contact points or addresses against
/// their cap. Concurrent writers to one contact take turns (PostgreSQL `FOR UPDATE`; SQLite's
/// write transactions are serialised already). Take it before any other lock on the contact:
/// upgrading a share lock two transactions hold would deadlock.
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<contact::Model>> {
    Ok(visible(scope, id).lock_exclusive().one(db).await?)
}

/// The contacts among `ids` the caller may see (one statement, for `nodes`).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<contact::Model>> {
    Ok(contact::Entity::find()
        .filter(any_of(
            db.get_database_backend(),
            (contact::Entity, contact::Column::Id),
            ids,
        ))
        .filter(scope.contact_condition())
        .all(db)
        .await?)
}

/// A page of the contacts the caller may see, in `ordering`: the `columns` given, the others
/// left at their defaults.
#[tracing::instrument(skip(db, columns))]
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ContactFilterParams,
    ordering: &Ordering,
    page: PageRequest,
    columns: &[contact::Column],
) -> Result<RowPage<contact::Model>> {
    fetch_page(db, filtered(db, scope, filter), ordering, page, columns).await
}

/// A keyset page of the contacts the caller may see, in `ordering` (`contactsConnection`).
#[tracing::instrument(skip(db))]
pub async fn connection(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ContactFilterParams,
    ordering: &Ordering,
    page: &KeysetRequest,
) -> Result<KeysetPage<contact::Model>> {
    fetch_keyset(db, filtered(db, scope, filter), ordering, page).await
}

/// The contacts the caller may see that pass `filter`.
fn filtered(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ContactFilterParams,
) -> sea_orm::Select<contact::Entity> {
    let mut select = contact::Entity::find().filter(scope.contact_condition());
    if let Some(customer_id) = filter.customer_id {
        select = select.filter(
            contact::Column::CustomerId
                .eq(customer_id)
                .or(contact::Column::Id.in_subquery(
                    Query::select()
                        .column(shared_contact_link::Column::ContactId)
                        .from(shared_contact_link::Entity)
                        .and_where(shared_contact_link::Column::CustomerId.eq(customer_id))
                        // A shared contact must not reveal its link to a customer the caller
                        // cannot see.
                        .cond_where(scope.visible_customer_id(
                            shared_contact_link::Column::CustomerId.into_simple_expr(),
                        ))
                        .to_owned(),
                )),
        );
    }
    if let Some(account_id) = filter.account_id {
        select = select.filter(contact::Column::AccountId.eq(account_id));
    }
    match filter.shared {
        Some(true) => {
            select = select
                .filter(contact::Column::CustomerId.is_null())
                .filter(contact::Column::AccountId.is_null());
        }
        Some(false) => select = select.filter(contact::Column::CustomerId.is_not_null()),
        None => {}
    }
    if let Some(dealer_code) = &filter.dealer_code {
        select = select.filter(contact::Column::DealerCode.eq(dealer_code.as_str()));
    }
    if let Some(status) = filter.status {
        select = select.filter(contact::Column::Status.eq(status));
    }
    if let Some(search) = &filter.search {
        select = select.filter(search_condition(db.get_database_backend(), search));
    }
    select
}

/// Contacts whose names or email hold every term of `search`. On PostgreSQL the trigram
/// index `ix_contact_search` answers it: its expression is built from these columns, in this
/// order.
pub fn search_condition(backend: DbBackend, search: &str) -> Condition {
    matches_all_terms(
        backend,
        search,
        &[
            contact::Column::FirstName,
            contact::Column::LastName,
            contact::Column::CompanyName,
            contact::Column::EmailAddress,
        ],
    )
}

/// Account-level contacts of `account_ids` the caller may see, oldest first: the `columns`
/// given (and the keys), the others left at their defaults.
#[tracing::instrument(skip(db, account_ids, columns), fields(keys = account_ids.len()))]
pub async fn of_accounts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    account_ids: &[Uuid],
    max_rows: u64,
    columns: &[contact::Column],
) -> Result<Vec<contact::Model>> {
    let columns = columns_with(columns, &[contact::Column::Id, contact::Column::AccountId]);
    let mut select = contact_columns(&columns);
    select
        .and_where(any_of(
            db.get_database_backend(),
            (contact::Entity, contact::Column::AccountId),
            account_ids,
        ))
        .cond_where(scope.contact_condition())
        .limit(max_rows);
    let mut rows: Vec<contact::Model> = rows_of(db, &select, &columns).await?;
    // Sorted here, not by an ORDER BY: with one, SQLite (and PostgreSQL's generic plan, whose
    // LIMIT is a parameter) may walk the primary key in order and filter every row, where
    // without one both read just these keys from the parent's index (BENCHMARKS.md).
    rows.sort_unstable_by_key(|row| row.id);
    Ok(rows)
}

/// The name of the extra column that carries the customer a row was found for.
const PARENT_COLUMN: &str = "parent_customer_id";

/// `SELECT columns FROM contact`. The password hash is never read: where it is asked for,
/// the row gets an empty string when there is one (all `hasAccountPassword` needs).
fn contact_columns(columns: &[contact::Column]) -> SelectStatement {
    let mut select = Query::select();
    for column in columns {
        if matches!(column, contact::Column::AccountPasswordHash) {
            select.expr(Expr::cust(
                "CASE WHEN \"contact\".\"account_password_hash\" IS NULL THEN NULL ELSE '' END",
            ));
        } else {
            select.column((contact::Entity, *column));
        }
    }
    select.from(contact::Entity).to_owned()
}

/// For each of `customer_ids`, its direct contacts plus the shared contacts linked to it
/// (`Customer.contacts`), as `(customer id, contact)` pairs, oldest contact first: the
/// `columns` given (and the id), the others left at their defaults.
/// One statement: a `UNION ALL` of the two, each side able to use its own index.
#[tracing::instrument(skip(db, customer_ids, columns), fields(keys = customer_ids.len()))]
pub async fn of_customers(
    db: &impl ConnectionTrait,
    scope: &Scope,
    customer_ids: &[Uuid],
    max_rows: u64,
    columns: &[contact::Column],
) -> Result<Vec<(Uuid, contact::Model)>> {
    let backend = db.get_database_backend();
    let columns = columns_with(columns, &[contact::Column::Id]);
    let direct = contact_columns(&columns)
        .expr_as(
            Expr::col((contact::Entity, contact::Column::CustomerId)),
            Alias::new(PARENT_COLUMN),
        )
        .and_where(any_of(
            backend,
            (contact::Entity, contact::Column::CustomerId),
            customer_ids,
        ))
        .and_where(contact::Column::AccountId.is_null())
        .cond_where(scope.contact_condition())
        .to_owned();
    let shared = contact_columns(&columns)
        .expr_as(
            Expr::col((
                shared_contact_link::Entity,
                shared_contact_link::Column::CustomerId,
            )),
            Alias::new(PARENT_COLUMN),
        )
        .inner_join(
            shared_contact_link::Entity,
            Expr::col((
                shared_contact_link::Entity,
                shared_contact_link::Column::ContactId,
            ))
            .equals((contact::Entity, contact::Column::Id)),
        )
        .and_where(any_of(
            backend,
            (
                shared_contact_link::Entity,
                shared_contact_link::Column::CustomerId,
            ),
            customer_ids,
        ))
        .cond_where(scope.contact_condition())
        .to_owned();
    let statement = direct
        .clone()
        .union(UnionType::All, shared)
        .limit(max_rows)
        .to_owned();

    let rows = db.query_all(&statement).await?;
    // Sized once, as `db::rows_of` does.
    let mut pairs = Vec::with_capacity(rows.len());
    for row in &rows {
        let parent: Uuid = row.try_get_by_index(columns.len())?;
        pairs.push((parent, contact::Model::from_columns(row, &columns)?));
    }
    pairs.sort_by_key(|(_, contact)| contact.id);
    Ok(pairs)
}
