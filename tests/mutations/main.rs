//! Kith's mutation tests: each starts the real server on a random port with a fresh database
//! and speaks HTTP to it, on SQLite, and on PostgreSQL too when `KITH_TEST_DATABASE_URL` names
//! a server. The harness is shared with the read tests.

#[path = "../api/helpers.rs"]
#[macro_use]
#[allow(dead_code, unused_macros)]
mod helpers;

#[path = "../api/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

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
