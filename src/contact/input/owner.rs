//! Where a contact hangs, as an input names it: `customerId` / `accountId` read into an
//! owner (create, save) or a change of owner (update, patch).

use async_graphql::{ID, MaybeUndefined};
use uuid::Uuid;

use crate::input::{FieldPath, UserError, Validation, parse_uuid};

/// Who owns a contact, as named by an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerRef {
    /// Directly on this customer.
    Customer(Uuid),
    /// On this account.
    Account(Uuid),
    /// No owner: a shared contact.
    Shared,
}

/// A change of owner asked for by `updateContact`, `patchContact` or `saveContact`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OwnerChange {
    /// Keep the owner.
    #[default]
    Keep,
    /// Move to this owner (never `Shared`: that is `convertToSharedContact`), with the
    /// `customerId` given beside an `accountId`, which must be the account's customer.
    MoveTo(OwnerRef, Option<Uuid>),
    /// Make an account-level contact a direct contact of its own customer.
    DetachFromAccount,
}

/// Read `customerId` / `accountId` into an owner. With both, the account rules and the
/// customer must be its customer (checked by the write), so it is returned beside.
pub fn parse_owner(
    v: &mut Validation,
    path: &FieldPath,
    customer_id: Option<ID>,
    account_id: Option<ID>,
) -> (OwnerRef, Option<Uuid>) {
    let customer = customer_id.and_then(|id| v.check(&path.field("customerId"), parse_uuid(&id)));
    let account = account_id.and_then(|id| v.check(&path.field("accountId"), parse_uuid(&id)));
    match (customer, account) {
        (_, Some(account)) => (OwnerRef::Account(account), customer),
        (Some(customer), None) => (OwnerRef::Customer(customer), None),
        (None, None) => (OwnerRef::Shared, None),
    }
}

/// Read an update's `customerId` / `accountId` into an owner change.
pub fn owner_change(
    v: &mut Validation,
    input: &FieldPath,
    customer_id: MaybeUndefined<ID>,
    account_id: MaybeUndefined<ID>,
) -> OwnerChange {
    let mut id = |name: &str, raw: ID| v.check(&input.field(name), parse_uuid(&raw));
    match (customer_id, account_id) {
        (customer, MaybeUndefined::Value(account)) => {
            let hint = match customer {
                MaybeUndefined::Value(customer) => id("customerId", customer),
                _ => None,
            };
            match id("accountId", account) {
                Some(account) => OwnerChange::MoveTo(OwnerRef::Account(account), hint),
                None => OwnerChange::Keep,
            }
        }
        (MaybeUndefined::Value(customer), _) => match id("customerId", customer) {
            Some(customer) => OwnerChange::MoveTo(OwnerRef::Customer(customer), None),
            None => OwnerChange::Keep,
        },
        (MaybeUndefined::Null, _) => {
            v.push(UserError::invalid(
                &input.field("customerId"),
                "cannot be cleared: use convertToSharedContact to make a contact shared",
            ));
            OwnerChange::Keep
        }
        (MaybeUndefined::Undefined, MaybeUndefined::Null) => OwnerChange::DetachFromAccount,
        (MaybeUndefined::Undefined, MaybeUndefined::Undefined) => OwnerChange::Keep,
    }
}
