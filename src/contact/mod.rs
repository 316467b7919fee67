//! Contacts: direct (on a customer), account-level, or shared (owned by no one, linked to many
//! customers).

pub mod graphql;
pub mod loader;
pub mod service;
