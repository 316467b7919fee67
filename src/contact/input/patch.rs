//! `patchContact`'s input: contact fields plus a list of contact point and address
//! operations, parsed into a [`Patch`] of ordered steps. The enums of its result sit here too,
//! below both the write that produces them and the payload that shows them.

use std::collections::HashSet;

use async_graphql::{Enum, ID, InputObject};
use uuid::Uuid;

use super::UpdateContactInput;
use super::fields::ContactChanges;
use super::owner::{OwnerChange, owner_change};
use crate::address::input::{AddressChanges, AddressInput, NewAddress};
use crate::contact_point::input::{ContactPointChanges, ContactPointInput, NewContactPoint};
use crate::error::Result;
use crate::input::limits::CappedList;
use crate::input::{Code, FieldPath, Problem, UserError, Validation, parse_uuid};

/// What a patch item does.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// Create a new object (no `id`).
    Create,
    /// Change the object `id`; only the fields given change.
    Update,
    /// Delete the object `id`.
    Delete,
    /// Addresses: attach the existing address `id` to the contact.
    Attach,
    /// Addresses: detach the address `id` from the contact.
    Detach,
}

/// What kind of object a patch result is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PatchEntity {
    /// The contact itself.
    Contact,
    /// A contact point.
    ContactPoint,
    /// An address.
    Address,
}

/// What a patch item did.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PatchAction {
    /// A new object was created.
    Created,
    /// The object was changed.
    Updated,
    /// The object was deleted.
    Deleted,
    /// The address was attached to the contact.
    Attached,
    /// The address was detached from the contact.
    Detached,
}

/// One contact point operation: the contact point's fields sit beside `patchType`.
#[derive(InputObject)]
pub struct ContactPointPatchInput {
    /// CREATE, UPDATE or DELETE.
    pub patch_type: PatchType,
    /// The client's name for this item, echoed in `results` and unique within the patch: a
    /// number (`1`) or a string (`"phone-1"`); a number comes back in its string form (`"1"`).
    pub patch_client_id: ID,
    /// The contact point to update or delete.
    pub id: Option<ID>,
    /// Its fields.
    #[graphql(flatten)]
    pub fields: ContactPointInput,
}

/// One address operation: the address's fields sit beside `patchType`.
#[derive(InputObject)]
pub struct AddressPatchInput {
    /// CREATE, UPDATE, DELETE, ATTACH or DETACH.
    pub patch_type: PatchType,
    /// The client's name for this item, echoed in `results` and unique within the patch: a
    /// number (`1`) or a string (`"phone-1"`); a number comes back in its string form (`"1"`).
    pub patch_client_id: ID,
    /// The address to update, delete, attach or detach.
    pub id: Option<ID>,
    /// Make it the contact's primary address (CREATE, UPDATE, ATTACH).
    pub is_primary: Option<bool>,
    /// Its fields.
    #[graphql(flatten)]
    pub fields: AddressInput,
}

/// Everything `patchContact` changes.
#[derive(InputObject)]
pub struct ContactPatchInput {
    /// Contact fields to change (as in `updateContact`).
    pub contact: Option<UpdateContactInput>,
    /// Contact point operations, applied in order.
    pub contact_points: Option<Vec<ContactPointPatchInput>>,
    /// Address operations, applied in order.
    pub addresses: Option<Vec<AddressPatchInput>>,
}

/// A validated patch item.
#[derive(Debug)]
pub enum PatchItem {
    /// Create a contact point.
    CreatePoint(NewContactPoint),
    /// Change a contact point of the contact.
    UpdatePoint(Uuid, ContactPointChanges),
    /// Delete a contact point of the contact.
    DeletePoint(Uuid),
    /// Create an address and attach it, primary or not.
    CreateAddress(NewAddress, bool),
    /// Change an attached address, and maybe its primary flag.
    UpdateAddress(Uuid, AddressChanges, Option<bool>),
    /// Delete an attached address.
    DeleteAddress(Uuid),
    /// Attach an existing address, primary or not.
    AttachAddress(Uuid, bool),
    /// Detach an address.
    DetachAddress(Uuid),
}

impl PatchItem {
    /// Whether the item may add a contact point, so the patch must count them.
    pub fn adds_point(&self) -> bool {
        matches!(self, PatchItem::CreatePoint(_))
    }

    /// Whether the item may add an address, so the patch must count them.
    pub fn adds_address(&self) -> bool {
        matches!(
            self,
            PatchItem::CreateAddress(..) | PatchItem::AttachAddress(..)
        )
    }
}

/// One item, where the client named it.
#[derive(Debug)]
pub struct PatchStep {
    /// The item's `patchClientId`.
    pub client_id: String,
    /// Where its problems are reported.
    pub path: FieldPath,
    /// What it does.
    pub item: PatchItem,
}

/// The whole patch, validated.
#[derive(Debug)]
pub struct Patch {
    /// The contact's change of owner.
    pub owner: OwnerChange,
    /// The contact's own fields, when given.
    pub contact: Option<ContactChanges>,
    /// The items, in the order they apply.
    pub steps: Vec<PatchStep>,
}

fn item_id(
    v: &mut Validation,
    path: &FieldPath,
    id: Option<ID>,
    patch_type: PatchType,
) -> Option<Uuid> {
    let id_path = path.field("id");
    match (patch_type, id) {
        (PatchType::Create, Some(_)) => {
            v.push(UserError::invalid(&id_path, "CREATE takes no id"));
            None
        }
        (PatchType::Create, None) => None,
        (_, None) => {
            v.push(Problem::required("is required for this patchType").at(&id_path));
            None
        }
        (_, Some(id)) => v.check(&id_path, parse_uuid(&id)),
    }
}

/// The item's `patchClientId` as sent, to echo. `ID` input coercion has already turned a
/// number into its decimal string, so `1` and `"1"` name the same item.
fn client_id(v: &mut Validation, path: &FieldPath, raw: ID, seen: &mut HashSet<String>) -> String {
    let at = path.field("patchClientId");
    let raw = raw.0;
    let parsed: Option<Code> = v.check(&at, Code::try_from(raw.clone()));
    if parsed.is_some() && !seen.insert(raw.clone()) {
        v.push(UserError::invalid(&at, "must be unique within the patch"));
    }
    raw
}

/// A patch's items for one capped list, or none (with `TOO_MANY` at `path`) when they could
/// only break the cap ([`CappedList::check_patch`]): their items are then left unparsed.
fn capped_items<T>(
    v: &mut Validation,
    path: &FieldPath,
    list: CappedList,
    items: Vec<T>,
    adds: impl Fn(&T) -> bool,
) -> Vec<T> {
    let adding = items.iter().filter(|item| adds(item)).count();
    match list.check_patch(items.len(), adding, path) {
        Ok(()) => items,
        Err(error) => {
            v.push(error);
            Vec::new()
        }
    }
}

/// The contact's own part of a patch: its owner change and fields. A patch changes the lists
/// through its own items, so the nested lists of `UpdateContactInput` are refused here.
fn parse_contact(
    v: &mut Validation,
    path: &FieldPath,
    input: UpdateContactInput,
) -> (OwnerChange, ContactChanges) {
    let lists = [
        ("primaryAddress", input.primary_address.is_some()),
        ("addresses", input.addresses.is_some()),
        ("contactPoints", input.contact_points.is_some()),
    ];
    for (field, given) in lists {
        if given {
            v.push(UserError::invalid(
                &path.field(field),
                "a patch changes addresses and contact points through its own \
                 `addresses` and `contactPoints` items",
            ));
        }
    }
    let owner = owner_change(v, path, input.customer_id, input.account_id);
    (owner, input.fields.parse(v, path))
}

fn point_item(
    v: &mut Validation,
    path: &FieldPath,
    patch_type: PatchType,
    id: Option<Uuid>,
    changes: ContactPointChanges,
) -> Option<PatchItem> {
    match (patch_type, id) {
        (PatchType::Create, _) => changes.into_new(v, path).map(PatchItem::CreatePoint),
        (PatchType::Update, Some(id)) => Some(PatchItem::UpdatePoint(id, changes)),
        (PatchType::Delete, Some(id)) => Some(PatchItem::DeletePoint(id)),
        (PatchType::Attach | PatchType::Detach, _) => {
            v.push(UserError::invalid(
                &path.field("patchType"),
                "contact points are created, updated or deleted",
            ));
            None
        }
        _ => None,
    }
}

fn address_item(
    v: &mut Validation,
    path: &FieldPath,
    patch_type: PatchType,
    id: Option<Uuid>,
    changes: AddressChanges,
    primary: Option<bool>,
) -> Option<PatchItem> {
    match (patch_type, id) {
        (PatchType::Create, _) => changes
            .into_new(v, path)
            .map(|new| PatchItem::CreateAddress(new, primary.unwrap_or(false))),
        (PatchType::Update, Some(id)) => Some(PatchItem::UpdateAddress(id, changes, primary)),
        (PatchType::Delete, Some(id)) => Some(PatchItem::DeleteAddress(id)),
        (PatchType::Attach, Some(id)) => {
            Some(PatchItem::AttachAddress(id, primary.unwrap_or(false)))
        }
        (PatchType::Detach, Some(id)) => Some(PatchItem::DetachAddress(id)),
        _ => None,
    }
}

impl ContactPatchInput {
    /// Parse the whole patch, reporting every problem at once.
    pub fn parse(self) -> Result<Patch> {
        let mut v = Validation::default();
        let patch = self.parse_into(&mut v);
        v.finish()?;
        Ok(patch)
    }

    fn parse_into(self, v: &mut Validation) -> Patch {
        let root = FieldPath::root("patch");
        let (owner, contact) = match self.contact {
            Some(input) => {
                let (owner, changes) = parse_contact(v, &root.field("contact"), input);
                (owner, Some(changes))
            }
            None => (OwnerChange::Keep, None),
        };
        let mut seen = HashSet::new();
        let mut steps = Vec::new();
        let contact_points = capped_items(
            v,
            &root.field("contactPoints"),
            CappedList::ContactPoints,
            self.contact_points.unwrap_or_default(),
            |item| item.patch_type == PatchType::Create,
        );
        let addresses = capped_items(
            v,
            &root.field("addresses"),
            CappedList::Addresses,
            self.addresses.unwrap_or_default(),
            |item| matches!(item.patch_type, PatchType::Create | PatchType::Attach),
        );
        for (index, item) in contact_points.into_iter().enumerate() {
            let path = root.field("contactPoints").index(index);
            let client_id = client_id(v, &path, item.patch_client_id, &mut seen);
            let id = item_id(v, &path, item.id, item.patch_type);
            let changes = item.fields.parse(v, &path);
            if let Some(item) = point_item(v, &path, item.patch_type, id, changes) {
                steps.push(PatchStep {
                    client_id,
                    path,
                    item,
                });
            }
        }
        for (index, item) in addresses.into_iter().enumerate() {
            let path = root.field("addresses").index(index);
            let client_id = client_id(v, &path, item.patch_client_id, &mut seen);
            let id = item_id(v, &path, item.id, item.patch_type);
            let changes = item.fields.parse(v, &path);
            let primary = item.is_primary;
            if let Some(item) = address_item(v, &path, item.patch_type, id, changes, primary) {
                steps.push(PatchStep {
                    client_id,
                    path,
                    item,
                });
            }
        }
        Patch {
            owner,
            contact,
            steps,
        }
    }
}
