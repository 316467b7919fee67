//! Assembling the GraphQL schema: the merged query and mutation roots.

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::account::graphql::{AccountMutation, AccountQuery};
use crate::address::graphql::AddressMutation;
use crate::auth::graphql::AuthQuery;
use crate::config::Settings;
use crate::contact::graphql::ContactQuery;
use crate::contact::mutation::ContactMutation;
use crate::contact::patch::PatchMutation;
use crate::contact_point::graphql::ContactPointMutation;
use crate::customer::graphql::{CustomerMutation, CustomerQuery};

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct QueryRoot(AuthQuery, CustomerQuery, AccountQuery, ContactQuery);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    CustomerMutation,
    AccountMutation,
    ContactPointMutation,
    AddressMutation,
    ContactMutation,
    PatchMutation,
);

/// Kith's schema type.
pub type KithSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
}

/// The schema served by a running server.
pub fn build(settings: Arc<Settings>, db: DatabaseConnection) -> KithSchema {
    // No extension and no built-in limits: the HTTP layer costs every document before it
    // reaches the schema (`crate::cost`), so no field pays for a per-field hook.
    let mut builder = builder();
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.data(settings).data(db).finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
