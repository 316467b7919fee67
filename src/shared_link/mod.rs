//! Links between customers and shared contacts.

pub mod loader;
pub mod service;
