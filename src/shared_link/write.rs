//! Writing links between customers and shared contacts: link and unlink, each in one
//! transaction, and the link step `convertToSharedContact` shares. The role rule (who may
//! change links) is checked here.

use entity::{contact, shared_contact_link};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
};
use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::error::{AppError, FieldPath, Result, UserError};
use crate::history::journal::Journal;
use crate::write;

/// Link a shared contact to a customer; an existing link is left as it is. One statement,
/// so that two concurrent requests for the same pair cannot both insert.
pub async fn link(db: &impl ConnectionTrait, customer_id: Uuid, contact_id: Uuid) -> Result<()> {
    shared_contact_link::Entity::insert(
        shared_contact_link::Model {
            customer_id,
            contact_id,
            created_at: write::now(),
        }
        .into_active_model()
        .reset_all(),
    )
    .on_conflict(
        OnConflict::columns([
            shared_contact_link::Column::CustomerId,
            shared_contact_link::Column::ContactId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The customer and shared contact of a link change, checked for role and reach.
async fn link_parties(
    db: &impl ConnectionTrait,
    principal: &Principal,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<contact::Model> {
    principal.require_link_editor()?;
    crate::customer::service::find_for_reference(db, &principal.scope, customer_id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("customerId"), "customer"))?;
    // A trusted caller may link any shared contact; others only those they already see.
    let contact = crate::contact::service::find_for_reference(db, &principal.scope, contact_id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("contactId"), "contact"))?;
    if ContactLevel::of(&contact) != ContactLevel::Shared {
        return Err(AppError::UserErrors(vec![UserError::invalid(
            &FieldPath::root("contactId"),
            "only shared contacts can be linked to customers (see convertToSharedContact)",
        )]));
    }
    Ok(contact)
}

/// Link a shared contact to a customer. Linking twice is not an error and adds nothing.
#[tracing::instrument(skip(db, principal))]
pub async fn add_link(
    db: &DatabaseConnection,
    principal: &Principal,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let contact = link_parties(&txn, principal, customer_id, contact_id).await?;
    let mut journal = Journal::new(db, principal);
    journal.contact_fields(&txn, &contact).await?;
    link(&txn, customer_id, contact_id).await?;
    journal.commit(txn).await?;
    Ok(contact)
}

/// Unlink a shared contact from a customer. Unlinking what is not linked changes nothing.
#[tracing::instrument(skip(db, principal))]
pub async fn remove_link(
    db: &DatabaseConnection,
    principal: &Principal,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let contact = link_parties(&txn, principal, customer_id, contact_id).await?;
    let mut journal = Journal::new(db, principal);
    journal.contact_fields(&txn, &contact).await?;
    shared_contact_link::Entity::delete_by_id((customer_id, contact_id))
        .exec(&txn)
        .await?;
    journal.commit(txn).await?;
    Ok(contact)
}
