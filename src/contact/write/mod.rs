//! Changing contacts: create (with nested addresses and contact points), update, delete,
//! upsert, patch, and making a contact shared. Every public function is one transaction, and
//! every role check of a contact write happens in this layer (in `access`), never in a
//! resolver.
//!
//! - `access`: finding the contact the caller may change, placing a contact at an owner.
//! - `create`, `update`, `delete`, `save`, `patch`: one mutation each.
//! - `nested`: the nested lists a create, update or save replaces.
//! - `password`: hashing an account password into the stored row.
//!
//! # Contact numbers
//!
//! A `CONFLICT` must only ever concern rows the caller may see, so contact numbers are unique
//! within one customer, not across all contacts (as Xero scopes them to one organisation):
//!
//! - A customer's number space holds its direct contacts and its account-level contacts
//!   (`customer_id` is the account's customer). Moving a contact or an account to another
//!   customer moves its number into that customer's space, where a taken number is a
//!   `CONFLICT`; the mover can see both customers.
//! - Shared contacts have no owner, and no number space: their numbers are compared with no
//!   other contact's, so two shared contacts, or a shared contact and an owned one, may carry
//!   the same number. Converting a direct contact to shared takes its number out of its
//!   former customer's space; linking and unlinking never look at numbers. No write that
//!   involves a shared contact can therefore answer `CONFLICT` about a number.
//! - `saveContact` matches a number within the owner's customer when the input names an
//!   owner, else among the contacts the caller can see (which must then hold that number
//!   once: more is a `CONFLICT` asking for the owner or the id).
//!
//! The per-customer unique index (`ux_contact_number_per_customer`) enforces it, so two
//! concurrent writers cannot both take a number.
//!
//! # Caps
//!
//! A contact holds at most [`MAX_CONTACT_POINTS_PER_CONTACT`] contact points and
//! [`MAX_ADDRESSES_PER_CONTACT`] addresses. Lists over a cap are refused before any SQL; where
//! the result depends on stored rows, they are counted inside the transaction with the contact
//! row locked, and only a write that grows a list past its cap is refused (a contact stored
//! over a cap before the caps existed may still shrink).
//!
//! [`MAX_CONTACT_POINTS_PER_CONTACT`]: crate::input::limits::MAX_CONTACT_POINTS_PER_CONTACT
//! [`MAX_ADDRESSES_PER_CONTACT`]: crate::input::limits::MAX_ADDRESSES_PER_CONTACT

use crate::input::{FieldPath, UserError};
use crate::write::UniqueKey;

mod access;
mod create;
mod delete;
mod nested;
mod password;
mod patch;
mod save;
mod update;

pub use create::create;
pub use delete::delete;
pub use patch::{AppliedItem, patch};
pub use save::save;
pub use update::{convert_to_shared, update};

/// Unique violations of a contact write, as user errors under `input`.
fn contact_conflict(input: &FieldPath) -> impl FnOnce(UniqueKey) -> Option<UserError> + '_ {
    move |key| match key {
        UniqueKey::ContactNumber => Some(UserError::conflict(
            &input.field("contactNumber"),
            "another contact of this customer has this contact number",
        )),
        UniqueKey::CustomerRole => Some(UserError::conflict(
            &input.field("role"),
            "the customer already has a contact with this role",
        )),
        UniqueKey::AccountRole => Some(UserError::conflict(
            &input.field("role"),
            "the account already has a contact with this role",
        )),
        _ => None,
    }
}
