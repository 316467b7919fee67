//! An account, which always belongs to one customer.

use sea_orm::entity::prelude::*;

/// A row of the `account` table.
#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    /// Primary key; Kith issues UUIDv7s, which sort in creation order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The customer this account belongs to.
    pub customer_id: Uuid,
    /// Display name.
    pub name: String,
    /// The account's reference number; unique when set.
    pub account_number: Option<String>,
    /// `AccountStatus` as text: `ACTIVE`, `SUSPENDED` or `CLOSED`.
    pub status: String,
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
    CustomerId => customer_id,
    Name => name,
    AccountNumber => account_number,
    Status => status,
    SortName => sort_name,
    CreatedAt => created_at,
    UpdatedAt => updated_at,
    Version => version,
}
