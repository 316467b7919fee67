//! Customer inputs, parsed into the values the service and the writes take: the list filter,
//! a [`NewCustomer`] and [`CustomerChanges`].

use async_graphql::{ErrorExtensions, InputObject, MaybeUndefined};

use crate::error::Result;
use crate::input::{Code, FieldPath, Identifier, LongName, Validation};
use crate::text_search::SearchText;

/// Narrows the `customers` list. All given fields must match.
#[derive(Clone, Debug, Default, InputObject)]
pub struct CustomerFilter {
    /// Every whitespace-separated term occurs in the name or customer number (ignoring case).
    pub search: Option<String>,
    /// Exact dealer code.
    pub dealer_code: Option<String>,
}

/// Filters of the `customers` list, checked.
#[derive(Clone, Debug, Default)]
pub struct CustomerFilterParams {
    /// Name or customer number contains every term, ignoring case.
    pub search: Option<String>,
    /// Exact dealer code.
    pub dealer_code: Option<String>,
}

impl CustomerFilter {
    /// Check the filter's text before it reaches SQL.
    pub fn parse(self) -> async_graphql::Result<CustomerFilterParams> {
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

/// A customer to create, valid.
#[derive(Clone, Debug)]
pub struct NewCustomer {
    /// Display name.
    pub name: String,
    /// Unique reference number.
    pub customer_number: Option<String>,
    /// Tax identifier.
    pub tax_id: Option<String>,
    /// Dealer code.
    pub dealer_code: Option<String>,
}

impl CreateCustomerInput {
    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<NewCustomer> {
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

/// Changes to a customer, valid: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct CustomerChanges {
    /// New name.
    pub name: Option<String>,
    /// New or cleared customer number.
    pub customer_number: Option<Option<String>>,
    /// New or cleared tax id.
    pub tax_id: Option<Option<String>>,
    /// New or cleared dealer code.
    pub dealer_code: Option<Option<String>>,
}

impl UpdateCustomerInput {
    /// Whether the input sets or clears the customer number, which needs its own role.
    pub fn sets_number(&self) -> bool {
        !self.customer_number.is_undefined()
    }

    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<CustomerChanges> {
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
