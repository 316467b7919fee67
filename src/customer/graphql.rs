//! GraphQL types and queries of customers.

use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, SimpleObject,
};
use chrono::{DateTime, Utc};
use entity::customer;

use super::loader::CustomerById;
use super::service::{self, CustomerChanges, CustomerFilterParams, NewCustomer};
use crate::account::graphql::Account;
use crate::account::loader::AccountsByCustomer;
use crate::auth::field_guard::guard_sensitive;
use crate::contact::graphql::Contact;
use crate::contact::loader::ContactsByCustomer;
use crate::error::from_loader;
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::{Code, FieldPath, Identifier, LongName, UserError, Validation};
use crate::paging::{Page, PageInput, page_request};
use crate::text_search::SearchText;
use crate::write::{DeletePayload, payload_parts};

/// GraphQL `Customer` (described on its `#[Object]` impl, where the schema reads it).
pub struct Customer(pub customer::Model);

/// A customer: a person or organisation that holds accounts and has contacts.
#[Object]
impl Customer {
    /// Unique id (a UUID).
    async fn id(&self) -> ID {
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
    /// The customer's accounts, oldest first.
    async fn accounts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Account>> {
        let rows = from_loader(
            ctx.loader::<AccountsByCustomer>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(rows.unwrap_or_default().into_iter().map(Account).collect())
    }
    /// The customer's direct contacts and the shared contacts linked to it, oldest first.
    /// Account-level contacts are under `accounts { contacts }`.
    async fn contacts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Contact>> {
        let rows = from_loader(
            ctx.loader::<ContactsByCustomer>()?
                .load_one(self.0.id)
                .await,
        )?;
        Ok(rows.unwrap_or_default().into_iter().map(Contact).collect())
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
}

/// Narrows the `customers` list. All given fields must match.
#[derive(Clone, Debug, Default, InputObject)]
pub struct CustomerFilter {
    /// Every whitespace-separated term occurs in the name or customer number (ignoring case).
    pub search: Option<String>,
    /// Exact dealer code.
    pub dealer_code: Option<String>,
}

impl CustomerFilter {
    fn into_params(self) -> async_graphql::Result<CustomerFilterParams> {
        Ok(CustomerFilterParams {
            search: filter_text("filter.search", self.search)?,
            dealer_code: filter_text("filter.dealerCode", self.dealer_code)?,
        })
    }
}

/// Check filter text (`search`, `dealerCode`) before it reaches SQL.
pub fn filter_text(field: &str, text: Option<String>) -> async_graphql::Result<Option<String>> {
    SearchText::parse_optional(field, text).map_err(|error| error.extend())
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

    /// The customers the caller may see, a page at a time, oldest first.
    async fn customers(
        &self,
        ctx: &Context<'_>,
        page: Option<PageInput>,
        filter: Option<CustomerFilter>,
    ) -> async_graphql::Result<Page<Customer>> {
        let scope = ctx.scope()?;
        let request = page_request(page, ctx)?;
        let filter = filter.unwrap_or_default().into_params()?;
        let rows = service::list(ctx.db()?, scope, filter, request)
            .await
            .map_err(|e| e.extend())?;
        Ok(Page::from_rows(rows, Customer))
    }
}

/// A new customer.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// Display name (at most 200 characters).
    pub name: String,
    /// Reference number, unique across all customers.
    pub customer_number: Option<String>,
    /// Tax identifier.
    pub tax_id: Option<String>,
    /// Dealer code.
    pub dealer_code: Option<String>,
}

impl CreateCustomerInput {
    fn parse(self) -> crate::error::Result<NewCustomer> {
        let input = FieldPath::root("input");
        let mut v = Validation::default();
        let name = v.check(&input.field("name"), LongName::try_from(self.name));
        let customer_number: Option<Code> =
            v.optional(&input.field("customerNumber"), self.customer_number);
        let tax_id: Option<Identifier> = v.optional(&input.field("taxId"), self.tax_id);
        let dealer_code: Option<Code> = v.optional(&input.field("dealerCode"), self.dealer_code);
        v.finish()?;
        Ok(NewCustomer {
            name: name.map(|n| n.0).unwrap_or_default(),
            customer_number: customer_number.map(|c| c.0),
            tax_id: tax_id.map(|t| t.0),
            dealer_code: dealer_code.map(|d| d.0),
        })
    }
}

/// Changes to a customer. An absent field is left as it is; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    /// New display name.
    pub name: MaybeUndefined<String>,
    /// New customer number, or null to clear it (ADMIN, SERVICE: customer numbers are unique
    /// across all customers).
    pub customer_number: MaybeUndefined<String>,
    /// New tax identifier, or null to clear it.
    pub tax_id: MaybeUndefined<String>,
    /// New dealer code, or null to clear it.
    pub dealer_code: MaybeUndefined<String>,
}

impl UpdateCustomerInput {
    fn parse(self) -> crate::error::Result<CustomerChanges> {
        let input = FieldPath::root("input");
        let mut v = Validation::default();
        let name: Option<LongName> = v.non_nullable(&input.field("name"), self.name);
        let customer_number: Option<Option<Code>> =
            v.nullable(&input.field("customerNumber"), self.customer_number);
        let tax_id: Option<Option<Identifier>> = v.nullable(&input.field("taxId"), self.tax_id);
        let dealer_code: Option<Option<Code>> =
            v.nullable(&input.field("dealerCode"), self.dealer_code);
        v.finish()?;
        Ok(CustomerChanges {
            name: name.map(|n| n.0),
            customer_number: customer_number.map(|c| c.map(|c| c.0)),
            tax_id: tax_id.map(|t| t.map(|t| t.0)),
            dealer_code: dealer_code.map(|d| d.map(|d| d.0)),
        })
    }
}

/// The result of a customer mutation.
#[derive(SimpleObject)]
pub struct CustomerPayload {
    /// The customer as stored after the change; null when nothing was written.
    pub customer: Option<Customer>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

impl CustomerPayload {
    fn from_result(result: crate::error::Result<customer::Model>) -> async_graphql::Result<Self> {
        let (customer, user_errors) = payload_parts(result)?;
        Ok(CustomerPayload {
            customer: customer.map(Customer),
            user_errors,
        })
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
            service::authorize_create(principal)?;
            let new = input.parse()?;
            service::create(db, principal, new).await
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
        service::authorize_update(principal).map_err(|e| e.extend())?;
        if !input.customer_number.is_undefined() {
            service::authorize_set_number(principal).map_err(|e| e.extend())?;
        }
        let id = parse_id(&id, "id")?;
        let result = async {
            let changes = input.parse()?;
            service::update(db, principal, id, changes, expected_version).await
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
        service::authorize_delete(principal).map_err(|e| e.extend())?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(service::delete(ctx.db()?, principal, id).await)
    }
}
