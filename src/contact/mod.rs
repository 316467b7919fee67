//! Contacts: direct (on a customer), account-level (on an account), or shared (owned by no
//! one, linked to many customers).
//!
//! `graphql` (the `Contact` type, the contact queries), `mutation` (the contact mutations),
//! `input` (inputs parsed into validated values), `service` (reads), `write` (writes, role
//! checks) and `loader` (batched lookups). Links of shared contacts live in
//! `crate::shared_link`.

pub mod graphql;
pub mod input;
pub mod loader;
pub mod mutation;
pub mod service;
pub mod write;
