//! GraphQL types of contact points.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::contact_point;

use super::input::ContactPointInput;
use super::service;
use crate::db_enum::db_enum;
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::{FieldPath, UserError, Validation};
use crate::write::{DeletePayload, payload_parts};

db_enum! {
    /// What kind of contact point this is.
    pub enum ContactPointKind {
        /// Landline phone (country code, area code, number).
        Phone => "PHONE",
        /// Mobile phone.
        Mobile => "MOBILE",
        /// Fax.
        Fax => "FAX",
        /// Direct dial-in extension.
        Ddi => "DDI",
        /// Email address (in `value`).
        Email => "EMAIL",
        /// Web site URL (in `value`).
        Website => "WEBSITE",
        /// Anything else (in `value`).
        Other => "OTHER",
    }
}

/// GraphQL `ContactPoint` (described on its `#[Object]` impl, where the schema reads it).
pub struct ContactPoint(pub contact_point::Model);

/// A way to reach a contact.
#[Object]
impl ContactPoint {
    /// Unique id (a UUID).
    async fn id(&self) -> ID {
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
fn formatted(point: &contact_point::Model) -> Option<String> {
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

/// The result of a contact point mutation.
#[derive(SimpleObject)]
pub struct ContactPointPayload {
    /// The contact point as stored after the change; null when nothing was written.
    pub contact_point: Option<ContactPoint>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

impl ContactPointPayload {
    fn from_result(
        result: crate::error::Result<contact_point::Model>,
    ) -> async_graphql::Result<Self> {
        let (point, user_errors) = payload_parts(result)?;
        Ok(ContactPointPayload {
            contact_point: point.map(ContactPoint),
            user_errors,
        })
    }
}

/// Contact point mutations.
#[derive(Default)]
pub struct ContactPointMutation;

#[Object]
impl ContactPointMutation {
    /// Add a phone, email, website... to a contact. A contact holds at most 50 contact
    /// points: one more is `TOO_MANY` at `contactId`.
    async fn add_contact_point(
        &self,
        ctx: &Context<'_>,
        contact_id: ID,
        input: ContactPointInput,
    ) -> async_graphql::Result<ContactPointPayload> {
        let principal = ctx.principal()?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        let mut v = Validation::default();
        let changes = input.parse(&mut v, &FieldPath::root("input"));
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            service::add(db, principal, contact_id, changes).await
        }
        .await;
        ContactPointPayload::from_result(result)
    }

    /// Change a contact point; only the fields given change.
    async fn update_contact_point(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ContactPointInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<ContactPointPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let mut v = Validation::default();
        let changes = input.parse(&mut v, &FieldPath::root("input"));
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            service::update(db, principal, id, changes, expected_version).await
        }
        .await;
        ContactPointPayload::from_result(result)
    }

    /// Delete a contact point.
    async fn delete_contact_point(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeletePayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(service::delete(ctx.db()?, principal, id).await)
    }
}
