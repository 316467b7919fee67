//! Writing customers: who may (checked once, before the input is read), then the create,
//! update and delete, each in one transaction.

use entity::customer;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel};
use uuid::Uuid;

use super::input::{CustomerChanges, NewCustomer};
use super::service::find;
use crate::auth::{Principal, Scope};
use crate::error::{AppError, FieldPath, Result, UserError};
use crate::history::journal::Journal;
use crate::history::snapshot;
use crate::ordering::sort_name;
use crate::write::{self, Cleared, UniqueKey};

/// Cleared to create customers.
#[derive(Clone, Copy, Debug)]
pub struct Create(());

/// Cleared to change customers, and their customer numbers when `sets_number`.
#[derive(Clone, Copy, Debug)]
pub struct Update {
    sets_number: bool,
}

/// Cleared to delete customers.
#[derive(Clone, Copy, Debug)]
pub struct Delete(());

/// Whether the caller's roles may ever create customers (ADMIN, SERVICE).
pub fn may_create(principal: &Principal) -> Result<Cleared<'_, Create>> {
    principal.require_trusted("creating customers")?;
    Ok(Cleared {
        principal,
        op: Create(()),
    })
}

/// Whether the caller's roles may ever change customers (ADMIN, SERVICE, CUSTOMER), and, when
/// the change `sets_number`, set or clear customer numbers (ADMIN, SERVICE). Customer numbers
/// are unique across all customers, so a CUSTOMER choosing one could learn from a `CONFLICT`
/// that another tenant holds it; only callers who see every customer choose them.
pub fn may_update(principal: &Principal, sets_number: bool) -> Result<Cleared<'_, Update>> {
    principal.require_customer_editor()?;
    if sets_number {
        principal.require_trusted("setting customerNumber")?;
    }
    Ok(Cleared {
        principal,
        op: Update { sets_number },
    })
}

/// Whether the caller's roles may ever delete customers (ADMIN, SERVICE).
pub fn may_delete(principal: &Principal) -> Result<Cleared<'_, Delete>> {
    principal.require_trusted("deleting customers")?;
    Ok(Cleared {
        principal,
        op: Delete(()),
    })
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

/// Create a customer.
#[tracing::instrument(skip(db, caller))]
pub async fn create(
    db: &DatabaseConnection,
    caller: Cleared<'_, Create>,
    new: NewCustomer,
) -> Result<customer::Model> {
    let now = write::now();
    let model = customer::Model {
        id: write::new_id(),
        sort_name: sort_name(&new.name),
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
    let mut journal = Journal::new(db, caller.principal);
    journal.created_customer(model.id);
    journal.commit(txn).await?;
    Ok(model)
}

/// Update a customer within the caller's scope.
#[tracing::instrument(skip(db, caller))]
pub async fn update(
    db: &DatabaseConnection,
    caller: Cleared<'_, Update>,
    id: Uuid,
    changes: CustomerChanges,
    expected_version: Option<i32>,
) -> Result<customer::Model> {
    if changes.customer_number.is_some() && !caller.op.sets_number {
        // The resolver clears the caller for what its input touches: a bug, not a client's.
        return Err(AppError::internal(
            "customerNumber changed by a caller not cleared to set it",
        ));
    }
    let input = FieldPath::root("input");
    let version_path = FieldPath::root("expectedVersion");
    let txn = write::begin(db).await?;
    let current = find(&txn, &caller.principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("id"), "customer"))?;
    let mut journal = Journal::new(db, caller.principal);
    journal.customer_from(&current);
    let active = customer::ActiveModel {
        sort_name: write::set_if(changes.name.as_deref().map(sort_name)),
        name: write::set_if(changes.name),
        customer_number: write::set_if(changes.customer_number),
        tax_id: write::set_if(changes.tax_id),
        dealer_code: write::set_if(changes.dealer_code),
        ..Default::default()
    };
    if active.is_changed() {
        write::update_versioned(
            &txn,
            id,
            current.version,
            expected_version,
            active,
            &version_path,
        )
        .await
        .map_err(|error| match error {
            AppError::Database(db_error) => {
                write::conflict_or_db_error(db_error, number_taken(&input))
            }
            other => other,
        })?;
    } else {
        write::check_version(current.version, expected_version, &version_path)?;
    }
    let updated = find(&txn, &Scope::everything(), id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    journal.commit(txn).await?;
    Ok(updated)
}

/// Delete a customer with its accounts and its direct and account-level contacts (and their
/// contact points and addresses). Shared contacts survive; only their links go.
#[tracing::instrument(skip(db, caller))]
pub async fn delete(
    db: &DatabaseConnection,
    caller: Cleared<'_, Delete>,
    id: Uuid,
) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    let current = find(&txn, &caller.principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("id"), "customer"))?;
    let mut journal = Journal::new(db, caller.principal);
    journal.customer_from(&current);
    journal
        .accounts(&txn, &snapshot::accounts_of_customer(&txn, id).await?)
        .await?;
    journal
        .contacts(&txn, &snapshot::contacts_of_customer(&txn, id).await?)
        .await?;
    let addresses =
        crate::address::service::attached_to(&txn, entity::contact::Column::CustomerId.eq(id))
            .await?;
    // Foreign keys cascade to accounts, owned contacts, their children and the links.
    let deleted = customer::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "customer")?;
    crate::address::write::delete_orphans(&txn, addresses).await?;
    journal.commit(txn).await?;
    Ok(id)
}
