//! A link from a customer to a shared contact.

use sea_orm::entity::prelude::*;

/// A row of the `shared_contact_link` table.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shared_contact_link")]
pub struct Model {
    /// The customer that sees the shared contact.
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    /// The shared contact.
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: Uuid,
    /// When the link was made (UTC, millisecond precision).
    pub created_at: DateTimeUtc,
}

/// Empty on purpose: services write their joins out in `sea_query`, so each query shows its
/// SQL shape where it runs.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
