//! Customers: the roots of the graph.

pub mod graphql;
pub mod loader;
pub mod service;
