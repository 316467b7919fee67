//! Shared-link mutations: linking shared contacts to customers and unlinking them. They
//! answer with the contact, in a `ContactPayload`.

use async_graphql::{Context, ID, Object};

use super::write;
use crate::contact::mutation::ContactPayload;
use crate::graphql_context::{ContextExt, parse_id};

/// Shared-link mutations.
#[derive(Default)]
pub struct SharedLinkMutation;

#[Object]
impl SharedLinkMutation {
    /// Link a shared contact to a customer. Linking again changes nothing and is no error.
    async fn add_shared_contact(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        contact_id: ID,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let customer_id = parse_id(&customer_id, "customerId")?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        ContactPayload::from_result(
            write::add_link(ctx.db()?, principal, customer_id, contact_id).await,
        )
    }

    /// Unlink a shared contact from a customer. Unlinking what is not linked changes nothing.
    async fn remove_shared_contact(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        contact_id: ID,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let customer_id = parse_id(&customer_id, "customerId")?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        ContactPayload::from_result(
            write::remove_link(ctx.db()?, principal, customer_id, contact_id).await,
        )
    }
}
