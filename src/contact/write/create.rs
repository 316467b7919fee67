//! `createContact`, and the insert `saveContact` makes when it matches nothing.

use entity::contact;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::access::resolve_owner;
use super::contact_conflict;
use super::nested::write_nested;
use super::password::columns_of;
use crate::auth::Principal;
use crate::contact::input::{ContactDraft, NestedInput, NewContact};
use crate::error::Result;
use crate::history::journal::Journal;
use crate::input::FieldPath;
use crate::write;

/// Insert a new contact at `(customer_id, account_id)`, where [`resolve_owner`] placed it,
/// with its nested lists. Absent fields take their column's default (role OTHER, status
/// ACTIVE...).
pub(super) async fn insert_at(
    db: &impl ConnectionTrait,
    (customer_id, account_id): (Option<Uuid>, Option<Uuid>),
    draft: ContactDraft,
    nested: &NestedInput,
) -> Result<contact::Model> {
    let input = FieldPath::root("input");
    let mut columns = columns_of(draft).await?;
    let now = write::now();
    columns.id = Set(write::new_id());
    columns.customer_id = Set(customer_id);
    columns.account_id = Set(account_id);
    columns.created_at = Set(now);
    columns.updated_at = Set(now);
    columns.version = Set(1);
    let row = columns
        .insert(db)
        .await
        .map_err(|e| write::conflict_or_db_error(e, contact_conflict(&input)))?;
    write_nested(db, row.id, nested, &input, false).await?;
    Ok(row)
}

/// Create a contact with its nested addresses and contact points, all or nothing.
#[tracing::instrument(skip(db, principal, new), fields(owner = ?new.owner))]
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    new: NewContact,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let NewContact {
        owner,
        customer_hint,
        draft,
        nested,
    } = new;
    let input = FieldPath::root("input");
    let placed = resolve_owner(&txn, principal, owner, customer_hint, &input).await?;
    let row = insert_at(&txn, placed, draft, &nested).await?;
    let mut journal = Journal::new(db, principal);
    journal.created_contact(row.id);
    journal.commit(txn).await?;
    Ok(row)
}
