//! An address attached to a contact; at most one attachment per contact is primary.

use sea_orm::entity::prelude::*;

/// A row of the `contact_address` table.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_address")]
pub struct Model {
    /// The contact the address is attached to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: Uuid,
    /// The attached address.
    #[sea_orm(primary_key, auto_increment = false)]
    pub address_id: Uuid,
    /// Whether this is the contact's primary address (at most one per contact).
    pub is_primary: bool,
    /// When the address was attached (UTC, millisecond precision).
    pub created_at: DateTimeUtc,
}

/// Empty on purpose: services write their joins out in `sea_query`, so each query shows its
/// SQL shape where it runs.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
