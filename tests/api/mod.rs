//! Reads, transport, authentication, limits, the CLI and the schema.

mod auth;
mod cli;
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
