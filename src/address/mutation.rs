//! Address mutations: they parse the input and hand it to [`super::write`].

use async_graphql::{Context, ID, Object, SimpleObject};

use super::graphql::Address;
use super::input::{AddressInput, attach_target};
use super::write;
use crate::error::{FieldPath, UserError};
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::Validation;
use crate::payload::{DeletePayload, payload, payload_parts};

payload! {
    /// The result of an address mutation.
    AddressPayload {
        /// The address as stored after the change; null when nothing was written.
        address: Address,
    }
}

/// The result of `detachAddress`.
#[derive(SimpleObject)]
pub struct DetachAddressPayload {
    /// Id of the detached address; null when nothing was written.
    pub address_id: Option<ID>,
    /// The detached address as it is now, still attached to other contacts; null when it was
    /// deleted because no contact uses it any more (or when nothing was written).
    pub address: Option<Address>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Address mutations.
#[derive(Default)]
pub struct AddressMutation;

#[Object]
impl AddressMutation {
    /// Attach an address to a contact: an existing one (`addressId`, already attached to a
    /// contact you may change) or a new one (`input`). `isPrimary` makes it the contact's
    /// primary address, replacing the previous one. A contact holds at most 20 addresses: one
    /// more is `TOO_MANY` at `contactId`.
    async fn attach_address(
        &self,
        ctx: &Context<'_>,
        contact_id: ID,
        address_id: Option<ID>,
        input: Option<AddressInput>,
        #[graphql(default = false)] is_primary: bool,
    ) -> async_graphql::Result<AddressPayload> {
        let principal = ctx.principal()?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        let target = attach_target(address_id, input);
        let result = match target {
            Ok(target) => write::attach(ctx.db()?, principal, contact_id, target, is_primary).await,
            Err(error) => Err(error),
        };
        AddressPayload::from_result(result)
    }

    /// Detach an address from a contact. An address no contact uses any more is deleted.
    async fn detach_address(
        &self,
        ctx: &Context<'_>,
        contact_id: ID,
        address_id: ID,
    ) -> async_graphql::Result<DetachAddressPayload> {
        let principal = ctx.principal()?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        let address_id = parse_id(&address_id, "addressId")?;
        let result = write::detach(ctx.db()?, principal, contact_id, address_id).await;
        let (remaining, user_errors) = payload_parts(result)?;
        Ok(DetachAddressPayload {
            address_id: remaining.is_some().then(|| ID(address_id.to_string())),
            address: remaining.flatten().map(Address::from),
            user_errors,
        })
    }

    /// Change an address, for every contact it is attached to.
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AddressInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<AddressPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let mut v = Validation::default();
        let changes = input.parse(&mut v, &FieldPath::root("input"));
        let result = match v.finish() {
            Ok(()) => write::update(ctx.db()?, principal, id, changes, expected_version).await,
            Err(error) => Err(error),
        };
        AddressPayload::from_result(result)
    }

    /// Delete an address, detaching it from every contact.
    async fn delete_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeletePayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(write::delete(ctx.db()?, principal, id).await)
    }
}
