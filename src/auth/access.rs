//! Who may change what (API.md, "Who may do what"), checked in the service layer beside the
//! read scope. An id the caller cannot see is `NOT_FOUND`; an operation its role may never
//! perform is `FORBIDDEN`.

use super::{Principal, Role};
use crate::error::{AppError, Result};

/// Where a contact hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactLevel {
    /// Directly on a customer.
    Direct,
    /// On an account.
    Account,
    /// Shared: owned by no one, linked to customers.
    Shared,
}

impl ContactLevel {
    /// The level of a stored contact.
    pub fn of(contact: &entity::contact::Model) -> ContactLevel {
        match (contact.customer_id, contact.account_id) {
            (_, Some(_)) => ContactLevel::Account,
            (Some(_), None) => ContactLevel::Direct,
            (None, None) => ContactLevel::Shared,
        }
    }
}

fn forbidden(message: &str) -> AppError {
    AppError::Forbidden(message.to_owned())
}

impl Principal {
    fn is_trusted(&self) -> bool {
        self.roles.contains(&Role::Admin) || self.roles.contains(&Role::Service)
    }

    fn is_customer_level(&self) -> bool {
        [Role::Customer, Role::Delegate, Role::Intermediary]
            .iter()
            .any(|role| self.roles.contains(role))
    }

    /// Creating and deleting customers, and every account change: ADMIN and SERVICE only.
    pub fn require_trusted(&self, operation: &str) -> Result<()> {
        if self.is_trusted() {
            Ok(())
        } else {
            Err(forbidden(&format!(
                "{operation} needs the ADMIN or SERVICE role"
            )))
        }
    }

    /// Updating a customer's own details: also CUSTOMER, for its customers.
    pub fn require_customer_editor(&self) -> Result<()> {
        if self.is_trusted() || self.roles.contains(&Role::Customer) {
            Ok(())
        } else {
            Err(forbidden(
                "updating a customer needs the ADMIN, SERVICE or CUSTOMER role",
            ))
        }
    }

    /// Changing a contact (and its contact points and addresses) at `level`. Whether the
    /// contact is in reach is the read scope's business; this is about the role.
    pub fn require_contact_editor(&self, level: ContactLevel) -> Result<()> {
        if self.is_trusted() || self.is_customer_level() {
            return Ok(());
        }
        if self.roles.contains(&Role::Agency) {
            return match level {
                ContactLevel::Account => Ok(()),
                _ => Err(forbidden("AGENCY may change account-level contacts only")),
            };
        }
        Err(forbidden("this token's roles may not change contacts"))
    }

    /// Creating or deleting a shared contact as such (it affects every linked customer).
    pub fn require_shared_contact_owner(&self, operation: &str) -> Result<()> {
        self.require_trusted(operation)
    }

    /// Linking and unlinking shared contacts.
    pub fn require_link_editor(&self) -> Result<()> {
        if self.is_trusted() || self.is_customer_level() {
            Ok(())
        } else {
            Err(forbidden(
                "this token's roles may not change shared-contact links",
            ))
        }
    }
}
