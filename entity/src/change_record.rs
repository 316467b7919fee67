//! One change to one object, written in the transaction of the mutation that made it.

use sea_orm::entity::prelude::*;

/// A row of the `change_record` table.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_record")]
pub struct Model {
    /// Issued in insertion order: the position subscribers replay from.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When the change was written (UTC, millisecond precision).
    pub at: DateTimeUtc,
    /// `ChangeAction` as text: `CREATED`, `UPDATED`, `DELETED`, `LINKED`, `UNLINKED`,
    /// `CONVERTED`.
    pub action: String,
    /// `ObjectType` as text: `CUSTOMER`, `ACCOUNT`, `CONTACT`, `CONTACT_POINT`, `ADDRESS`.
    pub object_type: String,
    /// The changed object's id (which may no longer exist).
    pub object_id: Uuid,
    /// The account the object belonged to, if any (account-level data).
    pub account_id: Option<Uuid>,
    /// The tracking id of the request that made the change.
    pub tracking_id: Option<String>,
    /// The caller's `sub`.
    pub actor_subject: Option<String>,
    /// The caller's roles, a JSON array of strings.
    pub actor_roles: String,
    /// The caller's `customers` claim, a JSON array of UUIDs; null when the token had none.
    pub actor_customers: Option<String>,
    /// The fields changed: a JSON array of `{"field", "old", "new"}`, values as stored
    /// (sensitive ones whole, masked when read; a password only as changed).
    pub changes: String,
}

/// Empty on purpose, as for every table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
