//! Who may change which contact, and where: every role check of the contact writes. A
//! contact out of the caller's reach is `NOT_FOUND`; one its roles may not change is
//! `FORBIDDEN` (`crate::auth::access` holds the rules themselves).

use entity::contact;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::contact::input::OwnerRef;
use crate::contact::service;
use crate::error::{AppError, Result};
use crate::input::{FieldPath, UserError};
use crate::write;

fn level_of(owner: OwnerRef) -> ContactLevel {
    match owner {
        OwnerRef::Customer(_) => ContactLevel::Direct,
        OwnerRef::Account(_) => ContactLevel::Account,
        OwnerRef::Shared => ContactLevel::Shared,
    }
}

/// Check the caller's roles may change `contact` where it hangs (or would hang).
pub(super) fn require_editor(principal: &Principal, contact: &contact::Model) -> Result<()> {
    principal.require_contact_editor(ContactLevel::of(contact))
}

/// Check the caller may delete `contact`: a shared one, which other customers may use, needs
/// ADMIN or SERVICE. The caller may already change it ([`find_editable`]).
pub(super) fn require_deleter(principal: &Principal, contact: &contact::Model) -> Result<()> {
    if ContactLevel::of(contact) == ContactLevel::Shared {
        principal.require_shared_contact_owner("deleting a shared contact")?;
    }
    Ok(())
}

/// Check the caller may put a contact at `owner`, and return its `(customer_id, account_id)`.
pub(super) async fn resolve_owner(
    db: &impl ConnectionTrait,
    principal: &Principal,
    owner: OwnerRef,
    customer_hint: Option<Uuid>,
    input: &FieldPath,
) -> Result<(Option<Uuid>, Option<Uuid>)> {
    principal.require_contact_editor(level_of(owner))?;
    match owner {
        OwnerRef::Customer(customer_id) => {
            crate::customer::service::find_for_reference(db, &principal.scope, customer_id)
                .await?
                .ok_or_else(|| write::not_found(&input.field("customerId"), "customer"))?;
            Ok((Some(customer_id), None))
        }
        OwnerRef::Account(account_id) => {
            let account =
                crate::account::service::find_for_reference(db, &principal.scope, account_id)
                    .await?
                    .ok_or_else(|| write::not_found(&input.field("accountId"), "account"))?;
            if customer_hint.is_some_and(|customer| customer != account.customer_id) {
                return Err(AppError::UserErrors(vec![UserError::invalid(
                    &input.field("customerId"),
                    "is not the customer of the given account",
                )]));
            }
            Ok((Some(account.customer_id), Some(account_id)))
        }
        OwnerRef::Shared => {
            principal.require_shared_contact_owner("creating an unlinked shared contact")?;
            Ok((None, None))
        }
    }
}

/// Find a contact the caller may change, or `NOT_FOUND` at `path` / `FORBIDDEN`.
pub(super) async fn find_editable(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    path: &FieldPath,
) -> Result<contact::Model> {
    let contact = service::find(db, &principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(path, "contact"))?;
    require_editor(principal, &contact)?;
    Ok(contact)
}

/// [`find_editable`], with the contact row locked for update until the transaction ends: for
/// writes that count the contact's children against their caps.
pub(super) async fn find_editable_for_update(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    path: &FieldPath,
) -> Result<contact::Model> {
    let contact = service::find_for_update(db, &principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(path, "contact"))?;
    require_editor(principal, &contact)?;
    Ok(contact)
}
