//! The roles a token may carry (API.md, "Who may do what").

use async_graphql::Enum;

/// A caller's role, as carried in the token's `roles` claim.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Sees and changes everything.
    Admin,
    /// A trusted back-end service: sees and changes everything.
    Service,
    /// A customer acting for the customers named in its token.
    Customer,
    /// Someone acting on behalf of the token's customers.
    Delegate,
    /// An intermediary (broker, accountant) acting for the token's customers.
    Intermediary,
    /// Sees account-level data only, of its customers (or of all when the claim is absent).
    Agency,
}

impl Role {
    /// Parse a claim value, spelled exactly as API.md does (`admin` is not ADMIN): unknown
    /// roles from other systems are ignored, never trusted.
    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "ADMIN" => Some(Role::Admin),
            "SERVICE" => Some(Role::Service),
            "CUSTOMER" => Some(Role::Customer),
            "DELEGATE" => Some(Role::Delegate),
            "INTERMEDIARY" => Some(Role::Intermediary),
            "AGENCY" => Some(Role::Agency),
            _ => None,
        }
    }

    /// The claim spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Service => "SERVICE",
            Role::Customer => "CUSTOMER",
            Role::Delegate => "DELEGATE",
            Role::Intermediary => "INTERMEDIARY",
            Role::Agency => "AGENCY",
        }
    }
}
