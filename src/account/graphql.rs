//! The GraphQL `Account` type and the account queries.

use async_graphql::{Context, ErrorExtensions, ID, Object};
use chrono::{DateTime, Utc};
use entity::account;

use super::input::{AccountFilter, AccountStatus};
use super::loader::AccountById;
use super::service;
use crate::contact::graphql::Contact;
use crate::contact::loader::ContactsByAccount;
use crate::customer::graphql::Customer;
use crate::customer::loader::CustomerById;
use crate::error::from_loader;
use crate::graphql_context::{ContextExt, parse_id};
use crate::history::graphql::{Change, history_page};
use crate::history::service::Subject;
use crate::ordering::graphql::{AccountOrder, ContactOrder, parse_order_by};
use crate::paging::graphql::{
    Connection, ConnectionArgs, Page, PageInput, connection_request, page_request,
};

/// GraphQL `Account` (described on its `#[Object]` impl, where the schema reads it).
#[derive(Clone)]
pub struct Account(pub account::Model);

impl From<account::Model> for Account {
    fn from(row: account::Model) -> Self {
        Account(row)
    }
}

/// An account a customer holds (a billing or service relationship).
#[Object]
impl Account {
    /// Unique id (a UUID).
    pub async fn id(&self) -> ID {
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
    /// The account-level contacts, oldest first unless `orderBy` says otherwise.
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        order_by: Option<Vec<ContactOrder>>,
    ) -> async_graphql::Result<Vec<Contact>> {
        let ordering = parse_order_by(order_by)?;
        let rows = from_loader(ctx.loader::<ContactsByAccount>()?.load_one(self.0.id).await)?;
        Ok(ordering.sorted(rows).into_iter().map(Contact).collect())
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

    /// The history: this account's own changes, oldest first (newest last), as the caller may see them
    /// (sensitive values masked, other customers left out).
    async fn history(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
    ) -> async_graphql::Result<Page<Change>> {
        history_page(ctx, Subject::Account(self.0.id), page).await
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

    /// The accounts the caller may see, a page at a time, oldest first unless `orderBy`
    /// says otherwise.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
        filter: Option<AccountFilter>,
        order_by: Option<Vec<AccountOrder>>,
    ) -> async_graphql::Result<Page<Account>> {
        let scope = ctx.scope()?;
        let (pagination, request) = page_request(page, ctx)?;
        let filter = filter.unwrap_or_default().parse()?;
        let ordering = parse_order_by(order_by)?;
        let rows = service::list(
            ctx.db()?,
            scope,
            &filter,
            &ordering,
            request,
            entity::account::Model::ALL_COLUMNS,
        )
        .await
        .map_err(|e| e.extend())?;
        Ok(Page::from_rows(pagination, rows, Account))
    }

    /// The accounts the caller may see, read by cursor (Relay's Cursor Connections):
    /// `first` (20 by default) after the cursor `after`, or `last` before `before`.
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's connection arguments, each a GraphQL argument"
    )]
    async fn accounts_connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AccountFilter>,
        order_by: Option<Vec<AccountOrder>>,
    ) -> async_graphql::Result<Connection<Account>> {
        let scope = ctx.scope()?;
        let filter = filter.unwrap_or_default().parse()?;
        let ordering = parse_order_by(order_by)?;
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        let (binding, request) = connection_request(ctx, args, "accounts", &ordering, &filter)?;
        let page = service::connection(ctx.db()?, scope, &filter, &ordering, &request)
            .await
            .map_err(|e| e.extend())?;
        Ok(Connection::from_rows(page, binding, &ordering, Account))
    }
}
