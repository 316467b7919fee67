//! Batched address lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::service::AttachedAddress;
use crate::error::SharedError;
use crate::loaders::{LoaderContext, group_by_parent};

/// A contact's attached addresses (`Contact.addresses`, `Contact.primaryAddress`), by contact.
pub struct AddressesByContact(pub LoaderContext);

impl Loader<Uuid> for AddressesByContact {
    type Value = Vec<AttachedAddress>;
    type Error = SharedError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, SharedError> {
        let rows = self.0.finish(
            "AddressesByContact",
            ids.len(),
            super::service::of_contacts(
                &self.0.db,
                &self.0.scope,
                ids,
                self.0.rows.limit(),
                entity::address::Model::ALL_COLUMNS,
            )
            .await,
        )?;
        Ok(group_by_parent(
            rows.into_iter().map(|row| (row.contact_id, row)),
        ))
    }
}
