//! Who is calling, and what they may see: JWT verification, the `Principal`, its `Scope`, and
//! the field guard that masks sensitive values.

pub mod access;
pub mod field_guard;
pub mod graphql;
pub mod jwt;
pub mod scope;

use std::collections::BTreeSet;

use async_graphql::Enum;
use uuid::Uuid;

pub use jwt::{Claims, JwtKeys};
pub use scope::Scope;

/// The permission that lets a caller read `taxId` and `bankAccountDetails` unmasked.
pub const UNMASK_TAX_ID_PERMISSION: &str = "restunmasktaxid";

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

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The token's `sub`, if it has one.
    pub subject: Option<String>,
    /// The roles Kith knows, from the `roles` claim.
    pub roles: BTreeSet<Role>,
    /// The `customers` claim; `None` when the token has none.
    pub customers: Option<Vec<Uuid>>,
    /// The `permissions` claim.
    pub permissions: Vec<String>,
    /// What this caller may read, derived once from roles and customers.
    pub scope: Scope,
}

impl Principal {
    /// Build a principal from verified claims.
    pub fn from_claims(claims: Claims) -> Principal {
        let roles: BTreeSet<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        let scope = Scope::for_roles(&roles, claims.customers.as_deref());
        Principal {
            subject: claims.sub,
            roles,
            customers: claims.customers,
            permissions: claims.permissions,
            scope,
        }
    }

    /// Whether the caller holds `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}
