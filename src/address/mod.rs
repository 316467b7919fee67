//! Addresses: typed postal addresses attached to contacts.

pub mod graphql;
pub mod loader;
pub mod service;
