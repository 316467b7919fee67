//! Every write: creates, updates, deletes, the upsert, patches and shared contacts.

mod accounts;
mod addresses;
mod caps;
mod contact_points;
mod contacts;
mod customers;
mod numbers;
mod patch;
mod shared;
mod upsert;
