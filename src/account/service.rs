//! Reading accounts within the caller's scope.

use entity::account;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::auth::{Principal, Scope};
use crate::error::{AppError, Result};
use crate::input::{FieldPath, UserError};
use crate::paging::{PageRequest, RowPage, fetch_page};
use crate::text_search::matches_all_terms;
use crate::write::{self, UniqueKey};

/// Filters of the `accounts` list.
#[derive(Clone, Debug, Default)]
pub struct AccountFilterParams {
    /// Accounts of this customer.
    pub customer_id: Option<Uuid>,
    /// Stored status value.
    pub status: Option<&'static str>,
    /// Name or account number contains every term, ignoring case.
    pub search: Option<String>,
}

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

/// A page of the accounts the caller may see.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: AccountFilterParams,
    page: PageRequest,
) -> Result<RowPage<account::Model>> {
    let mut select = account::Entity::find().filter(scope.account_condition());
    if let Some(customer_id) = filter.customer_id {
        select = select.filter(account::Column::CustomerId.eq(customer_id));
    }
    if let Some(status) = filter.status {
        select = select.filter(account::Column::Status.eq(status));
    }
    if let Some(search) = &filter.search {
        select = select.filter(matches_all_terms(
            db.get_database_backend(),
            search,
            &[account::Column::Name, account::Column::AccountNumber],
        ));
    }
    fetch_page(db, select, account::Column::Id, page).await
}

/// The accounts among `ids` the caller may see (one statement, for loaders).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.account_condition())
        .all(db)
        .await?)
}

/// The accounts of the customers `customer_ids` the caller may see, oldest first.
#[tracing::instrument(skip(db, customer_ids), fields(keys = customer_ids.len()))]
pub async fn of_customers(
    db: &impl ConnectionTrait,
    scope: &Scope,
    customer_ids: &[Uuid],
    max_rows: u64,
) -> Result<Vec<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .filter(scope.account_condition())
        .order_by_asc(account::Column::Id)
        .limit(max_rows)
        .all(db)
        .await?)
}

/// An account to create, already validated.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The customer that holds it.
    pub customer_id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique reference number.
    pub account_number: Option<String>,
    /// Stored status.
    pub status: &'static str,
}

/// Changes to an account: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct AccountChanges {
    /// Move the account to another customer.
    pub customer_id: Option<Uuid>,
    /// New name.
    pub name: Option<String>,
    /// New or cleared account number.
    pub account_number: Option<Option<String>>,
    /// New status.
    pub status: Option<&'static str>,
}

fn number_taken(input: &FieldPath) -> impl FnOnce(UniqueKey) -> Option<UserError> + '_ {
    move |key| {
        (key == UniqueKey::AccountNumber).then(|| {
            UserError::conflict(
                &input.field("accountNumber"),
                "another account has this account number",
            )
        })
    }
}

fn contact_number_taken(input: &FieldPath) -> impl FnOnce(UniqueKey) -> Option<UserError> + '_ {
    move |key| {
        (key == UniqueKey::ContactNumber).then(|| {
            UserError::conflict(
                &input.field("customerId"),
                "a contact of this account has a contact number that a contact of the new \
                 customer already has",
            )
        })
    }
}

/// Whether the caller's roles may ever create accounts (ADMIN, SERVICE). Checked before the
/// input is validated, so a caller learns nothing about inputs it may not send.
pub fn authorize_create(principal: &Principal) -> Result<()> {
    principal.require_trusted("creating accounts")
}

/// Whether the caller's roles may ever change accounts (ADMIN, SERVICE).
pub fn authorize_update(principal: &Principal) -> Result<()> {
    principal.require_trusted("changing accounts")
}

/// Whether the caller's roles may ever delete accounts (ADMIN, SERVICE).
pub fn authorize_delete(principal: &Principal) -> Result<()> {
    principal.require_trusted("deleting accounts")
}

/// Create an account for a customer (ADMIN, SERVICE).
#[tracing::instrument(skip(db, principal))]
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    new: NewAccount,
) -> Result<account::Model> {
    authorize_create(principal)?;
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    if crate::customer::service::find_for_reference(&txn, &principal.scope, new.customer_id)
        .await?
        .is_none()
    {
        return Err(write::not_found(&input.field("customerId"), "customer"));
    }
    let now = write::now();
    let model = account::Model {
        id: write::new_id(),
        customer_id: new.customer_id,
        name: new.name,
        account_number: new.account_number,
        status: new.status.to_owned(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    model
        .clone()
        .into_active_model()
        .reset_all()
        .insert(&txn)
        .await
        .map_err(|e| write::conflict_or_db_error(e, number_taken(&input)))?;
    txn.commit().await?;
    Ok(model)
}

/// Update an account (ADMIN, SERVICE). Moving it to another customer moves its
/// account-level contacts along.
#[tracing::instrument(skip(db, principal))]
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    changes: AccountChanges,
    expected_version: Option<i32>,
) -> Result<account::Model> {
    authorize_update(principal)?;
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    let current = find(&txn, &principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("id"), "account"))?;
    if let Some(customer_id) = changes.customer_id
        && crate::customer::service::find_for_reference(&txn, &principal.scope, customer_id)
            .await?
            .is_none()
    {
        return Err(write::not_found(&input.field("customerId"), "customer"));
    }
    let active = account::ActiveModel {
        customer_id: write::set_if(changes.customer_id.filter(|c| *c != current.customer_id)),
        name: write::set_if(changes.name),
        account_number: write::set_if(changes.account_number),
        status: write::set_if(changes.status.map(str::to_owned)),
        ..Default::default()
    };
    let version_path = FieldPath::root("expectedVersion");
    if active.is_changed() {
        let moved_to = changes.customer_id.filter(|c| *c != current.customer_id);
        write::update_versioned(
            &txn,
            write::VersionColumns {
                id: account::Column::Id,
                version: account::Column::Version,
                updated_at: account::Column::UpdatedAt,
            },
            id,
            current.version,
            expected_version,
            active,
            &version_path,
        )
        .await
        .map_err(|error| match error {
            AppError::Database(e) => write::conflict_or_db_error(e, number_taken(&input)),
            other => other,
        })?;
        if let Some(customer_id) = moved_to {
            // Account-level contacts carry their account's customer, and so move into its
            // contact numbers: one already taken there is a conflict (this caller sees both
            // customers).
            entity::contact::Entity::update_many()
                .col_expr(
                    entity::contact::Column::CustomerId,
                    sea_orm::sea_query::Expr::value(customer_id),
                )
                .filter(entity::contact::Column::AccountId.eq(id))
                .exec(&txn)
                .await
                .map_err(|e| write::conflict_or_db_error(e, contact_number_taken(&input)))?;
        }
    } else {
        write::check_version(current.version, expected_version, &version_path)?;
    }
    let updated = find(&txn, &Scope::everything(), id)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    txn.commit().await?;
    Ok(updated)
}

/// Delete an account and its account-level contacts (ADMIN, SERVICE).
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    authorize_delete(principal)?;
    let txn = write::begin(db).await?;
    if find(&txn, &principal.scope, id).await?.is_none() {
        return Err(write::not_found(&FieldPath::root("id"), "account"));
    }
    let addresses =
        crate::address::service::attached_to(&txn, entity::contact::Column::AccountId.eq(id))
            .await?;
    let deleted = account::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "account")?;
    crate::address::service::delete_orphans(&txn, addresses).await?;
    txn.commit().await?;
    Ok(id)
}
