//! Changing addresses and their attachments to contacts.

use entity::{address, contact_address};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::input::AddressChanges;
use super::service::{AttachedAddress, delete_orphans};
use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::error::{AppError, Result};
use crate::input::limits::CappedList;
use crate::input::{FieldPath, UserError, Validation};
use crate::write;

/// A new address row from parsed (and complete) input.
pub fn build_new(changes: &AddressChanges) -> address::Model {
    let now = write::now();
    let mut row = address::Model {
        id: write::new_id(),
        address_type: "STREET".to_owned(),
        line1: String::new(),
        line2: None,
        line3: None,
        line4: None,
        city: String::new(),
        state_code: String::new(),
        state_name: None,
        postal_code: String::new(),
        country: None,
        latitude: None,
        longitude: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    changes.apply(&mut row);
    row
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

/// Insert `row` and attach it to `contact_id`.
pub async fn insert_attached(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    row: address::Model,
    is_primary: bool,
) -> Result<AttachedAddress> {
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
    let ids = super::service::attached_to(db, entity::contact::Column::Id.eq(contact_id)).await?;
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
        write::VersionColumns {
            id: address::Column::Id,
            version: address::Column::Version,
            updated_at: address::Column::UpdatedAt,
        },
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

/// What `attachAddress` attaches: an existing address, or a new one.
#[derive(Debug)]
pub enum AttachTarget {
    /// An address already attached to another contact the caller may change.
    Existing(Uuid),
    /// A new address.
    New(Box<AddressChanges>),
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
    let before = super::service::count_of(&txn, contact_id).await?;
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
        AttachTarget::New(changes) => {
            let mut v = Validation::default();
            changes.check_complete(&mut v, &FieldPath::root("input"));
            v.finish()?;
            insert_attached(&txn, contact_id, build_new(&changes), is_primary).await?
        }
    };
    let after = super::service::count_of(&txn, contact_id).await?;
    CappedList::Addresses.check_growth(before, after, &contact_path)?;
    txn.commit().await?;
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
    detach_in(
        &txn,
        principal,
        contact_id,
        address_id,
        &FieldPath::root("addressId"),
    )
    .await?;
    let remaining = address::Entity::find_by_id(address_id).one(&txn).await?;
    txn.commit().await?;
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
    let updated = update_row(
        &txn,
        current,
        &changes,
        expected_version,
        &FieldPath::root("expectedVersion"),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Delete an address (detaching it from every contact).
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let deleted = address::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "address")?;
    txn.commit().await?;
    Ok(id)
}
