//! An authenticated caller: who it is, its roles and customers, and the scope derived from them.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::jwt::Claims;
use super::role::Role;
use super::scope::Scope;

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
    /// The tracking id of the request it acts in, recorded with the changes it makes.
    pub tracking_id: Option<String>,
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
            tracking_id: None,
        }
    }

    /// Whether the caller holds `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}
