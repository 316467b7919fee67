//! Reads, transport, authentication, limits, the CLI and the schema.

mod auth;
mod cli;
mod compiled_reads;
mod config;
mod conformance;
mod connections;
mod feed;
mod history;
mod http;
mod limits;
mod logging;
mod masking;
mod migrations;
mod nodes;
mod observability;
mod order;
mod paging;
mod persisted;
mod query_counts;
mod reads;
mod resilience;
mod scoping;
mod sorting;
mod subscriptions;
mod transport;
