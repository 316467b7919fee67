//! The states a write's journal compares: rows as stored, read in the writer's transaction
//! whatever the writer's scope (the write checked access before it asked).

use std::collections::{BTreeMap, BTreeSet};

use entity::{account, address, contact, contact_point, customer, shared_contact_link};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::auth::Scope;
use crate::db::any_of;
use crate::error::Result;

/// No limit on the rows of a snapshot (a contact's lists are capped by the writes).
const ALL_ROWS: u64 = i64::MAX.unsigned_abs();

/// A contact with everything its history covers.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactState {
    /// The contact row.
    pub contact: contact::Model,
    /// Its contact points, by id.
    pub points: BTreeMap<Uuid, contact_point::Model>,
    /// Its addresses, by id, each with whether it is this contact's primary address.
    pub addresses: BTreeMap<Uuid, (address::Model, bool)>,
    /// The customers a shared contact is linked to.
    pub links: BTreeSet<Uuid>,
}

impl ContactState {
    /// The customers this contact concerns: its owner, or the customers it is linked to.
    pub fn customers(&self) -> BTreeSet<Uuid> {
        let mut customers = self.links.clone();
        customers.extend(self.contact.customer_id);
        customers
    }
}

/// The states of the contacts among `ids` that exist, by id: four statements for any number.
pub async fn contacts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, ContactState>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let everything = Scope::everything();
    let rows = crate::contact::service::by_ids(db, &everything, ids).await?;
    let mut states: BTreeMap<Uuid, ContactState> = rows
        .into_iter()
        .map(|contact| {
            let state = ContactState {
                contact,
                points: BTreeMap::new(),
                addresses: BTreeMap::new(),
                links: BTreeSet::new(),
            };
            (state.contact.id, state)
        })
        .collect();
    let found: Vec<Uuid> = states.keys().copied().collect();
    if found.is_empty() {
        return Ok(states);
    }
    for point in crate::contact_point::service::of_contacts(
        db,
        &everything,
        &found,
        ALL_ROWS,
        entity::contact_point::Model::ALL_COLUMNS,
    )
    .await?
    {
        if let Some(state) = states.get_mut(&point.contact_id) {
            state.points.insert(point.id, point);
        }
    }
    for attached in crate::address::service::of_contacts(
        db,
        &everything,
        &found,
        ALL_ROWS,
        entity::address::Model::ALL_COLUMNS,
    )
    .await?
    {
        if let Some(state) = states.get_mut(&attached.contact_id) {
            state
                .addresses
                .insert(attached.address.id, (attached.address, attached.is_primary));
        }
    }
    for (contact_id, customers) in links(db, &found).await? {
        if let Some(state) = states.get_mut(&contact_id) {
            state.links = customers;
        }
    }
    Ok(states)
}

/// The states of the contacts among `ids` that exist without their contact points and
/// addresses (left empty), for writes that change only a contact's fields and links: one
/// statement, two when one of them is shared.
pub async fn contacts_without_lists(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, ContactState>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = crate::contact::service::by_ids(db, &Scope::everything(), ids).await?;
    let shared: Vec<Uuid> = rows
        .iter()
        .filter(|row| row.customer_id.is_none())
        .map(|row| row.id)
        .collect();
    let mut links = links(db, &shared).await?;
    Ok(rows
        .into_iter()
        .map(|contact| {
            let state = ContactState {
                links: links.remove(&contact.id).unwrap_or_default(),
                contact,
                points: BTreeMap::new(),
                addresses: BTreeMap::new(),
            };
            (state.contact.id, state)
        })
        .collect())
}

/// The state of contact `contact`, just read by the write, without its lists: its links are
/// read only when it is shared (an owned contact has none).
pub async fn contact_without_lists(
    db: &impl ConnectionTrait,
    contact: &contact::Model,
) -> Result<ContactState> {
    let links = if contact.customer_id.is_none() {
        links(db, &[contact.id])
            .await?
            .remove(&contact.id)
            .unwrap_or_default()
    } else {
        BTreeSet::new()
    };
    Ok(ContactState {
        contact: contact.clone(),
        points: BTreeMap::new(),
        addresses: BTreeMap::new(),
        links,
    })
}

/// The customers each of `contact_ids` is linked to (shared contacts), by contact.
async fn links(
    db: &impl ConnectionTrait,
    contact_ids: &[Uuid],
) -> Result<BTreeMap<Uuid, BTreeSet<Uuid>>> {
    if contact_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let pairs: Vec<(Uuid, Uuid)> = shared_contact_link::Entity::find()
        .select_only()
        .column(shared_contact_link::Column::ContactId)
        .column(shared_contact_link::Column::CustomerId)
        .filter(any_of(
            db.get_database_backend(),
            (
                shared_contact_link::Entity,
                shared_contact_link::Column::ContactId,
            ),
            contact_ids,
        ))
        .into_tuple()
        .all(db)
        .await?;
    let mut links: BTreeMap<Uuid, BTreeSet<Uuid>> = BTreeMap::new();
    for (contact_id, customer_id) in pairs {
        links.entry(contact_id).or_default().insert(customer_id);
    }
    Ok(links)
}

/// The customers among `ids` that exist, by id.
pub async fn customers(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, customer::Model>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// The accounts among `ids` that exist, by id.
pub async fn accounts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, account::Model>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// The contacts a write to a customer reaches: its direct and account-level contacts, and the
/// shared contacts linked to it (deleting the customer unlinks them).
pub async fn contacts_of_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> Result<Vec<Uuid>> {
    let mut ids = ids_where::<contact::Entity>(
        db,
        contact::Column::Id,
        contact::Column::CustomerId,
        customer_id,
    )
    .await?;
    let linked = ids_where::<shared_contact_link::Entity>(
        db,
        shared_contact_link::Column::ContactId,
        shared_contact_link::Column::CustomerId,
        customer_id,
    )
    .await?;
    ids.extend(linked);
    Ok(ids)
}

/// The accounts of a customer.
pub async fn accounts_of_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> Result<Vec<Uuid>> {
    ids_where::<account::Entity>(
        db,
        account::Column::Id,
        account::Column::CustomerId,
        customer_id,
    )
    .await
}

/// The account-level contacts of an account.
pub async fn contacts_of_account(db: &impl ConnectionTrait, account_id: Uuid) -> Result<Vec<Uuid>> {
    ids_where::<contact::Entity>(
        db,
        contact::Column::Id,
        contact::Column::AccountId,
        account_id,
    )
    .await
}

/// The contacts an address is attached to.
pub async fn contacts_of_address(db: &impl ConnectionTrait, address_id: Uuid) -> Result<Vec<Uuid>> {
    use entity::contact_address::{Column, Entity};
    ids_where::<Entity>(db, Column::ContactId, Column::AddressId, address_id).await
}

/// The `wanted` column of `E`'s rows whose `key` column is `id`.
async fn ids_where<E: EntityTrait>(
    db: &impl ConnectionTrait,
    wanted: E::Column,
    key: E::Column,
    id: Uuid,
) -> Result<Vec<Uuid>> {
    Ok(E::find()
        .select_only()
        .column(wanted)
        .filter(key.eq(id))
        .into_tuple()
        .all(db)
        .await?)
}
