//! Addresses: typed postal addresses attached to contacts.

pub mod graphql;
pub mod input;
pub mod loader;
pub mod mutation;
pub mod service;
pub mod write;
