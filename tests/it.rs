//! Kith's integration tests, in one binary (one link instead of one per suite): each test
//! starts the real server on a random port with a fresh database and speaks HTTP to it. Every
//! test runs on SQLite, and on PostgreSQL too when `KITH_TEST_DATABASE_URL` names a server.
//!
//! - `support`: the harness (`TestApp`, `backend_tests!`) and the fixtures every suite shares;
//! - `api`: reads, transport, auth, limits, the CLI and the schema;
//! - `mutations`: every write.
//!
//! Run one suite with `cargo test --test it api::` or `cargo test --test it mutations::`.

#[macro_use]
mod support;

mod api;
mod mutations;
