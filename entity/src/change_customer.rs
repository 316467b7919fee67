//! A customer a change concerns: the owner of the changed object, or for a shared contact every
//! customer linked to it at the time.

use sea_orm::entity::prelude::*;

/// A row of the `change_customer` table.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_customer")]
pub struct Model {
    /// The change.
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: i64,
    /// A customer it concerns.
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
}

/// Empty on purpose, as for every table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
