//! Account mutations: they parse the input and hand it to [`super::write`].

use async_graphql::{Context, ErrorExtensions, ID, Object};

use super::graphql::Account;
use super::input::{CreateAccountInput, UpdateAccountInput};
use super::write;
use crate::graphql_context::{ContextExt, parse_id};
use crate::payload::{DeletePayload, payload};

payload! {
    /// The result of an account mutation.
    AccountPayload {
        /// The account as stored after the change; null when nothing was written.
        account: Account,
    }
}

/// Account mutations.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Create an account for a customer (ADMIN, SERVICE).
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        input: CreateAccountInput,
    ) -> async_graphql::Result<AccountPayload> {
        let principal = ctx.principal()?;
        let db = ctx.db()?;
        let result = async {
            let caller = write::may_create(principal)?;
            write::create(db, caller, input.parse()?).await
        }
        .await;
        AccountPayload::from_result(result)
    }

    /// Change an account (ADMIN, SERVICE).
    async fn update_account(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateAccountInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<AccountPayload> {
        let principal = ctx.principal()?;
        let db = ctx.db()?;
        let caller = write::may_update(principal).map_err(|e| e.extend())?;
        let id = parse_id(&id, "id")?;
        let result = async {
            let changes = input.parse()?;
            write::update(db, caller, id, changes, expected_version).await
        }
        .await;
        AccountPayload::from_result(result)
    }

    /// Delete an account and its account-level contacts (ADMIN, SERVICE).
    async fn delete_account(
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
