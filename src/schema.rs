//! Assembling the GraphQL schema: the merged query and mutation roots, and the DataLoaders
//! every request gets.

use std::sync::Arc;

use async_graphql::{MergedObject, MergedSubscription, Request, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::account::graphql::AccountQuery;
use crate::account::loader::{AccountById, AccountsByCustomer};
use crate::account::mutation::AccountMutation;
use crate::address::loader::AddressesByContact;
use crate::address::mutation::AddressMutation;
use crate::auth::graphql::AuthQuery;
use crate::config::Settings;
use crate::contact::graphql::ContactQuery;
use crate::contact::loader::{ContactsByAccount, ContactsByCustomer};
use crate::contact::mutation::{ContactMutation, ContactPatchMutation};
use crate::contact_point::loader::ContactPointsByContact;
use crate::contact_point::mutation::ContactPointMutation;
use crate::customer::graphql::CustomerQuery;
use crate::customer::loader::CustomerById;
use crate::customer::mutation::CustomerMutation;
use crate::history::feed::Feed;
use crate::history::graphql::ChangeQuery;
use crate::history::subscription::ChangeSubscription;
use crate::loaders::{LoaderContext, data_loader};
use crate::node::NodeQuery;
use crate::shared_link::loader::LinkedCustomersByContact;
use crate::shared_link::mutation::SharedLinkMutation;

// The root types carry the names public GraphQL APIs and codegen tools default to: `Query`
// and `Mutation` and `Subscription`.

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    AuthQuery,
    CustomerQuery,
    AccountQuery,
    ContactQuery,
    NodeQuery,
    ChangeQuery,
);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(
    // In the order the schema lists their mutations.
    CustomerMutation,
    AccountMutation,
    ContactPointMutation,
    AddressMutation,
    ContactMutation,
    SharedLinkMutation,
    ContactPatchMutation,
);

/// Every subscription of the API (graphql-transport-ws on `/graphql`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(ChangeSubscription);

/// Kith's schema type.
pub type KithSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

/// The schema served by a running server; subscriptions read `feed`.
pub fn build(settings: Arc<Settings>, db: DatabaseConnection, feed: Arc<Feed>) -> KithSchema {
    // No extension and no built-in limits: the HTTP layer costs every document before it
    // reaches the schema (`crate::cost`), so no field pays for a per-field hook.
    let mut builder = builder();
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.data(settings).data(db).data(feed).finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// Attach a fresh set of loaders for this caller to a request: one of each, all sharing the
/// request's scope, row budget and batch runner.
pub fn attach_loaders(request: Request, context: LoaderContext) -> Request {
    let spawner = &context.spawner;
    let c = || context.clone();
    request
        .data(data_loader(CustomerById(c()), spawner))
        .data(data_loader(AccountById(c()), spawner))
        .data(data_loader(AccountsByCustomer(c()), spawner))
        .data(data_loader(ContactsByCustomer(c()), spawner))
        .data(data_loader(ContactsByAccount(c()), spawner))
        .data(data_loader(ContactPointsByContact(c()), spawner))
        .data(data_loader(AddressesByContact(c()), spawner))
        .data(data_loader(LinkedCustomersByContact(c()), spawner))
}
