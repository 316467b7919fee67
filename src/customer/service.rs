//! Reading customers within the caller's scope.

use entity::customer;
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

/// Filters of the `customers` list.
#[derive(Clone, Debug, Default)]
pub struct CustomerFilterParams {
    /// Name or customer number contains every term, ignoring case.
    pub search: Option<String>,
    /// Exact dealer code.
    pub dealer_code: Option<String>,
}

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

/// A page of the customers the caller may see.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: CustomerFilterParams,
    page: PageRequest,
) -> Result<RowPage<customer::Model>> {
    let mut select = customer::Entity::find().filter(scope.customer_condition());
    if let Some(search) = &filter.search {
        select = select.filter(matches_all_terms(
            db.get_database_backend(),
            search,
            &[customer::Column::Name, customer::Column::CustomerNumber],
        ));
    }
    if let Some(dealer_code) = filter.dealer_code {
        select = select.filter(customer::Column::DealerCode.eq(dealer_code));
    }
    fetch_page(db, select, customer::Column::Id, page).await
}

/// The customers among `ids` the caller may see (one statement, for loaders).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.customer_condition())
        .order_by_asc(customer::Column::Id)
        .all(db)
        .await?)
}

/// A customer to create, already validated.
#[derive(Clone, Debug)]
pub struct NewCustomer {
    /// Display name.
    pub name: String,
    /// Unique reference number.
    pub customer_number: Option<String>,
    /// Tax identifier.
    pub tax_id: Option<String>,
    /// Dealer code.
    pub dealer_code: Option<String>,
}

/// Changes to a customer: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct CustomerChanges {
    /// New name.
    pub name: Option<String>,
    /// New or cleared customer number.
    pub customer_number: Option<Option<String>>,
    /// New or cleared tax id.
    pub tax_id: Option<Option<String>>,
    /// New or cleared dealer code.
    pub dealer_code: Option<Option<String>>,
}

fn number_taken(input: &FieldPath) -> impl FnOnce(UniqueKey) -> Option<UserError> + '_ {
    move |key| {
        (key == UniqueKey::CustomerNumber).then(|| {
            UserError::conflict(
                &input.field("customerNumber"),
                "another customer has this customer number",
            )
        })
    }
}

/// Whether the caller's roles may ever create customers (ADMIN, SERVICE). Checked before the
/// input is validated, so a caller learns nothing about inputs it may not send.
pub fn authorize_create(principal: &Principal) -> Result<()> {
    principal.require_trusted("creating customers")
}

/// Whether the caller's roles may ever change customers (ADMIN, SERVICE, CUSTOMER).
pub fn authorize_update(principal: &Principal) -> Result<()> {
    principal.require_customer_editor()
}

/// Whether the caller's roles may set or clear customer numbers (ADMIN, SERVICE). Customer
/// numbers are unique across all customers, so a CUSTOMER choosing one could learn from a
/// `CONFLICT` that another tenant holds it; only callers who see every customer choose them.
pub fn authorize_set_number(principal: &Principal) -> Result<()> {
    principal.require_trusted("setting customerNumber")
}

/// Whether the caller's roles may ever delete customers (ADMIN, SERVICE).
pub fn authorize_delete(principal: &Principal) -> Result<()> {
    principal.require_trusted("deleting customers")
}

/// Create a customer (ADMIN and SERVICE).
#[tracing::instrument(skip(db, principal))]
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    new: NewCustomer,
) -> Result<customer::Model> {
    authorize_create(principal)?;
    let now = write::now();
    let model = customer::Model {
        id: write::new_id(),
        name: new.name,
        customer_number: new.customer_number,
        tax_id: new.tax_id,
        dealer_code: new.dealer_code,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
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

/// Update a customer (ADMIN, SERVICE, and CUSTOMER for its own customers; only ADMIN and
/// SERVICE change `customerNumber`).
#[tracing::instrument(skip(db, principal))]
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    changes: CustomerChanges,
    expected_version: Option<i32>,
) -> Result<customer::Model> {
    authorize_update(principal)?;
    if changes.customer_number.is_some() {
        authorize_set_number(principal)?;
    }
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    let current = find(&txn, &principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("id"), "customer"))?;
    let active = customer::ActiveModel {
        name: write::set_if(changes.name),
        customer_number: write::set_if(changes.customer_number),
        tax_id: write::set_if(changes.tax_id),
        dealer_code: write::set_if(changes.dealer_code),
        ..Default::default()
    };
    if active.is_changed() {
        write::update_versioned(
            &txn,
            write::VersionColumns {
                id: customer::Column::Id,
                version: customer::Column::Version,
                updated_at: customer::Column::UpdatedAt,
            },
            id,
            current.version,
            expected_version,
            active,
            &FieldPath::root("expectedVersion"),
        )
        .await
        .map_err(|error| match error {
            AppError::Database(db_error) => {
                write::conflict_or_db_error(db_error, number_taken(&input))
            }
            other => other,
        })?;
    } else {
        write::check_version(
            current.version,
            expected_version,
            &FieldPath::root("expectedVersion"),
        )?;
    }
    let updated = find(&txn, &Scope::everything(), id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    txn.commit().await?;
    Ok(updated)
}

/// Delete a customer with its accounts and its direct and account-level contacts (and their
/// contact points and addresses). Shared contacts survive; only their links go.
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    authorize_delete(principal)?;
    let txn = write::begin(db).await?;
    if find(&txn, &principal.scope, id).await?.is_none() {
        return Err(write::not_found(&FieldPath::root("id"), "customer"));
    }
    let addresses =
        crate::address::service::attached_to(&txn, entity::contact::Column::CustomerId.eq(id))
            .await?;
    // Foreign keys cascade to accounts, owned contacts, their children and the links.
    let deleted = customer::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "customer")?;
    crate::address::service::delete_orphans(&txn, addresses).await?;
    txn.commit().await?;
    Ok(id)
}
