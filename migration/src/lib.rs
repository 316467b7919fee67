//! Kith's schema migrations.
//!
//! This crate never imports `entity`: a migration is frozen history, and must keep compiling
//! (and meaning the same thing) after the models move on.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_graph;
mod m20261124_000002_contact_search_index;
mod m20261124_000003_contact_number_per_customer;
mod m20261126_000004_region_names;
mod m20261126_000005_sort_keys;
mod m20261126_000006_change_feed;

/// Every migration Kith knows, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_graph::Migration),
            Box::new(m20261124_000002_contact_search_index::Migration),
            Box::new(m20261124_000003_contact_number_per_customer::Migration),
            Box::new(m20261126_000004_region_names::Migration),
            Box::new(m20261126_000005_sort_keys::Migration),
            Box::new(m20261126_000006_change_feed::Migration),
        ]
    }
}
