//! The subscriptions (API.md): `customerChanged(customerId)` and
//! `contactChanged(customerId, contactId)`. Each event carries the change and the object as
//! the *subscriber* may see it now: both scoped and masked for the subscriber, never for the
//! writer. Events come from this instance's [`Feed`], which every instance fills from the
//! change table.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Object, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use super::feed::Feed;
use super::graphql::{Change, Reader};
use super::service::ChangeRecord;
use crate::auth::Principal;
use crate::contact::graphql::Contact;
use crate::customer::graphql::Customer;
use crate::error::AppError;
use crate::graphql_context::{ContextExt, parse_id};

/// A change to a customer or to anything it holds.
pub struct CustomerChangeEvent {
    change: Change,
    customer_id: Uuid,
}

#[Object]
impl CustomerChangeEvent {
    /// The change, as the subscriber may see it.
    async fn change(&self) -> &Change {
        &self.change
    }

    /// The customer as the subscriber sees it now; null once it is deleted, or for callers
    /// who see no customer rows (AGENCY).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let row = crate::customer::service::find(ctx.db()?, ctx.scope()?, self.customer_id)
            .await
            .map_err(|e| e.extend())?;
        Ok(row.map(Customer))
    }
}

/// A change to a contact, its contact points, addresses or links.
pub struct ContactChangeEvent {
    change: Change,
    contact_id: Uuid,
}

#[Object]
impl ContactChangeEvent {
    /// The change, as the subscriber may see it.
    async fn change(&self) -> &Change {
        &self.change
    }

    /// The contact as the subscriber sees it now; null once it is deleted or out of the
    /// subscriber's reach.
    async fn contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        let row = crate::contact::service::find(ctx.db()?, ctx.scope()?, self.contact_id)
            .await
            .map_err(|e| e.extend())?;
        Ok(row.map(Contact))
    }
}

/// Every subscription of the API.
#[derive(Default)]
pub struct ChangeSubscription;

#[Subscription]
impl ChangeSubscription {
    /// Changes to a customer and to everything it holds (its accounts, its contacts with their
    /// contact points, addresses and links), committed from now on, in commit order.
    async fn customer_changed(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<CustomerChangeEvent>>> {
        // Subscribed first, before the checks below read the database: a change committed
        // while they run is delivered, not lost (the protocol has no "subscribed" reply that a
        // client could wait for).
        let receiver = ctx.data::<Arc<Feed>>()?.subscribe();
        let principal = ctx.principal()?.clone();
        let customer_id = parse_id(&customer_id, "customerId")?;
        let exists = crate::customer::service::find(
            ctx.db()?,
            &crate::auth::Scope::everything(),
            customer_id,
        )
        .await
        .map_err(|e| e.extend())?
        .is_some();
        if !exists || !principal.scope.reaches_customer(customer_id) {
            return Err(AppError::NotFound("customer").extend());
        }
        let reader = Reader::of(ctx)?;
        let events = matching(receiver, principal, move |record| {
            record.customers.contains(&customer_id)
        });
        Ok(futures_util::StreamExt::map(events, move |record| {
            record.map(|record| CustomerChangeEvent {
                change: Change::new(record, reader.clone()),
                customer_id,
            })
        }))
    }

    /// Changes to one contact of a customer (a direct, account-level or linked shared
    /// contact), its contact points, addresses and links, committed from now on.
    async fn contact_changed(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        contact_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ContactChangeEvent>>> {
        // Subscribed first, as `customerChanged` is.
        let receiver = ctx.data::<Arc<Feed>>()?.subscribe();
        let principal = ctx.principal()?.clone();
        let customer_id = parse_id(&customer_id, "customerId")?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        let db = ctx.db()?;
        let contact = crate::contact::service::find(db, &principal.scope, contact_id)
            .await
            .map_err(|e| e.extend())?;
        let belongs = match contact {
            None => false,
            Some(contact) if contact.customer_id == Some(customer_id) => true,
            Some(_) => crate::shared_link::service::linked_customers(
                db,
                &principal.scope,
                &[contact_id],
                u64::from(u16::MAX),
            )
            .await
            .map_err(|e| e.extend())?
            .iter()
            .any(|(_, customer)| customer.id == customer_id),
        };
        if !belongs {
            return Err(AppError::NotFound("contact").extend());
        }
        let reader = Reader::of(ctx)?;
        let events = matching(receiver, principal, move |record| {
            record.contacts.contains(&contact_id)
        });
        Ok(futures_util::StreamExt::map(events, move |record| {
            record.map(|record| ContactChangeEvent {
                change: Change::new(record, reader.clone()),
                contact_id,
            })
        }))
    }
}

/// The records of `receiver` that `wanted` picks and `principal` may see. A subscriber that
/// falls more than the feed's backlog behind gets one error and its subscription ends (it may
/// subscribe again), rather than a silent gap.
fn matching(
    receiver: Receiver<Arc<ChangeRecord>>,
    principal: Principal,
    wanted: impl Fn(&ChangeRecord) -> bool + Send + Sync + 'static,
) -> impl Stream<Item = async_graphql::Result<Arc<ChangeRecord>>> {
    let keep = Arc::new(move |record: &ChangeRecord| {
        wanted(record)
            && principal
                .scope
                .sees_change(&record.customers, record.row.account_id)
    });
    futures_util::stream::unfold(Some(receiver), move |state| {
        let keep = keep.clone();
        async move {
            let mut receiver = state?;
            loop {
                match receiver.recv().await {
                    Ok(record) if keep(&record) => return Some((Ok(record), Some(receiver))),
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        let error = AppError::Unavailable(format!(
                            "this subscription fell {missed} changes behind and was ended; \
                             subscribe again (read `history` for what was missed)"
                        ));
                        return Some((Err(error.extend()), None));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
}
