//! Batched account lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::account;
use uuid::Uuid;

use crate::error::SharedError;
use crate::loaders::{LoaderContext, group_by_parent};

/// Accounts by id, within the caller's scope (`Contact.account`, `account(id)`).
pub struct AccountById(pub LoaderContext);

impl Loader<Uuid> for AccountById {
    type Value = account::Model;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, account::Model>, SharedError> {
        let rows = self.0.finish(
            "AccountById",
            ids.len(),
            super::service::by_ids(&self.0.db, &self.0.scope, ids).await,
        )?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// A customer's accounts (`Customer.accounts`), keyed by customer id.
pub struct AccountsByCustomer(pub LoaderContext);

impl Loader<Uuid> for AccountsByCustomer {
    type Value = Vec<account::Model>;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, SharedError> {
        let rows = self.0.finish(
            "AccountsByCustomer",
            ids.len(),
            super::service::of_customers(
                &self.0.db,
                &self.0.scope,
                ids,
                self.0.rows.limit(),
                entity::account::Model::ALL_COLUMNS,
            )
            .await,
        )?;
        Ok(group_by_parent(
            rows.into_iter().map(|row| (row.customer_id, row)),
        ))
    }
}
