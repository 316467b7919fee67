//! GraphQL mutations of contacts and their payloads. Resolvers parse their input
//! (`super::input`) and hand it to the write layer (`super::write`), which checks roles.

use async_graphql::{Context, ID, Object, SimpleObject};

use super::graphql::Contact;
use super::input::{
    ContactPatchInput, CreateContactInput, PatchAction, PatchEntity, SaveContactInput,
    UpdateContactInput,
};
use super::write::{self, AppliedItem};
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::UserError;
use crate::payload::{DeletePayload, payload, payload_parts};

payload! {
    /// The result of a contact mutation.
    ContactPayload {
        /// The contact as stored after the change; null when nothing was written.
        contact: Contact,
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

/// What one patch item did.
#[derive(SimpleObject, Clone, Debug)]
pub struct PatchResult {
    /// The item's `patchClientId` as sent (a number in its string form: `1` gives `"1"`);
    /// null for the contact's own fields.
    pub patch_client_id: Option<ID>,
    /// The kind of object.
    pub entity: PatchEntity,
    /// What happened to it.
    pub action: PatchAction,
    /// The object's id (for CREATE, the new id).
    pub id: ID,
}

impl From<AppliedItem> for PatchResult {
    fn from(item: AppliedItem) -> PatchResult {
        PatchResult {
            patch_client_id: item.client_id.map(ID),
            entity: item.entity,
            action: item.action,
            id: ID(item.id.to_string()),
        }
    }
}

/// The result of `patchContact`.
#[derive(SimpleObject)]
pub struct PatchContactPayload {
    /// The contact after the patch; null when nothing was written.
    pub contact: Option<Contact>,
    /// One entry per applied operation, in order; empty when nothing was written.
    pub results: Vec<PatchResult>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
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
        let parsed = input.parse();
        let db = ctx.db()?;
        let result = async { write::create(db, principal, parsed?).await }.await;
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
        let parsed = input.parse();
        let db = ctx.db()?;
        let result =
            async { write::update(db, principal, id, parsed?, expected_version).await }.await;
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
        let parsed = input.parse();
        let db = ctx.db()?;
        let result = async { write::save(db, principal, parsed?).await }.await;
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
}

/// `patchContact`. A root of its own only so that the schema lists it after the shared-link
/// mutations (`crate::shared_link::mutation`), where it has always been.
#[derive(Default)]
pub struct ContactPatchMutation;

#[Object]
impl ContactPatchMutation {
    /// Change a contact and its contact points and addresses in one transaction. Items apply
    /// in order (contact fields, then contact points, then addresses); if any fails, nothing
    /// is written and the user errors point at the failing item, e.g.
    /// `["patch", "addresses", "1", "city"]`. A contact that would hold more than 50 contact
    /// points or 20 addresses afterwards is `TOO_MANY` at `["patch", "contactPoints"]` or
    /// `["patch", "addresses"]`.
    async fn patch_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        patch: ContactPatchInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<PatchContactPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let parsed = patch.parse();
        let db = ctx.db()?;
        let result =
            async { write::patch(db, principal, id, parsed?, expected_version).await }.await;
        let (applied, user_errors) = payload_parts(result)?;
        let (contact, results) = match applied {
            Some((contact, applied)) => (
                Some(Contact(contact)),
                applied.into_iter().map(PatchResult::from).collect(),
            ),
            None => (None, Vec::new()),
        };
        Ok(PatchContactPayload {
            contact,
            results,
            user_errors,
        })
    }
}
