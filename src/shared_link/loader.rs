//! Batched shared-link lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::customer;
use uuid::Uuid;

use crate::error::SharedError;
use crate::loaders::{LoaderContext, group_by_parent};

/// The customers a shared contact is linked to (`Contact.linkedCustomers`), by contact id.
pub struct LinkedCustomersByContact(pub LoaderContext);

impl Loader<Uuid> for LinkedCustomersByContact {
    type Value = Vec<customer::Model>;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, SharedError> {
        let rows = self.0.finish(
            "LinkedCustomersByContact",
            ids.len(),
            super::service::linked_customers(&self.0.db, &self.0.scope, ids, self.0.rows.limit())
                .await,
        )?;
        Ok(group_by_parent(rows))
    }
}
