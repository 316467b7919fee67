//! GraphQL mutations of contacts.

use async_graphql::{Context, ID, MaybeUndefined, Object, SimpleObject};
use entity::contact;

use super::graphql::Contact;
use super::input::{
    CreateContactInput, OwnerRef, SaveContactInput, UpdateContactInput, check_new_contact,
    parse_nested, parse_owner,
};
use super::write::{self, OwnerChange, SaveRequest};
use crate::error::Result;
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::{FieldPath, UserError, Validation, parse_uuid};
use crate::write::{DeletePayload, payload_parts};

/// The result of a contact mutation.
#[derive(SimpleObject)]
pub struct ContactPayload {
    /// The contact as stored after the change; null when nothing was written.
    pub contact: Option<Contact>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

impl ContactPayload {
    /// The payload for a mutation's outcome.
    pub fn from_result(result: Result<contact::Model>) -> async_graphql::Result<Self> {
        let (contact, user_errors) = payload_parts(result)?;
        Ok(ContactPayload {
            contact: contact.map(Contact),
            user_errors,
        })
    }
}

/// The result of `saveContact`.
#[derive(SimpleObject)]
pub struct SaveContactPayload {
    /// The contact as stored; null when nothing was written.
    pub contact: Option<Contact>,
    /// True when a new contact was created, false when an existing one was updated.
    pub created: bool,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

/// Read an update's `customerId` / `accountId` into an owner change.
pub fn owner_change(
    v: &mut Validation,
    input: &FieldPath,
    customer_id: MaybeUndefined<ID>,
    account_id: MaybeUndefined<ID>,
) -> OwnerChange {
    let mut id = |name: &str, raw: ID| v.check(&input.field(name), parse_uuid(&raw));
    match (customer_id, account_id) {
        (customer, MaybeUndefined::Value(account)) => {
            let hint = match customer {
                MaybeUndefined::Value(customer) => id("customerId", customer),
                _ => None,
            };
            match id("accountId", account) {
                Some(account) => OwnerChange::MoveTo(OwnerRef::Account(account), hint),
                None => OwnerChange::Keep,
            }
        }
        (MaybeUndefined::Value(customer), _) => match id("customerId", customer) {
            Some(customer) => OwnerChange::MoveTo(OwnerRef::Customer(customer), None),
            None => OwnerChange::Keep,
        },
        (MaybeUndefined::Null, _) => {
            v.push(UserError::invalid(
                &input.field("customerId"),
                "cannot be cleared: use convertToSharedContact to make a contact shared",
            ));
            OwnerChange::Keep
        }
        (MaybeUndefined::Undefined, MaybeUndefined::Null) => OwnerChange::DetachFromAccount,
        (MaybeUndefined::Undefined, MaybeUndefined::Undefined) => OwnerChange::Keep,
    }
}

/// Contact mutations.
#[derive(Default)]
pub struct ContactMutation;

#[Object]
impl ContactMutation {
    /// Create a contact, with its primary address, further addresses and contact points, in
    /// one transaction. Give `customerId` (a direct contact), `accountId` (an account-level
    /// contact) or neither (a shared contact: ADMIN and SERVICE only).
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let (owner, hint) = parse_owner(&mut v, &path, input.customer_id, input.account_id);
        let changes = input.fields.parse(&mut v, &path);
        check_new_contact(&changes, &mut v, &path);
        let nested = parse_nested(
            &mut v,
            &path,
            input.primary_address,
            input.addresses,
            input.contact_points,
        );
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            write::create(db, principal, owner, hint, changes, nested).await
        }
        .await;
        ContactPayload::from_result(result)
    }

    /// Change a contact; only the fields given change, `null` clears a nullable field.
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateContactInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let owner = owner_change(&mut v, &path, input.customer_id, input.account_id);
        let changes = input.fields.parse(&mut v, &path);
        let nested = parse_nested(
            &mut v,
            &path,
            input.primary_address,
            input.addresses,
            input.contact_points,
        );
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            write::update(db, principal, id, owner, changes, nested, expected_version).await
        }
        .await;
        ContactPayload::from_result(result)
    }

    /// Delete a contact with its contact points and the addresses no other contact uses.
    /// Deleting a shared contact needs ADMIN or SERVICE (others unlink it instead).
    async fn delete_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeletePayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(write::delete(ctx.db()?, principal, id).await)
    }

    /// Create or update a contact in one transaction: matched by `id`, else `contactNumber`,
    /// else by name within the owner. Lists given replace the stored ones.
    async fn save_contact(
        &self,
        ctx: &Context<'_>,
        input: SaveContactInput,
    ) -> async_graphql::Result<SaveContactPayload> {
        let principal = ctx.principal()?;
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let id = input
            .id
            .and_then(|id| v.check(&path.field("id"), parse_uuid(&id)));
        let owner_given = input.customer_id.is_some() || input.account_id.is_some();
        let (owner, customer_hint) =
            parse_owner(&mut v, &path, input.customer_id, input.account_id);
        let changes = input.fields.parse(&mut v, &path);
        let nested = parse_nested(
            &mut v,
            &path,
            input.primary_address,
            input.addresses,
            input.contact_points,
        );
        let db = ctx.db()?;
        let result = async {
            v.finish()?;
            let request = SaveRequest {
                id,
                owner,
                customer_hint,
                owner_given,
                changes,
                nested,
            };
            write::save(db, principal, request).await
        }
        .await;
        let (saved, user_errors) = payload_parts(result)?;
        Ok(SaveContactPayload {
            created: saved.as_ref().is_some_and(|(_, created)| *created),
            contact: saved.map(|(contact, _)| Contact(contact)),
            user_errors,
        })
    }

    /// Make a direct contact shared: it loses its owner and stays linked to its former
    /// customer. Account-level and already shared contacts are refused.
    async fn convert_to_shared_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        ContactPayload::from_result(write::convert_to_shared(ctx.db()?, principal, id).await)
    }

    /// Link a shared contact to a customer. Linking again changes nothing and is no error.
    async fn add_shared_contact(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        contact_id: ID,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let customer_id = parse_id(&customer_id, "customerId")?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        ContactPayload::from_result(
            write::add_link(ctx.db()?, principal, customer_id, contact_id).await,
        )
    }

    /// Unlink a shared contact from a customer. Unlinking what is not linked changes nothing.
    async fn remove_shared_contact(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        contact_id: ID,
    ) -> async_graphql::Result<ContactPayload> {
        let principal = ctx.principal()?;
        let customer_id = parse_id(&customer_id, "customerId")?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        ContactPayload::from_result(
            write::remove_link(ctx.db()?, principal, customer_id, contact_id).await,
        )
    }
}
