//! A contact whose history includes a change: the changed contact, or the contact of a changed
//! contact point, address (one per contact it is attached to) or link.

use sea_orm::entity::prelude::*;

/// A row of the `change_contact` table.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_contact")]
pub struct Model {
    /// The change.
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: i64,
    /// A contact whose history includes it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: Uuid,
}

/// Empty on purpose, as for every table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
