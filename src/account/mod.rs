//! Accounts: each belongs to one customer.

pub mod graphql;
pub mod input;
pub mod loader;
pub mod mutation;
pub mod service;
pub mod write;
