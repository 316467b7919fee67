//! Who is calling, and what they may see: JWT verification, the `Principal`, its `Scope`, and
//! the field guard that masks sensitive values.

pub mod access;
pub mod field_guard;
pub mod graphql;
pub mod jwt;
pub mod principal;
pub mod role;
pub mod scope;

pub use jwt::{Claims, JwtKeys};
pub use principal::Principal;
pub use role::Role;
pub use scope::Scope;

/// The permission that lets a caller read `taxId` and `bankAccountDetails` unmasked.
pub const UNMASK_TAX_ID_PERMISSION: &str = "restunmasktaxid";
