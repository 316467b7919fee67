//! The GraphQL `Customer` type and the customer queries.

use async_graphql::{Context, ErrorExtensions, ID, Object};
use chrono::{DateTime, Utc};
use entity::customer;

use super::input::CustomerFilter;
use super::loader::CustomerById;
use super::service;
use crate::account::graphql::Account;
use crate::account::loader::AccountsByCustomer;
use crate::auth::field_guard::guard_sensitive;
use crate::contact::graphql::Contact;
use crate::contact::loader::ContactsByCustomer;
use crate::error::from_loader;
use crate::graphql_context::{ContextExt, parse_id};
use crate::history::graphql::{Change, history_page};
use crate::history::service::Subject;
use crate::ordering::graphql::{AccountOrder, ContactOrder, CustomerOrder, parse_order_by};
use crate::paging::graphql::{
    Connection, ConnectionArgs, Page, PageInput, connection_request, page_request,
};

/// GraphQL `Customer` (described on its `#[Object]` impl, where the schema reads it).
#[derive(Clone)]
pub struct Customer(pub customer::Model);

impl From<customer::Model> for Customer {
    fn from(row: customer::Model) -> Self {
        Customer(row)
    }
}

/// A customer: a person or organisation that holds accounts and has contacts.
#[Object]
impl Customer {
    /// Unique id (a UUID).
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The customer's own reference number, unique when set.
    async fn customer_number(&self) -> Option<&str> {
        self.0.customer_number.as_deref()
    }
    /// Tax identifier, masked to its last four characters unless the caller may see it whole.
    async fn tax_id(&self, ctx: &Context<'_>) -> Option<String> {
        guard_sensitive(ctx, self.0.tax_id.as_deref())
    }
    /// Code of the dealer who manages this customer.
    async fn dealer_code(&self) -> Option<&str> {
        self.0.dealer_code.as_deref()
    }
    /// The customer's accounts, oldest first unless `orderBy` says otherwise.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        order_by: Option<Vec<AccountOrder>>,
    ) -> async_graphql::Result<Vec<Account>> {
        let ordering = parse_order_by(order_by)?;
        let rows = from_loader(
            ctx.loader::<AccountsByCustomer>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(ordering.sorted(rows).into_iter().map(Account).collect())
    }
    /// The customer's direct contacts and the shared contacts linked to it, oldest first
    /// unless `orderBy` says otherwise. Account-level contacts are under
    /// `accounts { contacts }`.
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        order_by: Option<Vec<ContactOrder>>,
    ) -> async_graphql::Result<Vec<Contact>> {
        let ordering = parse_order_by(order_by)?;
        let rows = from_loader(
            ctx.loader::<ContactsByCustomer>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(ordering.sorted(rows).into_iter().map(Contact).collect())
    }
    /// When the customer was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the customer last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Incremented by every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The history: this customer's own changes (its accounts and contacts have their own histories), oldest first (newest last), as the caller may see them
    /// (sensitive values masked, other customers left out).
    async fn history(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
    ) -> async_graphql::Result<Page<Change>> {
        history_page(ctx, Subject::Customer(self.0.id), page).await
    }
}

/// Customer queries.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// One customer by id; null if it does not exist or is outside the caller's scope.
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Customer>> {
        ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let row = from_loader(ctx.loader::<CustomerById>()?.load_one(id).await)?;
        Ok(row.map(Customer))
    }

    /// The customers the caller may see, a page at a time, oldest first unless `orderBy`
    /// says otherwise.
    async fn customers(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
        filter: Option<CustomerFilter>,
        order_by: Option<Vec<CustomerOrder>>,
    ) -> async_graphql::Result<Page<Customer>> {
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
            entity::customer::Model::ALL_COLUMNS,
        )
        .await
        .map_err(|e| e.extend())?;
        Ok(Page::from_rows(pagination, rows, Customer))
    }

    /// The customers the caller may see, read by cursor (Relay's Cursor Connections):
    /// `first` (20 by default) after the cursor `after`, or `last` before `before`.
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's connection arguments, each a GraphQL argument"
    )]
    async fn customers_connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CustomerFilter>,
        order_by: Option<Vec<CustomerOrder>>,
    ) -> async_graphql::Result<Connection<Customer>> {
        let scope = ctx.scope()?;
        let filter = filter.unwrap_or_default().parse()?;
        let ordering = parse_order_by(order_by)?;
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        let (binding, request) = connection_request(ctx, args, "customers", &ordering, &filter)?;
        let page = service::connection(ctx.db()?, scope, &filter, &ordering, &request)
            .await
            .map_err(|e| e.extend())?;
        Ok(Connection::from_rows(page, binding, &ordering, Customer))
    }
}
