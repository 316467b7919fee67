//! Writing accounts: who may (checked once, before the input is read), then the create,
//! update (a move to another customer takes the account-level contacts along) and delete,
//! each in one transaction.

use entity::account;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::input::{AccountChanges, NewAccount};
use super::service::find;
use crate::auth::{Principal, Scope};
use crate::error::{AppError, FieldPath, Result, UserError};
use crate::history::journal::Journal;
use crate::history::snapshot;
use crate::ordering::sort_name;
use crate::write::{self, Cleared, UniqueKey};

/// Cleared to create accounts.
#[derive(Clone, Copy, Debug)]
pub struct Create(());

/// Cleared to change accounts.
#[derive(Clone, Copy, Debug)]
pub struct Update(());

/// Cleared to delete accounts.
#[derive(Clone, Copy, Debug)]
pub struct Delete(());

/// Whether the caller's roles may ever create accounts (ADMIN, SERVICE).
pub fn may_create(principal: &Principal) -> Result<Cleared<'_, Create>> {
    principal.require_trusted("creating accounts")?;
    Ok(Cleared {
        principal,
        op: Create(()),
    })
}

/// Whether the caller's roles may ever change accounts (ADMIN, SERVICE).
pub fn may_update(principal: &Principal) -> Result<Cleared<'_, Update>> {
    principal.require_trusted("changing accounts")?;
    Ok(Cleared {
        principal,
        op: Update(()),
    })
}

/// Whether the caller's roles may ever delete accounts (ADMIN, SERVICE).
pub fn may_delete(principal: &Principal) -> Result<Cleared<'_, Delete>> {
    principal.require_trusted("deleting accounts")?;
    Ok(Cleared {
        principal,
        op: Delete(()),
    })
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

/// Create an account for a customer within the caller's scope.
#[tracing::instrument(skip(db, caller))]
pub async fn create(
    db: &DatabaseConnection,
    caller: Cleared<'_, Create>,
    new: NewAccount,
) -> Result<account::Model> {
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    if crate::customer::service::find_for_reference(&txn, &caller.principal.scope, new.customer_id)
        .await?
        .is_none()
    {
        return Err(write::not_found(&input.field("customerId"), "customer"));
    }
    let now = write::now();
    let model = account::Model {
        id: write::new_id(),
        customer_id: new.customer_id,
        sort_name: sort_name(&new.name),
        name: new.name,
        account_number: new.account_number,
        status: new.status.as_db().to_owned(),
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
    let mut journal = Journal::new(db, caller.principal);
    journal.created_account(model.id);
    journal.commit(txn).await?;
    Ok(model)
}

/// Update an account within the caller's scope. Moving it to another customer moves its
/// account-level contacts along.
#[tracing::instrument(skip(db, caller))]
pub async fn update(
    db: &DatabaseConnection,
    caller: Cleared<'_, Update>,
    id: Uuid,
    changes: AccountChanges,
    expected_version: Option<i32>,
) -> Result<account::Model> {
    let scope = &caller.principal.scope;
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    let current = find(&txn, scope, id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("id"), "account"))?;
    if let Some(customer_id) = changes.customer_id
        && crate::customer::service::find_for_reference(&txn, scope, customer_id)
            .await?
            .is_none()
    {
        return Err(write::not_found(&input.field("customerId"), "customer"));
    }
    let moved_to = changes.customer_id.filter(|c| *c != current.customer_id);
    let mut journal = Journal::new(db, caller.principal);
    journal.account_from(&current);
    if moved_to.is_some() {
        journal
            .contacts(&txn, &snapshot::contacts_of_account(&txn, id).await?)
            .await?;
    }
    let active = account::ActiveModel {
        customer_id: write::set_if(moved_to),
        sort_name: write::set_if(changes.name.as_deref().map(sort_name)),
        name: write::set_if(changes.name),
        account_number: write::set_if(changes.account_number),
        status: write::set_if(changes.status.map(|status| status.as_db().to_owned())),
        ..Default::default()
    };
    let version_path = FieldPath::root("expectedVersion");
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
    journal.commit(txn).await?;
    Ok(updated)
}

/// Delete an account and its account-level contacts, within the caller's scope.
#[tracing::instrument(skip(db, caller))]
pub async fn delete(
    db: &DatabaseConnection,
    caller: Cleared<'_, Delete>,
    id: Uuid,
) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    let current = find(&txn, &caller.principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("id"), "account"))?;
    let mut journal = Journal::new(db, caller.principal);
    journal.account_from(&current);
    journal
        .contacts(&txn, &snapshot::contacts_of_account(&txn, id).await?)
        .await?;
    let addresses =
        crate::address::service::attached_to(&txn, entity::contact::Column::AccountId.eq(id))
            .await?;
    let deleted = account::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "account")?;
    crate::address::write::delete_orphans(&txn, addresses).await?;
    journal.commit(txn).await?;
    Ok(id)
}
