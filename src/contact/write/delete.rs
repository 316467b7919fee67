//! `deleteContact`: the contact goes with its contact points and links (the foreign keys
//! cascade), and the addresses no other contact uses.

use entity::contact;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::access::{find_editable, require_deleter};
use crate::auth::Principal;
use crate::error::Result;
use crate::history::journal::Journal;
use crate::input::FieldPath;
use crate::write;

/// Delete a contact with its contact points, its links and the addresses no one else uses.
/// A shared contact, which other customers may use, needs ADMIN or SERVICE.
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    let path = FieldPath::root("id");
    let txn = write::begin(db).await?;
    let contact = find_editable(&txn, principal, id, &path).await?;
    require_deleter(principal, &contact)?;
    let mut journal = Journal::new(db, principal);
    journal.contact(&txn, id).await?;
    let addresses = crate::address::service::attached_to(&txn, contact::Column::Id.eq(id)).await?;
    let deleted = contact::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &path, "contact")?;
    crate::address::write::delete_orphans(&txn, addresses).await?;
    journal.commit(txn).await?;
    Ok(id)
}
