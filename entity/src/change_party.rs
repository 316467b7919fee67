//! Who a change concerns: a customer (the owner of the changed object, or for a shared contact
//! every customer linked to it at the time), or a contact whose history includes it (the
//! changed contact, or the contact of a changed contact point, address or link).

use sea_orm::entity::prelude::*;

/// `change_party.kind` of a customer.
pub const CUSTOMER: &str = "CUSTOMER";

/// `change_party.kind` of a contact.
pub const CONTACT: &str = "CONTACT";

/// A row of the `change_party` table.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_party")]
pub struct Model {
    /// The change.
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: i64,
    /// [`CUSTOMER`] or [`CONTACT`].
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// The customer's or the contact's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub party_id: Uuid,
}

/// Empty on purpose, as for every table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
