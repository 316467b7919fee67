//! Links between customers and shared contacts. A link has no GraphQL type of its own (it
//! shows as `Contact.linkedCustomers`) and its mutations take two ids, no input object, so
//! the resource has no `graphql` or `input` part.

pub mod loader;
pub mod mutation;
pub mod service;
pub mod write;
