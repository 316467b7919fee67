//! `patchContact`: the contact's fields, then its contact point and address items in order,
//! in one transaction. Any failing item writes nothing, and its user errors point at it.

use entity::{contact, contact_address, contact_point};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::access::find_editable_for_update;
use super::update::{UpdatePaths, update_row};
use crate::address::write as address_write;
use crate::auth::Principal;
use crate::contact::input::{Patch, PatchAction, PatchEntity, PatchItem, PatchStep};
use crate::contact_point::service as contact_point_service;
use crate::contact_point::write as contact_point_write;
use crate::error::{AppError, Result};
use crate::history::journal::Journal;
use crate::input::FieldPath;
use crate::input::limits::CappedList;
use crate::write;

/// What one patch item did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedItem {
    /// The item's `patchClientId`; `None` for the contact's own fields.
    pub client_id: Option<String>,
    /// The kind of object.
    pub entity: PatchEntity,
    /// What happened to it.
    pub action: PatchAction,
    /// The object's id (for a creation, the new id).
    pub id: Uuid,
}

/// A contact point of `contact_id`, or `NOT_FOUND` at the item's id.
async fn own_point(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    id: Uuid,
    path: &FieldPath,
) -> Result<contact_point::Model> {
    contact_point::Entity::find_by_id(id)
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .one(db)
        .await?
        .ok_or_else(|| write::not_found(&path.field("id"), "contact point of this contact"))
}

/// Check that address `id` is attached to `contact_id`.
async fn own_address(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    id: Uuid,
    path: &FieldPath,
) -> Result<()> {
    contact_address::Entity::find_by_id((contact_id, id))
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| write::not_found(&path.field("id"), "address of this contact"))
}

async fn apply_step(
    db: &impl ConnectionTrait,
    principal: &Principal,
    contact_id: Uuid,
    step: PatchStep,
) -> Result<AppliedItem> {
    let PatchStep {
        client_id,
        path,
        item,
    } = step;
    // Items carry no `expectedVersion`: a version conflict here means another writer changed
    // the row between our read and our write, and it is reported at the item.
    let (entity, action, id) = match item {
        PatchItem::CreatePoint(new) => {
            let row = contact_point_write::insert(db, contact_id, &new).await?;
            (PatchEntity::ContactPoint, PatchAction::Created, row.id)
        }
        PatchItem::UpdatePoint(id, changes) => {
            let current = own_point(db, contact_id, id, &path).await?;
            contact_point_write::update_row(db, current, &changes, None, &path, &path).await?;
            (PatchEntity::ContactPoint, PatchAction::Updated, id)
        }
        PatchItem::DeletePoint(id) => {
            own_point(db, contact_id, id, &path).await?;
            contact_point_write::delete_row(db, id, &path.field("id")).await?;
            (PatchEntity::ContactPoint, PatchAction::Deleted, id)
        }
        PatchItem::CreateAddress(new, primary) => {
            let attached = address_write::insert_attached(db, contact_id, &new, primary).await?;
            (
                PatchEntity::Address,
                PatchAction::Created,
                attached.address.id,
            )
        }
        PatchItem::UpdateAddress(id, changes, primary) => {
            own_address(db, contact_id, id, &path).await?;
            let current =
                address_write::find_editable(db, principal, id, &path.field("id")).await?;
            address_write::update_row(db, current, &changes, None, &path).await?;
            if let Some(primary) = primary {
                address_write::link(db, contact_id, id, primary).await?;
            }
            (PatchEntity::Address, PatchAction::Updated, id)
        }
        PatchItem::DeleteAddress(id) => {
            own_address(db, contact_id, id, &path).await?;
            address_write::find_editable(db, principal, id, &path.field("id")).await?;
            let deleted = entity::address::Entity::delete_by_id(id).exec(db).await?;
            write::ensure_deleted(deleted, &path.field("id"), "address")?;
            (PatchEntity::Address, PatchAction::Deleted, id)
        }
        PatchItem::AttachAddress(id, primary) => {
            address_write::find_editable(db, principal, id, &path.field("id")).await?;
            address_write::link(db, contact_id, id, primary).await?;
            (PatchEntity::Address, PatchAction::Attached, id)
        }
        PatchItem::DetachAddress(id) => {
            address_write::detach_in(db, principal, contact_id, id, &path.field("id")).await?;
            (PatchEntity::Address, PatchAction::Detached, id)
        }
    };
    Ok(AppliedItem {
        client_id: Some(client_id),
        entity,
        action,
        id,
    })
}

/// Apply a validated patch to contact `id` in one transaction.
#[tracing::instrument(skip(db, principal, patch))]
pub async fn patch(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    patch: Patch,
    expected_version: Option<i32>,
) -> Result<(contact::Model, Vec<AppliedItem>)> {
    let txn = write::begin(db).await?;
    // Locked first: the caps are counted after the items apply, and a concurrent add must wait.
    let current = find_editable_for_update(&txn, principal, id, &FieldPath::root("id")).await?;
    let mut journal = Journal::new(db, principal);
    if patch.steps.is_empty() {
        journal.contact_fields(&txn, &current).await?;
    } else {
        journal.contact(&txn, id).await?;
    }
    let adds_points = patch.steps.iter().any(|step| step.item.adds_point());
    let adds_addresses = patch.steps.iter().any(|step| step.item.adds_address());
    let points_before = if adds_points {
        contact_point_service::count_of(&txn, id).await?
    } else {
        0
    };
    let addresses_before = if adds_addresses {
        crate::address::service::count_of(&txn, id).await?
    } else {
        0
    };
    let mut applied = Vec::with_capacity(patch.steps.len() + 1);
    match patch.contact {
        Some(changes) => {
            let path = FieldPath::root("patch").field("contact");
            update_row(
                &txn,
                principal,
                current,
                patch.owner,
                &changes,
                expected_version,
                &UpdatePaths {
                    input: path,
                    version: FieldPath::root("expectedVersion"),
                },
            )
            .await?;
            applied.push(AppliedItem {
                client_id: None,
                entity: PatchEntity::Contact,
                action: PatchAction::Updated,
                id,
            });
        }
        None => write::check_version(
            current.version,
            expected_version,
            &FieldPath::root("expectedVersion"),
        )?,
    }
    for step in patch.steps {
        applied.push(apply_step(&txn, principal, id, step).await?);
    }
    let root = FieldPath::root("patch");
    if adds_points {
        let after = contact_point_service::count_of(&txn, id).await?;
        CappedList::ContactPoints.check_growth(
            points_before,
            after,
            &root.field("contactPoints"),
        )?;
    }
    if adds_addresses {
        let after = crate::address::service::count_of(&txn, id).await?;
        CappedList::Addresses.check_growth(addresses_before, after, &root.field("addresses"))?;
    }
    let contact = contact::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("contact"))?;
    journal.commit(txn).await?;
    Ok((contact, applied))
}
