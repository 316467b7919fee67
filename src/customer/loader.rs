//! Batched customer lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::customer;
use uuid::Uuid;

use crate::error::SharedError;
use crate::loaders::LoaderContext;

/// Customers by id, within the caller's scope (`Account.customer`, `Contact.customer`).
pub struct CustomerById(pub LoaderContext);

impl Loader<Uuid> for CustomerById {
    type Value = customer::Model;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, customer::Model>, SharedError> {
        let rows = self.0.finish(
            "CustomerById",
            ids.len(),
            super::service::by_ids(&self.0.db, &self.0.scope, ids).await,
        )?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}
