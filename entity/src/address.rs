//! A typed postal address; contacts reach it through `contact_address`.

use sea_orm::entity::prelude::*;

/// A row of the `address` table.
#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "address")]
pub struct Model {
    /// Primary key; Kith issues UUIDv7s, which sort in creation order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `AddressType` as text: `STREET`, `POBOX`, `POSTAL`, `BILLING` or `OTHER`.
    pub address_type: String,
    /// First address line.
    pub line1: String,
    /// Second address line.
    pub line2: Option<String>,
    /// Third address line.
    pub line3: Option<String>,
    /// Fourth address line.
    pub line4: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or region code (e.g. `CA`, `NSW`); `state` in the API.
    pub state_code: String,
    /// State name, when known.
    pub state_name: Option<String>,
    /// Postal or ZIP code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Latitude in decimal degrees.
    pub latitude: Option<f64>,
    /// Longitude in decimal degrees.
    pub longitude: Option<f64>,
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
    AddressType => address_type,
    Line1 => line1,
    Line2 => line2,
    Line3 => line3,
    Line4 => line4,
    City => city,
    StateCode => state_code,
    StateName => state_name,
    PostalCode => postal_code,
    Country => country,
    Latitude => latitude,
    Longitude => longitude,
    CreatedAt => created_at,
    UpdatedAt => updated_at,
    Version => version,
}
