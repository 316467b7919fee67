//! Every write: creates, updates, deletes, the upsert, patches and shared contacts.

mod accounts;
mod addresses;
mod caps;
mod contact_points;
mod contacts;
mod customers;
mod emails_and_websites;
mod numbers;
mod patch;
mod patch_client_ids;
mod regions;
mod shared;
mod upsert;
