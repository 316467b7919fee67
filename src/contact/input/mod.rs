//! Contact inputs, parsed into the validated values the service and the writes take: the
//! list filter, a [`NewContact`]
//! (`createContact`), a [`ContactUpdate`] (`updateContact`), a [`SaveRequest`]
//! (`saveContact`) and a [`Patch`] (`patchContact`). Also the contact enums, which inputs and
//! the `Contact` type share.
//!
//! - `filter`: the `contacts` list filter.
//! - `fields`: a contact's own fields, and the subtype rules.
//! - `owner`: `customerId` / `accountId`.
//! - `nested`: the nested address and contact point lists.
//! - `patch`: the items of `patchContact`.

use async_graphql::{ID, InputObject, MaybeUndefined};
use uuid::Uuid;

use crate::address::input::AddressInput;
use crate::contact_point::input::ContactPointInput;
use crate::error::Result;
use crate::input::{FieldPath, Validation, parse_uuid};

mod enums;
mod fields;
mod filter;
mod nested;
mod owner;
mod patch;

pub use enums::{ContactRole, ContactStatus, ContactSubtype};
pub use fields::{ContactChanges, ContactDraft, ContactFields, NameKey, display_name};
pub use filter::{ContactFilter, ContactFilterParams};
pub use nested::NestedInput;
pub use owner::{OwnerChange, OwnerRef};
pub use patch::{
    AddressPatchInput, ContactPatchInput, ContactPointPatchInput, Patch, PatchAction, PatchEntity,
    PatchItem, PatchStep, PatchType,
};

/// A new contact: its owner, fields, and nested address and contact point inputs.
#[derive(InputObject)]
pub struct CreateContactInput {
    /// The customer the contact belongs to directly.
    pub customer_id: Option<ID>,
    /// The account the contact belongs to (its customer is the account's). Neither this nor
    /// `customerId`: a shared contact.
    pub account_id: Option<ID>,
    /// The contact's fields; `subtype` is required.
    #[graphql(flatten)]
    pub fields: ContactFields,
    /// The contact's primary address.
    pub primary_address: Option<AddressInput>,
    /// Further addresses (a contact holds at most 20, the primary one included).
    pub addresses: Option<Vec<AddressInput>>,
    /// Phones, emails, websites... (at most 50).
    pub contact_points: Option<Vec<ContactPointInput>>,
}

/// `createContact`'s input, parsed.
#[derive(Debug)]
pub struct NewContact {
    /// Where the contact will hang.
    pub owner: OwnerRef,
    /// `customerId` given beside `accountId`: it must be the account's customer.
    pub customer_hint: Option<Uuid>,
    /// The contact's fields.
    pub draft: ContactDraft,
    /// Its nested lists.
    pub nested: NestedInput,
}

impl CreateContactInput {
    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<NewContact> {
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let (owner, customer_hint) =
            owner::parse_owner(&mut v, &path, self.customer_id, self.account_id);
        let draft = self.fields.parse(&mut v, &path).new_contact(&mut v, &path);
        let nested = nested::parse_nested(
            &mut v,
            &path,
            self.primary_address,
            self.addresses,
            self.contact_points,
        );
        Ok(NewContact {
            owner,
            customer_hint,
            draft: fields::finish(v, draft)?,
            nested,
        })
    }
}

/// Changes to a contact. Giving `accountId` moves it to that account; giving `customerId`
/// (and `accountId: null`) makes it a direct contact of that customer.
#[derive(InputObject)]
pub struct UpdateContactInput {
    /// Make the contact a direct contact of this customer.
    pub customer_id: MaybeUndefined<ID>,
    /// Move the contact to this account; `null` makes it a direct contact of its customer.
    pub account_id: MaybeUndefined<ID>,
    /// The fields to change.
    #[graphql(flatten)]
    pub fields: ContactFields,
    /// A new primary address, replacing the stored one. Not in `patchContact` (use its
    /// `addresses` items).
    pub primary_address: Option<AddressInput>,
    /// New further addresses, replacing the stored non-primary ones (at most 20 with the
    /// primary one). Not in `patchContact`.
    pub addresses: Option<Vec<AddressInput>>,
    /// New contact points, replacing the stored ones (at most 50). Not in `patchContact`.
    pub contact_points: Option<Vec<ContactPointInput>>,
}

/// `updateContact`'s input, parsed.
#[derive(Debug)]
pub struct ContactUpdate {
    /// The change of owner asked for.
    pub owner: OwnerChange,
    /// The fields to change.
    pub changes: ContactChanges,
    /// Lists that replace the stored ones.
    pub nested: NestedInput,
}

impl UpdateContactInput {
    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<ContactUpdate> {
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let owner = owner::owner_change(&mut v, &path, self.customer_id, self.account_id);
        let changes = self.fields.parse(&mut v, &path);
        let nested = nested::parse_nested(
            &mut v,
            &path,
            self.primary_address,
            self.addresses,
            self.contact_points,
        );
        v.finish()?;
        Ok(ContactUpdate {
            owner,
            changes,
            nested,
        })
    }
}

/// An upsert: matched by `id`, else `contactNumber`, else by name within the owner. Lists
/// given replace the stored ones; absent lists are left alone.
#[derive(InputObject)]
pub struct SaveContactInput {
    /// The contact to update; when given it must exist.
    pub id: Option<ID>,
    /// The customer the contact belongs to directly.
    pub customer_id: Option<ID>,
    /// The account the contact belongs to.
    pub account_id: Option<ID>,
    /// The contact's fields (`subtype` is required when a contact is created).
    #[graphql(flatten)]
    pub fields: ContactFields,
    /// The primary address; replaces the stored one.
    pub primary_address: Option<AddressInput>,
    /// Further addresses; replace the stored non-primary ones (at most 20 with the primary
    /// one).
    pub addresses: Option<Vec<AddressInput>>,
    /// Contact points; replace the stored ones (at most 50).
    pub contact_points: Option<Vec<ContactPointInput>>,
}

/// `saveContact`'s input, parsed. Whether it creates or updates is known only once the
/// stored contacts are searched, so the fields stay changes until then.
#[derive(Debug)]
pub struct SaveRequest {
    /// Match by id first.
    pub id: Option<Uuid>,
    /// The owner the input names (`Shared` when it names none).
    pub owner: OwnerRef,
    /// `customerId` given beside `accountId`.
    pub customer_hint: Option<Uuid>,
    /// Whether the input named an owner at all.
    pub owner_given: bool,
    /// Field changes.
    pub changes: ContactChanges,
    /// Nested lists.
    pub nested: NestedInput,
}

impl SaveContactInput {
    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<SaveRequest> {
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let id = self
            .id
            .and_then(|id| v.check(&path.field("id"), parse_uuid(&id)));
        let owner_given = self.customer_id.is_some() || self.account_id.is_some();
        let (owner, customer_hint) =
            owner::parse_owner(&mut v, &path, self.customer_id, self.account_id);
        let changes = self.fields.parse(&mut v, &path);
        let nested = nested::parse_nested(
            &mut v,
            &path,
            self.primary_address,
            self.addresses,
            self.contact_points,
        );
        v.finish()?;
        Ok(SaveRequest {
            id,
            owner,
            customer_hint,
            owner_given,
            changes,
            nested,
        })
    }
}
