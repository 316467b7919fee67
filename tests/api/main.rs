//! Kith's API tests: each starts the real server on a random port with a fresh database and
//! speaks HTTP to it. Every test runs on SQLite, and on PostgreSQL too when
//! `KITH_TEST_DATABASE_URL` names a server.

#[macro_use]
mod helpers;

mod auth;
mod cli;
mod fixtures;
mod http;
mod limits;
mod logging;
mod masking;
mod migrations;
mod paging;
mod query_counts;
mod reads;
mod resilience;
mod scoping;
mod transport;
