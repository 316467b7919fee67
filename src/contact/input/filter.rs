//! The `contacts` list filter, checked into the values the service takes.

use async_graphql::{ID, InputObject};
use uuid::Uuid;

use super::ContactStatus;
use crate::customer::input::filter_text;
use crate::graphql_context::parse_id;

/// Narrows the `contacts` list. All given fields must match.
#[derive(Clone, Debug, Default, InputObject)]
pub struct ContactFilter {
    /// The customer's contacts: direct, account-level, and shared ones linked to it.
    pub customer_id: Option<ID>,
    /// The account's contacts.
    pub account_id: Option<ID>,
    /// `true`: only shared contacts; `false`: only owned ones.
    pub shared: Option<bool>,
    /// Exact dealer code.
    pub dealer_code: Option<String>,
    /// Contacts in this state.
    pub status: Option<ContactStatus>,
    /// Every whitespace-separated term occurs in the first, last or company name or the email
    /// address (ignoring case).
    pub search: Option<String>,
}

impl ContactFilter {
    /// Check the filter's ids and text before they reach SQL.
    pub fn parse(self) -> async_graphql::Result<ContactFilterParams> {
        Ok(ContactFilterParams {
            customer_id: self
                .customer_id
                .map(|id| parse_id(&id, "filter.customerId"))
                .transpose()?,
            account_id: self
                .account_id
                .map(|id| parse_id(&id, "filter.accountId"))
                .transpose()?,
            shared: self.shared,
            dealer_code: filter_text("filter.dealerCode", self.dealer_code)?,
            status: self.status.map(ContactStatus::as_db),
            search: filter_text("filter.search", self.search)?,
        })
    }
}

/// Filters of the `contacts` list, checked.
#[derive(Clone, Debug, Default)]
pub struct ContactFilterParams {
    /// The customer's contacts: direct, account-level, and shared ones linked to it.
    pub customer_id: Option<Uuid>,
    /// The account's contacts.
    pub account_id: Option<Uuid>,
    /// Only shared contacts (`true`) or only owned ones (`false`).
    pub shared: Option<bool>,
    /// Exact dealer code.
    pub dealer_code: Option<String>,
    /// Stored status value.
    pub status: Option<&'static str>,
    /// Name, company name or email contains every term, ignoring case.
    pub search: Option<String>,
}
