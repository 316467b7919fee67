//! What a write records before it commits (API.md, `history`): one change record per changed
//! object, in the write's own transaction, announced to every instance once it commits.
//!
//! A write names what it may touch ([`Journal::customer`], [`Journal::account`],
//! [`Journal::contacts`]) before it changes anything; [`Journal::commit`] reads the same rows
//! again and records the difference. Diffing states instead of having every write describe its
//! own changes keeps the record right for the writes that touch rows indirectly: a nested list
//! replaced, an account move that carries its contacts along, the cascades of a delete.

use std::collections::btree_map::Entry as Slot;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::{account, address, change_party, change_record, contact, customer};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Value;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IdenStatic,
    Iterable, ModelTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::snapshot::{self, ContactState};
use super::{Action, CHANGED, FieldChange, ObjectType, PASSWORD_FIELD};
use crate::auth::Principal;
use crate::error::{AppError, Result};

/// Columns never recorded: keys, bookkeeping and derived values.
const UNRECORDED: [&str; 6] = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "sort_name",
    "contact_id",
];

/// The changes one write makes, collected until it commits.
#[derive(Debug)]
pub struct Journal<'a> {
    db: &'a DatabaseConnection,
    actor: &'a Principal,
    started: DateTime<Utc>,
    customers: BTreeMap<Uuid, Option<customer::Model>>,
    accounts: BTreeMap<Uuid, Option<account::Model>>,
    contacts: BTreeMap<Uuid, Option<ContactState>>,
    /// Contacts whose fields and links only the write may change (their lists not read).
    contact_fields: BTreeMap<Uuid, ContactState>,
}

impl<'a> Journal<'a> {
    /// A journal for a write by `actor` to `db`.
    pub fn new(db: &'a DatabaseConnection, actor: &'a Principal) -> Journal<'a> {
        Journal {
            db,
            actor,
            started: crate::write::now(),
            customers: BTreeMap::new(),
            accounts: BTreeMap::new(),
            contacts: BTreeMap::new(),
            contact_fields: BTreeMap::new(),
        }
    }

    /// The write may change customer `current`, the row it has just read in its transaction
    /// (no statement of the journal's own).
    pub fn customer_from(&mut self, current: &customer::Model) {
        self.customers
            .entry(current.id)
            .or_insert_with(|| Some(current.clone()));
    }

    /// The write may change account `current`, the row it has just read in its transaction.
    pub fn account_from(&mut self, current: &account::Model) {
        self.accounts
            .entry(current.id)
            .or_insert_with(|| Some(current.clone()));
    }

    /// The write may change contact `current`'s fields and links but not its contact points or
    /// addresses; `current` is the row it has just read in its transaction. Cheaper than
    /// [`Journal::contact`]: at most one statement now (a shared contact's links) and one or
    /// two at commit.
    pub async fn contact_fields(
        &mut self,
        db: &impl ConnectionTrait,
        current: &contact::Model,
    ) -> Result<()> {
        if !self.contacts.contains_key(&current.id)
            && let Slot::Vacant(entry) = self.contact_fields.entry(current.id)
        {
            entry.insert(snapshot::contact_without_lists(db, current).await?);
        }
        Ok(())
    }

    /// The write may change these accounts (a customer's, which its delete removes).
    pub async fn accounts(&mut self, db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
        let new: Vec<Uuid> = ids
            .iter()
            .filter(|id| !self.accounts.contains_key(id))
            .copied()
            .collect();
        let mut before = snapshot::accounts(db, &new).await?;
        for id in new {
            self.accounts.insert(id, before.remove(&id));
        }
        Ok(())
    }

    /// The write may change these contacts, their contact points, addresses and links (or
    /// create them).
    pub async fn contacts(&mut self, db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
        let new: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| !self.contacts.contains_key(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut before = snapshot::contacts(db, &new).await?;
        for id in new {
            self.contacts.insert(id, before.remove(&id));
        }
        Ok(())
    }

    /// The write may change contact `id`.
    pub async fn contact(&mut self, db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
        self.contacts(db, &[id]).await
    }

    /// The write created customer `id`.
    pub fn created_customer(&mut self, id: Uuid) {
        self.customers.entry(id).or_insert(None);
    }

    /// The write created account `id`.
    pub fn created_account(&mut self, id: Uuid) {
        self.accounts.entry(id).or_insert(None);
    }

    /// The write created contact `id`.
    pub fn created_contact(&mut self, id: Uuid) {
        self.contacts.entry(id).or_insert(None);
    }

    /// Record what changed, announce it, and commit `txn`. Nothing is recorded when nothing
    /// changed.
    pub async fn commit(self, txn: DatabaseTransaction) -> Result<()> {
        let entries = self.entries(&txn).await?;
        if entries.is_empty() {
            txn.commit().await?;
            return Ok(());
        }
        // On PostgreSQL the insert's trigger NOTIFYs the new ids (the migration
        // `m20261126_000006_change_feed`), delivered to every instance once this commits.
        write(&txn, self.actor, &entries).await?;
        txn.commit().await?;
        super::feed::committed(self.db);
        Ok(())
    }

    /// The changes between the states taken when the write began and now.
    async fn entries(&self, db: &DatabaseTransaction) -> Result<Vec<Entry>> {
        let mut entries = Entries::default();
        let ids: Vec<Uuid> = self.customers.keys().copied().collect();
        let mut after = snapshot::customers(db, &ids).await?;
        for (id, before) in &self.customers {
            let after = after.remove(id);
            row_entry(
                &mut entries,
                ObjectType::Customer,
                *id,
                before.as_ref(),
                after.as_ref(),
                None,
                BTreeSet::from([*id]),
            );
        }
        let ids: Vec<Uuid> = self.accounts.keys().copied().collect();
        let mut after = snapshot::accounts(db, &ids).await?;
        for (id, before) in &self.accounts {
            let after = after.remove(id);
            let customers = before
                .iter()
                .chain(after.iter())
                .map(|a| a.customer_id)
                .collect();
            row_entry(
                &mut entries,
                ObjectType::Account,
                *id,
                before.as_ref(),
                after.as_ref(),
                Some(*id),
                customers,
            );
        }
        let ids: Vec<Uuid> = self
            .contact_fields
            .keys()
            .filter(|id| !self.contacts.contains_key(id))
            .copied()
            .collect();
        let mut after = snapshot::contacts_without_lists(db, &ids).await?;
        for id in ids {
            let before = self.contact_fields.get(&id);
            contact_entries(
                &mut entries,
                before,
                after.remove(&id).as_ref(),
                self.started,
                &BTreeSet::new(),
            );
        }
        let ids: Vec<Uuid> = self.contacts.keys().copied().collect();
        let mut after = snapshot::contacts(db, &ids).await?;
        let removed: Vec<Uuid> = self
            .contacts
            .iter()
            .flat_map(|(id, before)| {
                let after = after.get(id);
                before.iter().flat_map(move |state| {
                    state
                        .addresses
                        .keys()
                        .filter(move |a| after.is_none_or(|after| !after.addresses.contains_key(a)))
                        .copied()
                })
            })
            .collect();
        let surviving = existing_addresses(db, &removed).await?;
        for (id, before) in &self.contacts {
            let after = after.remove(id);
            contact_entries(
                &mut entries,
                before.as_ref(),
                after.as_ref(),
                self.started,
                &surviving,
            );
        }
        Ok(entries.0)
    }
}

/// One change to record.
#[derive(Debug)]
struct Entry {
    action: Action,
    object: ObjectType,
    object_id: Uuid,
    account_id: Option<Uuid>,
    customers: BTreeSet<Uuid>,
    contacts: BTreeSet<Uuid>,
    changes: Vec<FieldChange>,
}

/// The entries of a write, in the order found. One change to one object seen through several
/// contacts (an address attached to two of them) is one entry concerning all of them.
#[derive(Debug, Default)]
struct Entries(Vec<Entry>);

impl Entries {
    fn push(&mut self, entry: Entry) {
        let same = self.0.iter_mut().find(|e| {
            e.object == entry.object
                && e.object_id == entry.object_id
                && e.action == entry.action
                && e.changes == entry.changes
        });
        match same {
            Some(same) => {
                same.customers.extend(entry.customers);
                same.contacts.extend(entry.contacts);
            }
            None => self.0.push(entry),
        }
    }
}

/// The entry of a customer or account row seen `before` and `after`, if it changed.
fn row_entry<M: ModelTrait>(
    entries: &mut Entries,
    object: ObjectType,
    id: Uuid,
    before: Option<&M>,
    after: Option<&M>,
    account_id: Option<Uuid>,
    customers: BTreeSet<Uuid>,
) {
    let Some(action) = row_action(before, after) else {
        return;
    };
    let changes = diff(before, after);
    if action != Action::Updated || !changes.is_empty() {
        entries.push(Entry {
            action,
            object,
            object_id: id,
            account_id,
            customers,
            contacts: BTreeSet::new(),
            changes,
        });
    }
}

/// CREATED, DELETED or UPDATED for a row seen `before` and `after`; nothing when it exists
/// in neither.
fn row_action<M>(before: Option<&M>, after: Option<&M>) -> Option<Action> {
    match (before, after) {
        (None, None) => None,
        (None, Some(_)) => Some(Action::Created),
        (Some(_), None) => Some(Action::Deleted),
        (Some(_), Some(_)) => Some(Action::Updated),
    }
}

/// The entries of one contact aggregate: the contact, its contact points, its addresses and
/// its links. `surviving` holds the addresses removed from some contact that still exist
/// (detached, not deleted).
fn contact_entries<'a>(
    entries: &mut Entries,
    before: Option<&'a ContactState>,
    after: Option<&'a ContactState>,
    started: DateTime<Utc>,
    surviving: &BTreeSet<Uuid>,
) {
    let Some(either) = after.or(before) else {
        return;
    };
    let id = either.contact.id;
    let account_id = either.contact.account_id;
    let customers: BTreeSet<Uuid> = before
        .iter()
        .chain(after.iter())
        .flat_map(|state| state.customers())
        .collect();
    let entry = |action, object, object_id, changes| Entry {
        action,
        object,
        object_id,
        account_id,
        customers: customers.clone(),
        contacts: BTreeSet::from([id]),
        changes,
    };
    let (contact_before, contact_after) = (before.map(|s| &s.contact), after.map(|s| &s.contact));
    if let Some(mut action) = row_action(contact_before, contact_after) {
        let changes = diff(contact_before, contact_after);
        if let (Some(b), Some(a)) = (contact_before, contact_after)
            && b.customer_id.is_some()
            && a.customer_id.is_none()
            && a.account_id.is_none()
        {
            action = Action::Converted;
        }
        if action != Action::Updated || !changes.is_empty() {
            entries.push(entry(action, ObjectType::Contact, id, changes));
        }
    }
    let points = |state: Option<&'a ContactState>| state.map(|s| &s.points);
    let (points_before, points_after) = (points(before), points(after));
    let point_ids: BTreeSet<&Uuid> = points_before
        .into_iter()
        .chain(points_after)
        .flat_map(BTreeMap::keys)
        .collect();
    for point_id in point_ids {
        let old = points_before.and_then(|points| points.get(point_id));
        let new = points_after.and_then(|points| points.get(point_id));
        let Some(action) = row_action(old, new) else {
            continue;
        };
        let changes = diff(old, new);
        if action != Action::Updated || !changes.is_empty() {
            entries.push(entry(action, ObjectType::ContactPoint, *point_id, changes));
        }
    }

    let addresses = |state: Option<&'a ContactState>| state.map(|s| &s.addresses);
    let (addresses_before, addresses_after) = (addresses(before), addresses(after));
    let address_ids: BTreeSet<&Uuid> = addresses_before
        .into_iter()
        .chain(addresses_after)
        .flat_map(BTreeMap::keys)
        .collect();
    for address_id in address_ids {
        let old = addresses_before.and_then(|addresses| addresses.get(address_id));
        let new = addresses_after.and_then(|addresses| addresses.get(address_id));
        let primary = |state: Option<&(address::Model, bool)>| state.map(|(_, p)| p.to_string());
        let mut changes = diff(old.map(|(row, _)| row), new.map(|(row, _)| row));
        let action = match (old, new) {
            (None, None) => continue,
            // A row stamped after this write began is one it created; an address that
            // existed before was attached.
            (None, Some((row, _))) if row.created_at >= started => Action::Created,
            (None, Some(_)) => {
                changes.clear();
                Action::Linked
            }
            (Some(_), None) if surviving.contains(address_id) => {
                changes.clear();
                Action::Unlinked
            }
            (Some(_), None) => Action::Deleted,
            (Some(_), Some(_)) => Action::Updated,
        };
        let (was, is) = (primary(old), primary(new));
        if was != is {
            changes.push(FieldChange {
                field: "isPrimary".into(),
                old: was,
                new: is,
            });
        }
        if action != Action::Updated || !changes.is_empty() {
            entries.push(entry(action, ObjectType::Address, *address_id, changes));
        }
    }

    let no_links = BTreeSet::new();
    let links_before = before.map_or(&no_links, |state| &state.links);
    let links_after = after.map_or(&no_links, |state| &state.links);
    for customer_id in links_after.symmetric_difference(links_before) {
        let linked = links_after.contains(customer_id);
        let text = Some(customer_id.to_string());
        entries.push(Entry {
            customers: BTreeSet::from([*customer_id]),
            ..entry(
                if linked {
                    Action::Linked
                } else {
                    Action::Unlinked
                },
                ObjectType::Contact,
                id,
                vec![FieldChange {
                    field: "linkedCustomers".into(),
                    old: if linked { None } else { text.clone() },
                    new: if linked { text } else { None },
                }],
            )
        });
    }
}

/// The addresses among `ids` that still exist.
async fn existing_addresses(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<BTreeSet<Uuid>> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let found: Vec<Uuid> = address::Entity::find()
        .select_only()
        .column(address::Column::Id)
        .filter(address::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// The recorded fields of a row whose value differs between `before` and `after` (a missing
/// row has no values), in column order. Works for any table: the columns are the entity's.
fn diff<M: ModelTrait>(before: Option<&M>, after: Option<&M>) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for column in <<M as ModelTrait>::Entity as EntityTrait>::Column::iter() {
        let name = column.as_str();
        if UNRECORDED.contains(&name) {
            continue;
        }
        let old = before.and_then(|row| text(row.get(column)));
        let new = after.and_then(|row| text(row.get(column)));
        if old == new {
            continue;
        }
        let field = api_name(name);
        changes.push(if field == PASSWORD_FIELD {
            // Never a value, not even the hash: only that it changed (or was removed).
            FieldChange {
                field,
                old: None,
                new: Some(CHANGED.to_owned()),
            }
        } else {
            FieldChange { field, old, new }
        });
    }
    changes
}

/// A column's name as the API spells the field.
fn api_name(column: &str) -> String {
    match column {
        "account_password_hash" => PASSWORD_FIELD.to_owned(),
        "state_code" => "state".to_owned(),
        _ => {
            let mut name = String::with_capacity(column.len());
            let mut upper = false;
            for c in column.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    name.extend(c.to_uppercase());
                    upper = false;
                } else {
                    name.push(c);
                }
            }
            name
        }
    }
}

/// A stored value as text; `None` for SQL NULL.
fn text(value: Value) -> Option<String> {
    match value {
        Value::Bool(v) => v.map(|v| v.to_string()),
        Value::SmallInt(v) => v.map(|v| v.to_string()),
        Value::Int(v) => v.map(|v| v.to_string()),
        Value::BigInt(v) => v.map(|v| v.to_string()),
        Value::Double(v) => v.map(|v| v.to_string()),
        Value::Float(v) => v.map(|v| v.to_string()),
        Value::String(v) => v,
        Value::Uuid(v) => v.map(|v| v.to_string()),
        Value::ChronoDateTimeUtc(v) => v.map(|v| v.to_rfc3339()),
        other => Some(format!("{other:?}")),
    }
}

/// Insert the records, then who each concerns (two statements).
async fn write(txn: &DatabaseTransaction, actor: &Principal, entries: &[Entry]) -> Result<()> {
    let at = crate::write::now();
    let roles: Vec<&str> = actor.roles.iter().map(|role| role.as_str()).collect();
    let roles = serde_json::to_string(&roles).map_err(encoding)?;
    let customers = actor
        .customers
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(encoding)?;
    let mut records = Vec::with_capacity(entries.len());
    let mut keys = Vec::with_capacity(entries.len());
    for entry in entries {
        let changes = serde_json::to_string(&entry.changes).map_err(encoding)?;
        keys.push((entry.object_id, entry.action.as_db(), changes.clone()));
        records.push(change_record::ActiveModel {
            id: NotSet,
            at: Set(at),
            action: Set(entry.action.as_db().to_owned()),
            object_type: Set(entry.object.as_db().to_owned()),
            object_id: Set(entry.object_id),
            account_id: Set(entry.account_id),
            tracking_id: Set(actor.tracking_id.clone()),
            actor_subject: Set(actor.subject.clone()),
            actor_roles: Set(roles.clone()),
            actor_customers: Set(customers.clone()),
            changes: Set(changes),
        });
    }
    let inserted = change_record::Entity::insert_many(records)
        .exec_with_returning(txn)
        .await?;
    // Matched back by content, not by position: RETURNING's row order is not a promise.
    let mut parties = Vec::new();
    for (entry, key) in entries.iter().zip(&keys) {
        let Some(row) = inserted.iter().find(|row| {
            (row.object_id, row.action.as_str(), &row.changes) == (key.0, key.1, &key.2)
        }) else {
            return Err(AppError::internal("a change record was not returned"));
        };
        let customers = entry
            .customers
            .iter()
            .map(|id| (change_party::CUSTOMER, id));
        let contacts = entry.contacts.iter().map(|id| (change_party::CONTACT, id));
        parties.extend(
            customers
                .chain(contacts)
                .map(|(kind, id)| change_party::ActiveModel {
                    change_id: Set(row.id),
                    kind: Set(kind.to_owned()),
                    party_id: Set(*id),
                }),
        );
    }
    if !parties.is_empty() {
        change_party::Entity::insert_many(parties).exec(txn).await?;
    }
    Ok(())
}

fn encoding(error: serde_json::Error) -> AppError {
    AppError::internal_from("encoding a change record", error)
}

#[cfg(test)]
mod tests {
    use super::api_name;

    #[test]
    fn columns_are_named_as_the_api_names_fields() {
        assert_eq!(api_name("first_name"), "firstName");
        assert_eq!(api_name("bank_account_details"), "bankAccountDetails");
        assert_eq!(api_name("account_password_hash"), "accountPassword");
        assert_eq!(api_name("state_code"), "state");
        assert_eq!(api_name("line1"), "line1");
    }
}
