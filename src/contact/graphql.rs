//! GraphQL types and queries of contacts.

use async_graphql::{Context, ErrorExtensions, ID, Object};
use chrono::{DateTime, Utc};
use entity::contact;

use super::input::{ContactFilter, ContactRole, ContactStatus, ContactSubtype};
use super::service;
use crate::account::graphql::Account;
use crate::account::loader::AccountById;
use crate::address::graphql::Address;
use crate::address::loader::AddressesByContact;
use crate::auth::field_guard::guard_sensitive;
use crate::contact_point::graphql::ContactPoint;
use crate::contact_point::loader::ContactPointsByContact;
use crate::customer::graphql::Customer;
use crate::customer::loader::CustomerById;
use crate::error::from_loader;
use crate::graphql_context::{ContextExt, parse_id};
use crate::history::graphql::{Change, history_page};
use crate::history::service::Subject;
use crate::ordering::graphql::{ContactOrder, CustomerOrder, parse_order_by};
use crate::paging::graphql::{
    Connection, ConnectionArgs, Page, PageInput, connection_request, page_request,
};
use crate::shared_link::loader::LinkedCustomersByContact;

/// GraphQL `Contact` (described on its `#[Object]` impl, where the schema reads it).
#[derive(Clone)]
pub struct Contact(pub contact::Model);

impl From<contact::Model> for Contact {
    fn from(row: contact::Model) -> Contact {
        Contact(row)
    }
}

/// A person or organisation to reach on behalf of a customer or account. A contact is direct
/// (on a customer), account-level (on an account), or shared (owned by no one and linked to
/// any number of customers).
#[Object]
impl Contact {
    /// Unique id (a UUID).
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Person or company.
    async fn subtype(&self) -> async_graphql::Result<ContactSubtype> {
        ContactSubtype::from_db(&self.0.subtype)
    }
    /// Role for its owner.
    async fn role(&self) -> async_graphql::Result<ContactRole> {
        ContactRole::from_db(&self.0.role)
    }
    /// Form of address (Mr, Ms, Dr...).
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// Given name (persons).
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// Family name (persons).
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    /// Organisation name (companies; optional employer for persons).
    async fn company_name(&self) -> Option<&str> {
        self.0.company_name.as_deref()
    }
    /// Job title.
    async fn position(&self) -> Option<&str> {
        self.0.position.as_deref()
    }
    /// The name to show: "Title First Last" for a person, the company name for a company.
    async fn display_name(&self) -> String {
        display_name(&self.0)
    }
    /// Main email address.
    async fn email_address(&self) -> Option<&str> {
        self.0.email_address.as_deref()
    }
    /// Web site URL.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// Tax identifier, masked to its last four characters unless the caller may see it whole.
    async fn tax_id(&self, ctx: &Context<'_>) -> Option<String> {
        guard_sensitive(ctx, self.0.tax_id.as_deref())
    }
    /// Whether this contact's details are used for tax reporting.
    async fn is_used_for_tax(&self) -> bool {
        self.0.is_used_for_tax
    }
    /// External reference number, unique among the contacts of one customer when set (a
    /// shared contact's is compared with none).
    async fn contact_number(&self) -> Option<&str> {
        self.0.contact_number.as_deref()
    }
    /// Free classification (e.g. BILLING, TECHNICAL).
    async fn contact_type(&self) -> Option<&str> {
        self.0.contact_type.as_deref()
    }
    /// Code of the dealer who manages this contact.
    async fn dealer_code(&self) -> Option<&str> {
        self.0.dealer_code.as_deref()
    }
    /// Lifecycle state.
    async fn status(&self) -> async_graphql::Result<ContactStatus> {
        ContactStatus::from_db(&self.0.status)
    }
    /// Bank account details, masked to their last four characters unless the caller may see
    /// them whole.
    async fn bank_account_details(&self, ctx: &Context<'_>) -> Option<String> {
        guard_sensitive(ctx, self.0.bank_account_details.as_deref())
    }
    /// Whether an account password is set. The password itself is write-only.
    async fn has_account_password(&self) -> bool {
        self.0.account_password_hash.is_some()
    }
    /// True for a shared contact: owned by no customer or account, linked to customers.
    async fn is_shared(&self) -> bool {
        is_shared(&self.0)
    }
    /// Id of the owning customer (for account-level contacts, the account's customer); null
    /// for shared contacts.
    async fn customer_id(&self) -> Option<ID> {
        self.0.customer_id.map(|id| ID(id.to_string()))
    }
    /// Id of the owning account, for account-level contacts.
    async fn account_id(&self) -> Option<ID> {
        self.0.account_id.map(|id| ID(id.to_string()))
    }
    /// The owning customer (for account-level contacts, the account's customer); null for
    /// shared contacts and for callers who may not see the customer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(customer_id) = self.0.customer_id else {
            return Ok(None);
        };
        let row = from_loader(ctx.loader::<CustomerById>()?.load_one(customer_id).await)?;
        Ok(row.map(Customer))
    }
    /// The owning account, for account-level contacts.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        let Some(account_id) = self.0.account_id else {
            return Ok(None);
        };
        let row = from_loader(ctx.loader::<AccountById>()?.load_one(account_id).await)?;
        Ok(row.map(Account))
    }
    /// The customers a shared contact is linked to, as far as the caller may see them.
    async fn linked_customers(
        &self,
        ctx: &Context<'_>,
        order_by: Option<Vec<CustomerOrder>>,
    ) -> async_graphql::Result<Vec<Customer>> {
        let ordering = parse_order_by(order_by)?;
        if !is_shared(&self.0) {
            return Ok(Vec::new());
        }
        let rows = from_loader(
            ctx.loader::<LinkedCustomersByContact>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(ordering.sorted(rows).into_iter().map(Customer).collect())
    }
    /// Phones, emails, websites and other ways to reach the contact, oldest first.
    async fn contact_points(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ContactPoint>> {
        let rows = from_loader(
            ctx.loader::<ContactPointsByContact>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(ContactPoint)
            .collect())
    }
    /// The addresses attached to the contact, oldest first.
    async fn addresses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Address>> {
        let rows = from_loader(
            ctx.loader::<AddressesByContact>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Address::from)
            .collect())
    }
    /// The attached address marked primary, if any.
    async fn primary_address(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Address>> {
        let rows = from_loader(
            ctx.loader::<AddressesByContact>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .find(|attached| attached.is_primary)
            .map(Address::from))
    }
    /// When the contact was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the contact last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Incremented by every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The history: this contact's changes, with those of its contact points, addresses and links, oldest first (newest last), as the caller may see them
    /// (sensitive values masked, other customers left out).
    async fn history(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
    ) -> async_graphql::Result<Page<Change>> {
        history_page(ctx, Subject::Contact(self.0.id), page).await
    }
}

/// A shared contact has no owner.
pub fn is_shared(contact: &contact::Model) -> bool {
    contact.customer_id.is_none() && contact.account_id.is_none()
}

pub use super::input::display_name;

/// Contact queries.
#[derive(Default)]
pub struct ContactQuery;

#[Object]
impl ContactQuery {
    /// One contact by id; null if it does not exist or is outside the caller's scope.
    async fn contact(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Contact>> {
        let scope = ctx.scope()?;
        let id = parse_id(&id, "id")?;
        let row = service::find(ctx.db()?, scope, id)
            .await
            .map_err(|e| e.extend())?;
        Ok(row.map(Contact))
    }

    /// The contacts the caller may see, a page at a time, oldest first unless `orderBy`
    /// says otherwise.
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
        filter: Option<ContactFilter>,
        order_by: Option<Vec<ContactOrder>>,
    ) -> async_graphql::Result<Page<Contact>> {
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
            entity::contact::Model::ALL_COLUMNS,
        )
        .await
        .map_err(|e| e.extend())?;
        Ok(Page::from_rows(pagination, rows, Contact))
    }

    /// The contacts the caller may see, read by cursor (Relay's Cursor Connections):
    /// `first` (20 by default) after the cursor `after`, or `last` before `before`.
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's connection arguments, each a GraphQL argument"
    )]
    async fn contacts_connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ContactFilter>,
        order_by: Option<Vec<ContactOrder>>,
    ) -> async_graphql::Result<Connection<Contact>> {
        let scope = ctx.scope()?;
        let filter = filter.unwrap_or_default().parse()?;
        let ordering = parse_order_by(order_by)?;
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        let (binding, request) = connection_request(ctx, args, "contacts", &ordering, &filter)?;
        let page = service::connection(ctx.db()?, scope, &filter, &ordering, &request)
            .await
            .map_err(|e| e.extend())?;
        Ok(Connection::from_rows(page, binding, &ordering, Contact))
    }
}
