//! The GraphQL `Address` type.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::address;

use super::input::AddressType;
use super::service::AttachedAddress;

/// GraphQL `Address` (described on its `#[Object]` impl, where the schema reads it).
#[derive(Clone)]
pub struct Address {
    address: address::Model,
    is_primary: bool,
}

impl From<AttachedAddress> for Address {
    fn from(attached: AttachedAddress) -> Self {
        Address {
            address: attached.address,
            is_primary: attached.is_primary,
        }
    }
}

/// A postal address, as attached to the contact it was reached through.
#[Object]
impl Address {
    /// Unique id (a UUID).
    pub async fn id(&self) -> ID {
        ID(self.address.id.to_string())
    }
    /// What the address is used for.
    async fn address_type(&self) -> async_graphql::Result<AddressType> {
        AddressType::from_db(&self.address.address_type)
    }
    /// First address line.
    async fn line1(&self) -> &str {
        &self.address.line1
    }
    /// Second address line.
    async fn line2(&self) -> Option<&str> {
        self.address.line2.as_deref()
    }
    /// Third address line.
    async fn line3(&self) -> Option<&str> {
        self.address.line3.as_deref()
    }
    /// Fourth address line.
    async fn line4(&self) -> Option<&str> {
        self.address.line4.as_deref()
    }
    /// City or town.
    async fn city(&self) -> &str {
        &self.address.city
    }
    /// State, province or region, a code or a name (e.g. `CA`, `New South Wales`).
    async fn state(&self) -> &str {
        &self.address.state_code
    }
    /// State name, when known (e.g. `California`).
    async fn state_name(&self) -> Option<&str> {
        self.address.state_name.as_deref()
    }
    /// Postal or ZIP code.
    async fn postal_code(&self) -> &str {
        &self.address.postal_code
    }
    /// Country, ISO 3166-1 alpha-2 (e.g. `US`, `GB`).
    async fn country(&self) -> Option<&str> {
        self.address.country.as_deref()
    }
    /// Latitude in decimal degrees.
    async fn latitude(&self) -> Option<f64> {
        self.address.latitude
    }
    /// Longitude in decimal degrees.
    async fn longitude(&self) -> Option<f64> {
        self.address.longitude
    }
    /// Whether this is the primary address of the contact it was reached through.
    async fn is_primary(&self) -> bool {
        self.is_primary
    }
    /// When the address was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.address.created_at
    }
    /// When the address last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.address.updated_at
    }
    /// Incremented by every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.address.version
    }
}

/// An address not reached through a contact (`isPrimary` is then false).
impl From<address::Model> for Address {
    fn from(address: address::Model) -> Self {
        Address {
            address,
            is_primary: false,
        }
    }
}
