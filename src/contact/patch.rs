//! `patchContact`: contact fields plus a list of contact point and address operations, in
//! one transaction. Any failing item writes nothing, and its user errors point at it.

use std::collections::HashSet;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{contact_address, contact_point};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::graphql::Contact;
use super::input::{ContactChanges, UpdateContactInput};
use super::mutation::owner_change;
use super::write::{self as contact_write, OwnerChange, UpdatePaths};
use crate::address::input::{AddressChanges, AddressInput};
use crate::address::write as address_write;
use crate::auth::Principal;
use crate::contact_point::input::{ContactPointChanges, ContactPointInput};
use crate::contact_point::service as contact_point_service;
use crate::error::{AppError, Result};
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::limits::CappedList;
use crate::input::{Code, FieldPath, Problem, UserError, Validation, parse_uuid};
use crate::write::{self, payload_parts};

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
    /// The client's name for this item, echoed in `results` and unique within the patch.
    pub patch_client_id: String,
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
    /// The client's name for this item, echoed in `results` and unique within the patch.
    pub patch_client_id: String,
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

/// What one patch item did.
#[derive(SimpleObject, Clone, Debug)]
pub struct PatchResult {
    /// The item's `patchClientId`; null for the contact's own fields.
    pub patch_client_id: Option<String>,
    /// The kind of object.
    pub entity: PatchEntity,
    /// What happened to it.
    pub action: PatchAction,
    /// The object's id (for CREATE, the new id).
    pub id: ID,
}

/// The result of `patchContact`.
#[derive(SimpleObject)]
pub struct PatchContactPayload {
    /// The contact after the patch; null when nothing was written.
    pub contact: Option<Contact>,
    /// One entry per applied operation, in order; empty when nothing was written.
    pub results: Vec<PatchResult>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

/// A validated item.
enum Item {
    CreatePoint(ContactPointChanges),
    UpdatePoint(Uuid, ContactPointChanges),
    DeletePoint(Uuid),
    CreateAddress(AddressChanges, bool),
    UpdateAddress(Uuid, AddressChanges, Option<bool>),
    DeleteAddress(Uuid),
    AttachAddress(Uuid, bool),
    DetachAddress(Uuid),
}

impl Item {
    /// Whether the item may add a contact point, so the patch must count them.
    fn adds_point(&self) -> bool {
        matches!(self, Item::CreatePoint(_))
    }

    /// Whether the item may add an address, so the patch must count them.
    fn adds_address(&self) -> bool {
        matches!(self, Item::CreateAddress(..) | Item::AttachAddress(..))
    }
}

struct Step {
    client_id: String,
    path: FieldPath,
    item: Item,
}

/// The whole patch, validated.
struct Patch {
    owner: OwnerChange,
    contact: Option<ContactChanges>,
    steps: Vec<Step>,
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

fn client_id(
    v: &mut Validation,
    path: &FieldPath,
    raw: String,
    seen: &mut HashSet<String>,
) -> String {
    let at = path.field("patchClientId");
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

impl ContactPatchInput {
    fn parse(self, v: &mut Validation) -> Patch {
        let root = FieldPath::root("patch");
        let (owner, contact) = match self.contact {
            Some(input) => {
                let path = root.field("contact");
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
                let owner = owner_change(v, &path, input.customer_id, input.account_id);
                (owner, Some(input.fields.parse(v, &path)))
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
            let parsed = match (item.patch_type, id) {
                (PatchType::Create, _) => {
                    contact_point_service::build_new(Uuid::nil(), &changes, v, &path);
                    Some(Item::CreatePoint(changes))
                }
                (PatchType::Update, Some(id)) => Some(Item::UpdatePoint(id, changes)),
                (PatchType::Delete, Some(id)) => Some(Item::DeletePoint(id)),
                (PatchType::Attach | PatchType::Detach, _) => {
                    v.push(UserError::invalid(
                        &path.field("patchType"),
                        "contact points are created, updated or deleted",
                    ));
                    None
                }
                _ => None,
            };
            if let Some(item) = parsed {
                steps.push(Step {
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
            let parsed = match (item.patch_type, id) {
                (PatchType::Create, _) => {
                    changes.check_complete(v, &path);
                    Some(Item::CreateAddress(changes, primary.unwrap_or(false)))
                }
                (PatchType::Update, Some(id)) => Some(Item::UpdateAddress(id, changes, primary)),
                (PatchType::Delete, Some(id)) => Some(Item::DeleteAddress(id)),
                (PatchType::Attach, Some(id)) => {
                    Some(Item::AttachAddress(id, primary.unwrap_or(false)))
                }
                (PatchType::Detach, Some(id)) => Some(Item::DetachAddress(id)),
                _ => None,
            };
            if let Some(item) = parsed {
                steps.push(Step {
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
    step: Step,
) -> Result<PatchResult> {
    let Step {
        client_id,
        path,
        item,
    } = step;
    // Items carry no `expectedVersion`: a version conflict here means another writer changed
    // the row between our read and our write, and it is reported at the item.
    let (entity, action, id) = match item {
        Item::CreatePoint(changes) => {
            let mut v = Validation::default();
            let row = contact_point_service::build_new(contact_id, &changes, &mut v, &path);
            v.finish()?;
            let id = row.id;
            contact_point_service::insert_rows(db, vec![row]).await?;
            (PatchEntity::ContactPoint, PatchAction::Created, id)
        }
        Item::UpdatePoint(id, changes) => {
            let current = own_point(db, contact_id, id, &path).await?;
            contact_point_service::update_row(db, current, &changes, None, &path, &path).await?;
            (PatchEntity::ContactPoint, PatchAction::Updated, id)
        }
        Item::DeletePoint(id) => {
            own_point(db, contact_id, id, &path).await?;
            let deleted = contact_point::Entity::delete_by_id(id).exec(db).await?;
            write::ensure_deleted(deleted, &path.field("id"), "contact point")?;
            (PatchEntity::ContactPoint, PatchAction::Deleted, id)
        }
        Item::CreateAddress(changes, primary) => {
            let row = address_write::build_new(&changes);
            let id = row.id;
            address_write::insert_attached(db, contact_id, row, primary).await?;
            (PatchEntity::Address, PatchAction::Created, id)
        }
        Item::UpdateAddress(id, changes, primary) => {
            own_address(db, contact_id, id, &path).await?;
            let current =
                address_write::find_editable(db, principal, id, &path.field("id")).await?;
            address_write::update_row(db, current, &changes, None, &path).await?;
            if let Some(primary) = primary {
                address_write::link(db, contact_id, id, primary).await?;
            }
            (PatchEntity::Address, PatchAction::Updated, id)
        }
        Item::DeleteAddress(id) => {
            own_address(db, contact_id, id, &path).await?;
            address_write::find_editable(db, principal, id, &path.field("id")).await?;
            let deleted = entity::address::Entity::delete_by_id(id).exec(db).await?;
            write::ensure_deleted(deleted, &path.field("id"), "address")?;
            (PatchEntity::Address, PatchAction::Deleted, id)
        }
        Item::AttachAddress(id, primary) => {
            address_write::find_editable(db, principal, id, &path.field("id")).await?;
            address_write::link(db, contact_id, id, primary).await?;
            (PatchEntity::Address, PatchAction::Attached, id)
        }
        Item::DetachAddress(id) => {
            address_write::detach_in(db, principal, contact_id, id, &path.field("id")).await?;
            (PatchEntity::Address, PatchAction::Detached, id)
        }
    };
    Ok(PatchResult {
        patch_client_id: Some(client_id),
        entity,
        action,
        id: ID(id.to_string()),
    })
}

/// Apply a validated patch in one transaction.
async fn apply(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    patch: Patch,
    expected_version: Option<i32>,
) -> Result<(entity::contact::Model, Vec<PatchResult>)> {
    let txn = write::begin(db).await?;
    // Locked first: the caps are counted after the items apply, and a concurrent add must wait.
    let current =
        contact_write::find_editable_for_update(&txn, principal, id, &FieldPath::root("id"))
            .await?;
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
    let mut results = Vec::with_capacity(patch.steps.len() + 1);
    match patch.contact {
        Some(changes) => {
            let path = FieldPath::root("patch").field("contact");
            contact_write::update_row(
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
            results.push(PatchResult {
                patch_client_id: None,
                entity: PatchEntity::Contact,
                action: PatchAction::Updated,
                id: ID(id.to_string()),
            });
        }
        None => write::check_version(
            current.version,
            expected_version,
            &FieldPath::root("expectedVersion"),
        )?,
    }
    for step in patch.steps {
        results.push(apply_step(&txn, principal, id, step).await?);
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
    let contact = entity::contact::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("contact"))?;
    txn.commit().await?;
    Ok((contact, results))
}

/// The `patchContact` mutation.
#[derive(Default)]
pub struct PatchMutation;

#[Object]
impl PatchMutation {
    /// Change a contact and its contact points and addresses in one transaction. Items apply
    /// in order (contact fields, then contact points, then addresses); if any fails, nothing
    /// is written and the user errors point at the failing item, e.g.
    /// `["patch", "addresses", "1", "city"]`. A contact that would hold more than 50 contact
    /// points or 20 addresses afterwards is `TOO_MANY` at `["patch", "contactPoints"]` or
    /// `["patch", "addresses"]`.
    async fn patch_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        patch: ContactPatchInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<PatchContactPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let mut v = Validation::default();
        let parsed = patch.parse(&mut v);
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            apply(db, principal, id, parsed, expected_version).await
        }
        .await;
        let (applied, user_errors) = payload_parts(result)?;
        let (contact, results) = match applied {
            Some((contact, results)) => (Some(Contact(contact)), results),
            None => (None, Vec::new()),
        };
        Ok(PatchContactPayload {
            contact,
            results,
            user_errors,
        })
    }
}
