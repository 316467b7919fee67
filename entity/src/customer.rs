//! A customer: the root of the graph.

use sea_orm::entity::prelude::*;

/// A row of the `customer` table.
#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    /// Primary key; Kith issues UUIDv7s, which sort in creation order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// The customer's own reference number; unique when set.
    pub customer_number: Option<String>,
    /// Tax identifier, stored whole; masked when read through the API.
    pub tax_id: Option<String>,
    /// Code of the dealer who manages this customer.
    pub dealer_code: Option<String>,
    /// The name as sorted (`orderBy: NAME`): Unicode lowercase of the name, kept by
    /// every write (`kith::ordering::sort_name`).
    pub sort_name: String,
    /// When the row was created (UTC, millisecond precision).
    pub created_at: DateTimeUtc,
    /// When the row was last changed (UTC, millisecond precision).
    pub updated_at: DateTimeUtc,
    /// Optimistic-lock counter: starts at 1, incremented by every update.
    pub version: i32,
}

/// Empty on purpose: services write their joins out in `sea_query`, so each query shows its
/// SQL shape where it runs.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

from_columns! {
    Id => id,
    Name => name,
    CustomerNumber => customer_number,
    TaxId => tax_id,
    DealerCode => dealer_code,
    SortName => sort_name,
    CreatedAt => created_at,
    UpdatedAt => updated_at,
    Version => version,
}
