//! Global object identification (Relay's spec): `interface Node { id: ID! }`, implemented by
//! every object with an id of its own, and the `node(id)` and `nodes(ids)` roots that find any
//! of them by the UUID clients already hold. Ids stay plain UUIDs (issued as UUIDv7s by every
//! table, so unique across them); looking one up asks each table, all at once.

use std::collections::HashMap;

use async_graphql::{Context, ErrorExtensions, ID, Interface, Object};
use uuid::Uuid;

use crate::account::graphql::Account;
use crate::address::graphql::Address;
use crate::contact::graphql::Contact;
use crate::contact_point::graphql::ContactPoint;
use crate::customer::graphql::Customer;
use crate::error::AppError;
use crate::graphql_context::{ContextExt, parse_id};

/// Ids one `nodes` call may ask for.
pub const MAX_NODES: usize = 100;

/// An object with a globally unique id.
#[derive(Clone, Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Unique id (a UUID)."))]
pub enum Node {
    /// A customer.
    Customer(Customer),
    /// An account.
    Account(Account),
    /// A contact.
    Contact(Contact),
    /// A contact point.
    ContactPoint(ContactPoint),
    /// An address.
    Address(Address),
}

/// The `node` and `nodes` roots.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its id (a customer, account, contact, contact point or address); null if
    /// none has that id or it is outside the caller's scope.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let id = parse_id(&id, "id")?;
        Ok(find(ctx, &[id]).await?.remove(&id))
    }

    /// Objects by their ids, in the order asked, each null where `node` would be. At most 100
    /// ids; one statement per kind of object, whatever their number.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::BadUserInput(format!(
                "`ids` holds {} ids; at most {MAX_NODES} may be asked for at once",
                ids.len()
            ))
            .extend());
        }
        let ids = ids
            .iter()
            .map(|id| parse_id(id, "ids"))
            .collect::<async_graphql::Result<Vec<Uuid>>>()?;
        let found = find(ctx, &ids).await?;
        Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
    }
}

/// The objects among `ids` the caller may see, by id: five scoped statements, run together.
async fn find(ctx: &Context<'_>, ids: &[Uuid]) -> async_graphql::Result<HashMap<Uuid, Node>> {
    let scope = ctx.scope()?;
    let db = ctx.db()?;
    let mut keys = ids.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let (customers, accounts, contacts, points, addresses) = futures_util::try_join!(
        crate::customer::service::by_ids(db, scope, &keys),
        crate::account::service::by_ids(db, scope, &keys),
        crate::contact::service::by_ids(db, scope, &keys),
        crate::contact_point::service::by_ids(db, scope, &keys),
        crate::address::service::by_ids(db, scope, &keys),
    )
    .map_err(|error| error.extend())?;
    let mut found = HashMap::with_capacity(keys.len());
    found.extend(
        customers
            .into_iter()
            .map(|row| (row.id, Node::Customer(Customer(row)))),
    );
    found.extend(
        accounts
            .into_iter()
            .map(|row| (row.id, Node::Account(Account(row)))),
    );
    found.extend(
        contacts
            .into_iter()
            .map(|row| (row.id, Node::Contact(Contact(row)))),
    );
    found.extend(
        points
            .into_iter()
            .map(|row| (row.id, Node::ContactPoint(ContactPoint(row)))),
    );
    found.extend(
        addresses
            .into_iter()
            .map(|row| (row.id, Node::Address(Address::from(row)))),
    );
    Ok(found)
}
