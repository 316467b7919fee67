//! Accounts: each belongs to one customer.

pub mod graphql;
pub mod loader;
pub mod service;
