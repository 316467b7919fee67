//! GraphQL types and queries of accounts.

use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, SimpleObject,
};
use chrono::{DateTime, Utc};
use entity::account;

use super::loader::AccountById;
use super::service::{self, AccountChanges, AccountFilterParams, NewAccount};
use crate::contact::graphql::Contact;
use crate::contact::loader::ContactsByAccount;
use crate::customer::graphql::{Customer, filter_text};
use crate::customer::loader::CustomerById;
use crate::db_enum::db_enum;
use crate::error::from_loader;
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::{Code, FieldPath, LongName, UserError, Validation, parse_uuid};
use crate::paging::{Page, PageInput, page_request};
use crate::write::{DeletePayload, payload_parts};

db_enum! {
    /// Lifecycle state of an account.
    pub enum AccountStatus {
        /// In use.
        Active => "ACTIVE",
        /// Temporarily blocked.
        Suspended => "SUSPENDED",
        /// Closed for good; kept for history.
        Closed => "CLOSED",
    }
}

/// GraphQL `Account` (described on its `#[Object]` impl, where the schema reads it).
pub struct Account(pub account::Model);

/// An account a customer holds (a billing or service relationship).
#[Object]
impl Account {
    /// Unique id (a UUID).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The account's reference number, unique when set.
    async fn account_number(&self) -> Option<&str> {
        self.0.account_number.as_deref()
    }
    /// Lifecycle state.
    async fn status(&self) -> async_graphql::Result<AccountStatus> {
        AccountStatus::from_db(&self.0.status)
    }
    /// Id of the customer that holds the account (the `customerId` of the account's input).
    /// Given even to callers who may not read the customer itself (AGENCY): it is the key their
    /// reach is granted by.
    async fn customer_id(&self) -> ID {
        ID(self.0.customer_id.to_string())
    }
    /// The customer that holds the account; null for callers who may not see customers
    /// (AGENCY sees account-level data only).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let row = from_loader(
            ctx.loader::<CustomerById>()?
                .load_one(self.0.customer_id)
                .await,
        )?;
        Ok(row.map(Customer))
    }
    /// The account-level contacts, oldest first.
    async fn contacts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Contact>> {
        let rows = from_loader(ctx.loader::<ContactsByAccount>()?.load_one(self.0.id).await)?;
        Ok(rows.unwrap_or_default().into_iter().map(Contact).collect())
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the account last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Incremented by every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Narrows the `accounts` list. All given fields must match.
#[derive(Clone, Debug, Default, InputObject)]
pub struct AccountFilter {
    /// Accounts of this customer.
    pub customer_id: Option<ID>,
    /// Accounts in this state.
    pub status: Option<AccountStatus>,
    /// Every whitespace-separated term occurs in the name or account number (ignoring case).
    pub search: Option<String>,
}

impl AccountFilter {
    fn into_params(self) -> async_graphql::Result<AccountFilterParams> {
        Ok(AccountFilterParams {
            customer_id: self
                .customer_id
                .map(|id| parse_id(&id, "filter.customerId"))
                .transpose()?,
            status: self.status.map(AccountStatus::as_db),
            search: filter_text("filter.search", self.search)?,
        })
    }
}

/// Account queries.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// One account by id; null if it does not exist or is outside the caller's scope.
    async fn account(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Account>> {
        ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let row = from_loader(ctx.loader::<AccountById>()?.load_one(id).await)?;
        Ok(row.map(Account))
    }

    /// The accounts the caller may see, a page at a time, oldest first.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
        filter: Option<AccountFilter>,
    ) -> async_graphql::Result<Page<Account>> {
        let scope = ctx.scope()?;
        let request = page_request(page, ctx)?;
        let filter = filter.unwrap_or_default().into_params()?;
        let rows = service::list(ctx.db()?, scope, filter, request)
            .await
            .map_err(|e| e.extend())?;
        Ok(Page::from_rows(rows, Account))
    }
}

/// A new account.
#[derive(InputObject)]
pub struct CreateAccountInput {
    /// The customer that holds the account.
    pub customer_id: ID,
    /// Display name (at most 200 characters).
    pub name: String,
    /// Unique reference number.
    pub account_number: Option<String>,
    /// Lifecycle state; ACTIVE when absent.
    pub status: Option<AccountStatus>,
}

impl CreateAccountInput {
    fn parse(self) -> crate::error::Result<NewAccount> {
        let input = FieldPath::root("input");
        let mut v = Validation::default();
        let customer_id = v.check(&input.field("customerId"), parse_uuid(&self.customer_id));
        let name = v.check(&input.field("name"), LongName::try_from(self.name));
        let account_number: Option<Code> =
            v.optional(&input.field("accountNumber"), self.account_number);
        v.finish()?;
        Ok(NewAccount {
            customer_id: customer_id.unwrap_or_default(),
            name: name.map(|n| n.0).unwrap_or_default(),
            account_number: account_number.map(|a| a.0),
            status: self.status.unwrap_or(AccountStatus::Active).as_db(),
        })
    }
}

/// Changes to an account. An absent field is left as it is; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateAccountInput {
    /// Move the account (with its account-level contacts) to another customer.
    pub customer_id: MaybeUndefined<ID>,
    /// New display name.
    pub name: MaybeUndefined<String>,
    /// New account number, or null to clear it.
    pub account_number: MaybeUndefined<String>,
    /// New lifecycle state.
    pub status: MaybeUndefined<AccountStatus>,
}

impl UpdateAccountInput {
    fn parse(self) -> crate::error::Result<AccountChanges> {
        let input = FieldPath::root("input");
        let mut v = Validation::default();
        let customer_id = match self.customer_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => {
                v.push(UserError::invalid(
                    &input.field("customerId"),
                    "an account always has a customer",
                ));
                None
            }
            MaybeUndefined::Value(id) => v.check(&input.field("customerId"), parse_uuid(&id)),
        };
        let name: Option<LongName> = v.non_nullable(&input.field("name"), self.name);
        let account_number: Option<Option<Code>> =
            v.nullable(&input.field("accountNumber"), self.account_number);
        let status = match self.status {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => {
                v.push(UserError::invalid(&input.field("status"), "cannot be null"));
                None
            }
            MaybeUndefined::Value(status) => Some(status.as_db()),
        };
        v.finish()?;
        Ok(AccountChanges {
            customer_id,
            name: name.map(|n| n.0),
            account_number: account_number.map(|a| a.map(|a| a.0)),
            status,
        })
    }
}

/// The result of an account mutation.
#[derive(SimpleObject)]
pub struct AccountPayload {
    /// The account as stored after the change; null when nothing was written.
    pub account: Option<Account>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

impl AccountPayload {
    fn from_result(result: crate::error::Result<account::Model>) -> async_graphql::Result<Self> {
        let (account, user_errors) = payload_parts(result)?;
        Ok(AccountPayload {
            account: account.map(Account),
            user_errors,
        })
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
            service::authorize_create(principal)?;
            let new = input.parse()?;
            service::create(db, principal, new).await
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
        service::authorize_update(principal).map_err(|e| e.extend())?;
        let id = parse_id(&id, "id")?;
        let result = async {
            let changes = input.parse()?;
            service::update(db, principal, id, changes, expected_version).await
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
        service::authorize_delete(principal).map_err(|e| e.extend())?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(service::delete(ctx.db()?, principal, id).await)
    }
}
