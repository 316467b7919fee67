//! Customer mutations: they parse the input and hand it to [`super::write`].

use async_graphql::{Context, ErrorExtensions, ID, Object};

use super::graphql::Customer;
use super::input::{CreateCustomerInput, UpdateCustomerInput};
use super::write;
use crate::graphql_context::{ContextExt, parse_id};
use crate::payload::{DeletePayload, payload};

payload! {
    /// The result of a customer mutation.
    CustomerPayload {
        /// The customer as stored after the change; null when nothing was written.
        customer: Customer,
    }
}

/// Customer mutations.
#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Create a customer (ADMIN, SERVICE).
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> async_graphql::Result<CustomerPayload> {
        let principal = ctx.principal()?;
        let db = ctx.db()?;
        let result = async {
            let caller = write::may_create(principal)?;
            write::create(db, caller, input.parse()?).await
        }
        .await;
        CustomerPayload::from_result(result)
    }

    /// Change a customer's details (ADMIN, SERVICE; CUSTOMER for its own customers, except
    /// `customerNumber`, which only ADMIN and SERVICE set: FORBIDDEN otherwise).
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCustomerInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<CustomerPayload> {
        let principal = ctx.principal()?;
        let db = ctx.db()?;
        let caller = write::may_update(principal, input.sets_number()).map_err(|e| e.extend())?;
        let id = parse_id(&id, "id")?;
        let result = async {
            let changes = input.parse()?;
            write::update(db, caller, id, changes, expected_version).await
        }
        .await;
        CustomerPayload::from_result(result)
    }

    /// Delete a customer, its accounts and its direct and account-level contacts. Shared
    /// contacts survive; only their links to this customer go (ADMIN, SERVICE).
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeletePayload> {
        let principal = ctx.principal()?;
        let caller = write::may_delete(principal).map_err(|e| e.extend())?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(write::delete(ctx.db()?, caller, id).await)
    }
}
