//! Batched contact point lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::contact_point;
use uuid::Uuid;

use crate::error::SharedError;
use crate::loaders::{LoaderContext, group_by_parent};

/// A contact's contact points (`Contact.contactPoints`), by contact id.
pub struct ContactPointsByContact(pub LoaderContext);

impl Loader<Uuid> for ContactPointsByContact {
    type Value = Vec<contact_point::Model>;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, SharedError> {
        let rows = self.0.finish(
            "ContactPointsByContact",
            ids.len(),
            super::service::of_contacts(
                &self.0.db,
                &self.0.scope,
                ids,
                self.0.rows.limit(),
                entity::contact_point::Model::ALL_COLUMNS,
            )
            .await,
        )?;
        Ok(group_by_parent(
            rows.into_iter().map(|row| (row.contact_id, row)),
        ))
    }
}
