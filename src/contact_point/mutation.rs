//! Contact point mutations: they parse the input and hand it to [`super::write`].

use async_graphql::{Context, ID, Object};

use super::graphql::ContactPoint;
use super::input::ContactPointInput;
use super::write;
use crate::error::FieldPath;
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::Validation;
use crate::payload::{DeletePayload, payload};

payload! {
    /// The result of a contact point mutation.
    ContactPointPayload {
        /// The contact point as stored after the change; null when nothing was written.
        contact_point: ContactPoint,
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
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let changes = input.parse(&mut v, &path);
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            // The kind's rules are reported after the contact's checks (`write::add`).
            let point = changes.into_new_point(&path);
            write::add(db, principal, contact_id, point).await
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
            write::update(db, principal, id, changes, expected_version).await
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
        DeletePayload::from_result(write::delete(ctx.db()?, principal, id).await)
    }
}
