//! Account inputs, parsed into the values the service and the writes take: the list filter,
//! a [`NewAccount`] and [`AccountChanges`]. Also [`AccountStatus`], which inputs and the
//! `Account` type share.

use async_graphql::{ID, InputObject, MaybeUndefined};
use uuid::Uuid;

use crate::customer::input::filter_text;
use crate::db_enum::db_enum;
use crate::error::{Result, UserError};
use crate::graphql_context::parse_id;
use crate::input::{Code, FieldPath, LongName, Validation, parse_uuid};

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

/// Filters of the `accounts` list, checked.
#[derive(Clone, Debug, Default)]
pub struct AccountFilterParams {
    /// Accounts of this customer.
    pub customer_id: Option<Uuid>,
    /// Accounts in this state.
    pub status: Option<AccountStatus>,
    /// Name or account number contains every term, ignoring case.
    pub search: Option<String>,
}

impl AccountFilter {
    /// Check the filter before it reaches SQL.
    pub fn parse(self) -> async_graphql::Result<AccountFilterParams> {
        Ok(AccountFilterParams {
            customer_id: self
                .customer_id
                .map(|id| parse_id(&id, "filter.customerId"))
                .transpose()?,
            status: self.status,
            search: filter_text("filter.search", self.search)?,
        })
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

/// An account to create, valid.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The customer that holds it.
    pub customer_id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique reference number.
    pub account_number: Option<String>,
    /// Lifecycle state.
    pub status: AccountStatus,
}

impl CreateAccountInput {
    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<NewAccount> {
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
            status: self.status.unwrap_or(AccountStatus::Active),
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

/// Changes to an account, valid: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct AccountChanges {
    /// Move the account to another customer.
    pub customer_id: Option<Uuid>,
    /// New name.
    pub name: Option<String>,
    /// New or cleared account number.
    pub account_number: Option<Option<String>>,
    /// New status.
    pub status: Option<AccountStatus>,
}

impl UpdateAccountInput {
    /// Parse the whole input, reporting every problem at once.
    pub fn parse(self) -> Result<AccountChanges> {
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
            MaybeUndefined::Value(status) => Some(status),
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
