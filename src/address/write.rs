//! Writing addresses and their attachments to contacts: attach, detach, update and delete,
//! each in one transaction, and the row-level steps the contact writes share. The role rules
//! are checked here, on the contacts an address is attached to.

use entity::{address, contact_address};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::input::{AddressChanges, AttachTarget, NewAddress};
use super::service::{AttachedAddress, attached_to, count_of};
use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::error::{AppError, FieldPath, Result, UserError};
use crate::history::journal::Journal;
use crate::history::snapshot;
use crate::input::limits::CappedList;
use crate::write;

/// A new row for `new`.
fn new_row(new: &NewAddress) -> address::Model {
    let now = write::now();
    address::Model {
        id: write::new_id(),
        address_type: new.address_type.as_db().to_owned(),
        line1: new.line1.clone(),
        line2: new.line2.clone(),
        line3: new.line3.clone(),
        line4: new.line4.clone(),
        city: new.city.clone(),
        state_code: new.state.clone(),
        state_name: new.state_name.clone(),
        postal_code: new.postal_code.clone(),
        country: new.country.clone(),
        latitude: new.latitude,
        longitude: new.longitude,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Delete those of `candidates` that no contact uses any more. An address attached to no
/// contact is out of every caller's reach, so it is removed rather than left behind.
pub async fn delete_orphans(db: &impl ConnectionTrait, candidates: Vec<Uuid>) -> Result<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    address::Entity::delete_many()
        .filter(address::Column::Id.is_in(candidates))
        .filter(
            address::Column::Id.not_in_subquery(
                Query::select()
                    .column(contact_address::Column::AddressId)
                    .from(contact_address::Entity)
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Make `address_id` the contact's only primary address, or just attach it (or, when it is
/// attached already, set its primary flag).
pub async fn link(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    address_id: Uuid,
    is_primary: bool,
) -> Result<()> {
    if is_primary {
        contact_address::Entity::update_many()
            .col_expr(contact_address::Column::IsPrimary, Expr::value(false))
            .filter(contact_address::Column::ContactId.eq(contact_id))
            .filter(contact_address::Column::IsPrimary.eq(true))
            .exec(db)
            .await?;
    }
    // One statement, so that two concurrent attachments of the same pair cannot both insert.
    contact_address::Entity::insert(
        contact_address::Model {
            contact_id,
            address_id,
            is_primary,
            created_at: write::now(),
        }
        .into_active_model()
        .reset_all(),
    )
    .on_conflict(
        OnConflict::columns([
            contact_address::Column::ContactId,
            contact_address::Column::AddressId,
        ])
        .update_column(contact_address::Column::IsPrimary)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Insert `new` and attach it to `contact_id`.
pub async fn insert_attached(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    new: &NewAddress,
    is_primary: bool,
) -> Result<AttachedAddress> {
    let row = new_row(new);
    let id = row.id;
    row.clone()
        .into_active_model()
        .reset_all()
        .insert(db)
        .await?;
    link(db, contact_id, id, is_primary).await?;
    Ok(AttachedAddress {
        contact_id,
        is_primary,
        address: row,
    })
}

/// Detach every address of `contact_id` (primary or not, as `primary` says), deleting those
/// no other contact uses.
pub async fn detach_all(db: &impl ConnectionTrait, contact_id: Uuid, primary: bool) -> Result<()> {
    let ids = attached_to(db, entity::contact::Column::Id.eq(contact_id)).await?;
    contact_address::Entity::delete_many()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .filter(contact_address::Column::IsPrimary.eq(primary))
        .exec(db)
        .await?;
    delete_orphans(db, ids).await
}

/// The contact `contact_id` if the caller may change it.
async fn editable_contact(
    db: &impl ConnectionTrait,
    principal: &Principal,
    contact_id: Uuid,
    path: &FieldPath,
) -> Result<entity::contact::Model> {
    let contact = crate::contact::service::find_for_reference(db, &principal.scope, contact_id)
        .await?
        .ok_or_else(|| write::not_found(path, "contact"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    Ok(contact)
}

/// An address the caller may change: attached to at least one contact it can see, and its
/// role may change every such contact.
pub async fn find_editable(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    path: &FieldPath,
) -> Result<address::Model> {
    let attached: Vec<Uuid> = {
        use sea_orm::QuerySelect;
        contact_address::Entity::find()
            .select_only()
            .column(contact_address::Column::ContactId)
            .filter(contact_address::Column::AddressId.eq(id))
            .into_tuple()
            .all(db)
            .await?
    };
    let total = attached.len();
    let mut visible = 0;
    for contact_id in attached {
        if let Some(contact) =
            crate::contact::service::find(db, &principal.scope, contact_id).await?
        {
            principal.require_contact_editor(ContactLevel::of(&contact))?;
            visible += 1;
        }
    }
    if visible == 0 {
        return Err(write::not_found(path, "address"));
    }
    if visible < total {
        // Changing it would change contacts this caller cannot even see.
        return Err(AppError::Forbidden(
            "this address is also used by contacts outside your reach".into(),
        ));
    }
    address::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| write::not_found(path, "address"))
}

/// Apply `changes` to a stored address.
pub async fn update_row(
    db: &impl ConnectionTrait,
    current: address::Model,
    changes: &AddressChanges,
    expected_version: Option<i32>,
    version_path: &FieldPath,
) -> Result<address::Model> {
    let mut merged = current.clone();
    changes.apply(&mut merged);
    let active = address::ActiveModel {
        address_type: Set(merged.address_type),
        line1: Set(merged.line1),
        line2: Set(merged.line2),
        line3: Set(merged.line3),
        line4: Set(merged.line4),
        city: Set(merged.city),
        state_code: Set(merged.state_code),
        state_name: Set(merged.state_name),
        postal_code: Set(merged.postal_code),
        country: Set(merged.country),
        latitude: Set(merged.latitude),
        longitude: Set(merged.longitude),
        ..Default::default()
    };
    write::update_versioned(
        db,
        current.id,
        current.version,
        expected_version,
        active,
        version_path,
    )
    .await?;
    address::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("address"))
}

/// Attach an address to a contact, optionally as its primary address, unless the contact
/// would hold more than its cap (`TOO_MANY`; attaching an address already attached adds
/// none). The contact row is locked first, so concurrent attachments take turns.
#[tracing::instrument(skip(db, principal))]
pub async fn attach(
    db: &DatabaseConnection,
    principal: &Principal,
    contact_id: Uuid,
    target: AttachTarget,
    is_primary: bool,
) -> Result<AttachedAddress> {
    let contact_path = FieldPath::root("contactId");
    let txn = write::begin(db).await?;
    let contact = crate::contact::service::find_for_update(&txn, &principal.scope, contact_id)
        .await?
        .ok_or_else(|| write::not_found(&contact_path, "contact"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    let mut journal = Journal::new(db, principal);
    journal.contact(&txn, contact_id).await?;
    let before = count_of(&txn, contact_id).await?;
    let attached = match target {
        AttachTarget::Existing(address_id) => {
            let address =
                find_editable(&txn, principal, address_id, &FieldPath::root("addressId")).await?;
            link(&txn, contact_id, address_id, is_primary).await?;
            AttachedAddress {
                contact_id,
                is_primary,
                address,
            }
        }
        AttachTarget::New(new) => insert_attached(&txn, contact_id, &new, is_primary).await?,
    };
    let after = count_of(&txn, contact_id).await?;
    CappedList::Addresses.check_growth(before, after, &contact_path)?;
    journal.commit(txn).await?;
    Ok(attached)
}

/// Detach an address from a contact; an address no contact uses any more is deleted. Returns
/// the address as it is afterwards, or `None` when it was deleted.
#[tracing::instrument(skip(db, principal))]
pub async fn detach(
    db: &DatabaseConnection,
    principal: &Principal,
    contact_id: Uuid,
    address_id: Uuid,
) -> Result<Option<address::Model>> {
    let txn = write::begin(db).await?;
    let mut journal = Journal::new(db, principal);
    journal.contact(&txn, contact_id).await?;
    detach_in(
        &txn,
        principal,
        contact_id,
        address_id,
        &FieldPath::root("addressId"),
    )
    .await?;
    let remaining = address::Entity::find_by_id(address_id).one(&txn).await?;
    journal.commit(txn).await?;
    Ok(remaining)
}

/// Detach inside a transaction (also used by `patchContact`).
pub async fn detach_in(
    db: &impl ConnectionTrait,
    principal: &Principal,
    contact_id: Uuid,
    address_id: Uuid,
    path: &FieldPath,
) -> Result<()> {
    editable_contact(db, principal, contact_id, &FieldPath::root("contactId")).await?;
    let removed = contact_address::Entity::delete_many()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .filter(contact_address::Column::AddressId.eq(address_id))
        .exec(db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::UserErrors(vec![UserError::not_found(
            path,
            "address attached to this contact",
        )]));
    }
    delete_orphans(db, vec![address_id]).await
}

/// Change an address (for every contact it is attached to).
#[tracing::instrument(skip(db, principal))]
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    changes: AddressChanges,
    expected_version: Option<i32>,
) -> Result<address::Model> {
    let txn = write::begin(db).await?;
    let current = find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let mut journal = Journal::new(db, principal);
    journal
        .contacts(&txn, &snapshot::contacts_of_address(&txn, id).await?)
        .await?;
    let updated = update_row(
        &txn,
        current,
        &changes,
        expected_version,
        &FieldPath::root("expectedVersion"),
    )
    .await?;
    journal.commit(txn).await?;
    Ok(updated)
}

/// Delete an address (detaching it from every contact).
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let mut journal = Journal::new(db, principal);
    journal
        .contacts(&txn, &snapshot::contacts_of_address(&txn, id).await?)
        .await?;
    let deleted = address::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "address")?;
    journal.commit(txn).await?;
    Ok(id)
}
