//! The GraphQL `ContactPoint` type.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::contact_point;

use super::input::ContactPointKind;

/// GraphQL `ContactPoint` (described on its `#[Object]` impl, where the schema reads it).
#[derive(Clone)]
pub struct ContactPoint(pub contact_point::Model);

impl From<contact_point::Model> for ContactPoint {
    fn from(row: contact_point::Model) -> Self {
        ContactPoint(row)
    }
}

/// A way to reach a contact.
#[Object]
impl ContactPoint {
    /// Unique id (a UUID).
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Phone, email, website...
    async fn kind(&self) -> async_graphql::Result<ContactPointKind> {
        ContactPointKind::from_db(&self.0.kind)
    }
    /// The address for non-phone kinds (an email, a URL...).
    async fn value(&self) -> Option<&str> {
        self.0.value.as_deref()
    }
    /// Phones: international calling code, digits only (e.g. `44`).
    async fn country_code(&self) -> Option<&str> {
        self.0.country_code.as_deref()
    }
    /// Phones: area code, digits only.
    async fn area_code(&self) -> Option<&str> {
        self.0.area_code.as_deref()
    }
    /// Phones: subscriber number, digits only.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    /// Ready to display: `+44 20 79460000` for phones, `value` otherwise.
    async fn formatted(&self) -> Option<String> {
        formatted(&self.0)
    }
    /// The contact's preferred point of this kind.
    async fn is_primary(&self) -> bool {
        self.0.is_primary
    }
    /// When the contact point was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the contact point last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Incremented by every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A phone as `+CC AREA NUMBER`; any other kind as its value.
pub fn formatted(point: &contact_point::Model) -> Option<String> {
    let Some(number) = point.number.as_deref() else {
        return point.value.clone();
    };
    let mut parts = Vec::with_capacity(3);
    if let Some(country) = point.country_code.as_deref() {
        parts.push(format!("+{country}"));
    }
    if let Some(area) = point.area_code.as_deref() {
        parts.push(area.to_owned());
    }
    parts.push(number.to_owned());
    Some(parts.join(" "))
}
