//! SeaORM models of Kith's tables, and nothing else.
//!
//! These are rows, not API types: the GraphQL layer maps them into its own objects so that a
//! column change never silently changes the public schema.

pub mod account;
pub mod address;
pub mod change_party;
pub mod change_record;
pub mod contact;
pub mod contact_address;
pub mod contact_point;
pub mod customer;
pub mod shared_contact_link;
