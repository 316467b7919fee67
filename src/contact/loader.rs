//! Batched contact lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::contact;
use uuid::Uuid;

use crate::error::SharedError;
use crate::loaders::{LoaderContext, group_by_parent};

/// A customer's direct and linked shared contacts (`Customer.contacts`), by customer id.
pub struct ContactsByCustomer(pub LoaderContext);

impl Loader<Uuid> for ContactsByCustomer {
    type Value = Vec<contact::Model>;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, SharedError> {
        let rows = self.0.finish(
            "ContactsByCustomer",
            ids.len(),
            super::service::of_customers(
                &self.0.db,
                &self.0.scope,
                ids,
                self.0.rows.limit(),
                entity::contact::Model::ALL_COLUMNS,
            )
            .await,
        )?;
        Ok(group_by_parent(rows))
    }
}

/// An account's contacts (`Account.contacts`), by account id.
pub struct ContactsByAccount(pub LoaderContext);

impl Loader<Uuid> for ContactsByAccount {
    type Value = Vec<contact::Model>;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, SharedError> {
        let rows = self.0.finish(
            "ContactsByAccount",
            ids.len(),
            super::service::of_accounts(
                &self.0.db,
                &self.0.scope,
                ids,
                self.0.rows.limit(),
                entity::contact::Model::ALL_COLUMNS,
            )
            .await,
        )?;
        Ok(group_by_parent(rows.into_iter().filter_map(|row| {
            let account_id = row.account_id?;
            Some((account_id, row))
        })))
    }
}
