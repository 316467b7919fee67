//! Contacts: direct (on a customer), account-level, or shared (owned by no one, linked to many
//! customers).

pub mod graphql;
pub mod input;
pub mod loader;
pub mod mutation;
pub mod patch;
pub mod service;
pub mod write;
