//! Changing a stored contact: its fields and owner (`updateContact`, and the contact part of
//! `saveContact` and `patchContact`), and making it shared (`convertToSharedContact`).

use entity::contact;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::access::{find_editable, require_editor, resolve_owner};
use super::contact_conflict;
use super::nested::write_nested;
use super::password::columns_of;
use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::contact::input::{ContactChanges, ContactUpdate, OwnerChange};
use crate::error::{AppError, Result};
use crate::history::journal::Journal;
use crate::input::{FieldPath, UserError};
use crate::write;

/// The columns of `contact` that `update_versioned` sets itself, or that never change.
const FIXED_COLUMNS: [contact::Column; 4] = [
    contact::Column::Id,
    contact::Column::CreatedAt,
    contact::Column::UpdatedAt,
    contact::Column::Version,
];

/// Where the arguments of a contact update sit, for user error paths.
pub(super) struct UpdatePaths {
    /// The contact fields (`["input"]`, `["patch", "contact"]`).
    pub input: FieldPath,
    /// The version argument.
    pub version: FieldPath,
}

/// Update a stored contact inside a transaction: owner, fields, version. Every column is
/// written from the merged contact, so the stored row is the one the subtype rules were
/// checked on.
pub(super) async fn update_row(
    db: &impl ConnectionTrait,
    principal: &Principal,
    current: contact::Model,
    owner: OwnerChange,
    changes: &ContactChanges,
    expected_version: Option<i32>,
    paths: &UpdatePaths,
) -> Result<contact::Model> {
    let (input, version_path) = (&paths.input, &paths.version);
    let (id, version) = (current.id, current.version);
    let mut moved = current;
    match owner {
        OwnerChange::Keep => {}
        _ if ContactLevel::of(&moved) == ContactLevel::Shared => {
            return Err(AppError::UserErrors(vec![UserError::invalid(
                &input.field("customerId"),
                "a shared contact has no owner: link it to customers with addSharedContact",
            )]));
        }
        OwnerChange::DetachFromAccount => moved.account_id = None,
        OwnerChange::MoveTo(owner, hint) => {
            let (customer_id, account_id) =
                resolve_owner(db, principal, owner, hint, input).await?;
            moved.customer_id = customer_id;
            moved.account_id = account_id;
        }
    }
    require_editor(principal, &moved)?;
    let draft = changes.onto(moved, input)?;
    let mut columns = columns_of(draft).await?.reset_all();
    for column in FIXED_COLUMNS {
        columns.not_set(column);
    }
    write::update_versioned(db, id, version, expected_version, columns, version_path)
        .await
        .map_err(|error| match error {
            AppError::Database(e) => write::conflict_or_db_error(e, contact_conflict(input)),
            other => other,
        })?;
    contact::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("contact"))
}

/// Update a contact: only the fields given change; nested lists given replace the stored
/// ones.
#[tracing::instrument(skip(db, principal, update), fields(owner = ?update.owner))]
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    update: ContactUpdate,
    expected_version: Option<i32>,
) -> Result<contact::Model> {
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    let current = find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let mut journal = Journal::new(db, principal);
    if update.nested.is_empty() {
        journal.contact_fields(&txn, &current).await?;
    } else {
        journal.contact(&txn, id).await?;
    }
    let updated = update_row(
        &txn,
        principal,
        current,
        update.owner,
        &update.changes,
        expected_version,
        &UpdatePaths {
            input: input.clone(),
            version: FieldPath::root("expectedVersion"),
        },
    )
    .await?;
    write_nested(&txn, id, &update.nested, &input, true).await?;
    journal.commit(txn).await?;
    Ok(updated)
}

/// Make a direct contact shared: it loses its owner and stays linked to its former customer.
#[tracing::instrument(skip(db, principal))]
pub async fn convert_to_shared(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<contact::Model> {
    let path = FieldPath::root("id");
    let txn = write::begin(db).await?;
    let contact = find_editable(&txn, principal, id, &path).await?;
    let mut journal = Journal::new(db, principal);
    journal.contact_fields(&txn, &contact).await?;
    let customer_id = match (ContactLevel::of(&contact), contact.customer_id) {
        (ContactLevel::Direct, Some(customer_id)) => customer_id,
        (ContactLevel::Account, _) => {
            return Err(AppError::UserErrors(vec![UserError::invalid(
                &path,
                "an account-level contact cannot become shared: only direct contacts can",
            )]));
        }
        _ => {
            return Err(AppError::UserErrors(vec![UserError::invalid(
                &path,
                "the contact is already shared",
            )]));
        }
    };
    let active = contact::ActiveModel {
        customer_id: Set(None),
        ..Default::default()
    };
    write::update_versioned(&txn, id, contact.version, None, active, &path).await?;
    crate::shared_link::write::link(&txn, customer_id, id).await?;
    let converted = contact::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("contact"))?;
    journal.commit(txn).await?;
    Ok(converted)
}
