//! Kith: a GraphQL server for the customer / account / contact graph.
//!
//! Resources live in one module each (`customer`, `account`, `contact`, `contact_point`,
//! `address`, `shared_link`), with their GraphQL types, loaders and service; cross-cutting
//! concerns sit beside them.

pub mod account;
pub mod address;
pub mod app;
pub mod auth;
pub mod batch;
pub mod cli;
pub mod config;
pub mod contact;
pub mod contact_point;
pub mod cost;
pub mod customer;
pub mod db;
mod db_enum;
pub mod error;
pub mod graphql_context;
pub mod history;
pub mod http;
pub mod input;
pub mod loaders;
pub mod memory;
pub mod metrics;
pub mod node;
pub mod ordering;
pub mod paging;
pub mod payload;
pub mod read;
pub mod schema;
pub mod seed;
pub mod shared_link;
pub mod telemetry;
pub mod text_search;
pub mod write;

pub use app::App;
pub use config::Settings;
