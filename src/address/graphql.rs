//! GraphQL types of addresses.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::address;

use super::input::AddressInput;
use super::service::AttachedAddress;
use super::write::{self, AttachTarget};
use crate::db_enum::db_enum;
use crate::graphql_context::{ContextExt, parse_id};
use crate::input::{FieldPath, UserError, Validation, parse_uuid};
use crate::write::{DeletePayload, payload_parts};

db_enum! {
    /// What an address is used for.
    pub enum AddressType {
        /// Street (physical) address.
        Street => "STREET",
        /// Post office box.
        Pobox => "POBOX",
        /// Postal (mailing) address.
        Postal => "POSTAL",
        /// Billing address.
        Billing => "BILLING",
        /// Any other use.
        Other => "OTHER",
    }
}

/// GraphQL `Address` (described on its `#[Object]` impl, where the schema reads it).
pub struct Address {
    address: address::Model,
    is_primary: bool,
}

impl From<AttachedAddress> for Address {
    fn from(attached: AttachedAddress) -> Self {
        Address {
            address: attached.address,
            is_primary: attached.is_primary,
        }
    }
}

/// A postal address, as attached to the contact it was reached through.
#[Object]
impl Address {
    /// Unique id (a UUID).
    async fn id(&self) -> ID {
        ID(self.address.id.to_string())
    }
    /// What the address is used for.
    async fn address_type(&self) -> async_graphql::Result<AddressType> {
        AddressType::from_db(&self.address.address_type)
    }
    /// First address line.
    async fn line1(&self) -> &str {
        &self.address.line1
    }
    /// Second address line.
    async fn line2(&self) -> Option<&str> {
        self.address.line2.as_deref()
    }
    /// Third address line.
    async fn line3(&self) -> Option<&str> {
        self.address.line3.as_deref()
    }
    /// Fourth address line.
    async fn line4(&self) -> Option<&str> {
        self.address.line4.as_deref()
    }
    /// City or town.
    async fn city(&self) -> &str {
        &self.address.city
    }
    /// State, province or region code (e.g. `CA`, `NSW`).
    async fn state(&self) -> &str {
        &self.address.state_code
    }
    /// State name, when known (e.g. `California`).
    async fn state_name(&self) -> Option<&str> {
        self.address.state_name.as_deref()
    }
    /// Postal or ZIP code.
    async fn postal_code(&self) -> &str {
        &self.address.postal_code
    }
    /// Country, ISO 3166-1 alpha-2 (e.g. `US`, `GB`).
    async fn country(&self) -> Option<&str> {
        self.address.country.as_deref()
    }
    /// Latitude in decimal degrees.
    async fn latitude(&self) -> Option<f64> {
        self.address.latitude
    }
    /// Longitude in decimal degrees.
    async fn longitude(&self) -> Option<f64> {
        self.address.longitude
    }
    /// Whether this is the primary address of the contact it was reached through.
    async fn is_primary(&self) -> bool {
        self.is_primary
    }
    /// When the address was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.address.created_at
    }
    /// When the address last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.address.updated_at
    }
    /// Incremented by every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.address.version
    }
}

impl Address {
    /// An address not reached through a contact (`isPrimary` is then false).
    pub fn standalone(address: address::Model) -> Address {
        Address {
            address,
            is_primary: false,
        }
    }
}

/// The result of an address mutation.
#[derive(SimpleObject)]
pub struct AddressPayload {
    /// The address as stored after the change; null when nothing was written.
    pub address: Option<Address>,
    /// Why nothing was written.
    pub user_errors: Vec<UserError>,
}

/// The result of `detachAddress`.
#[derive(SimpleObject)]
pub struct DetachAddressPayload {
    /// Id of the detached address; null when nothing was written.
    pub address_id: Option<ID>,
    /// The detached address as it is now, still attached to other contacts; null when it was
    /// deleted because no contact uses it any more (or when nothing was written).
    pub address: Option<Address>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Address mutations.
#[derive(Default)]
pub struct AddressMutation;

#[Object]
impl AddressMutation {
    /// Attach an address to a contact: an existing one (`addressId`, already attached to a
    /// contact you may change) or a new one (`input`). `isPrimary` makes it the contact's
    /// primary address, replacing the previous one. A contact holds at most 20 addresses: one
    /// more is `TOO_MANY` at `contactId`.
    async fn attach_address(
        &self,
        ctx: &Context<'_>,
        contact_id: ID,
        address_id: Option<ID>,
        input: Option<AddressInput>,
        #[graphql(default = false)] is_primary: bool,
    ) -> async_graphql::Result<AddressPayload> {
        let principal = ctx.principal()?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        let mut v = Validation::default();
        let target = match (address_id, input) {
            (Some(id), None) => v
                .check(&FieldPath::root("addressId"), parse_uuid(&id))
                .map(AttachTarget::Existing),
            (None, Some(input)) => {
                let path = FieldPath::root("input");
                let changes = input.parse(&mut v, &path);
                changes.check_complete(&mut v, &path);
                Some(AttachTarget::New(Box::new(changes)))
            }
            _ => {
                v.push(UserError::invalid(
                    &FieldPath::root("addressId"),
                    "give either addressId (an existing address) or input (a new one)",
                ));
                None
            }
        };
        let result = match (v.finish(), target) {
            (Ok(()), Some(target)) => {
                write::attach(ctx.db()?, principal, contact_id, target, is_primary)
                    .await
                    .map(Address::from)
            }
            (Err(error), _) => Err(error),
            (Ok(()), None) => Err(crate::error::AppError::Internal(
                "attach target missing".into(),
            )),
        };
        let (address, user_errors) = payload_parts(result)?;
        Ok(AddressPayload {
            address,
            user_errors,
        })
    }

    /// Detach an address from a contact. An address no contact uses any more is deleted.
    async fn detach_address(
        &self,
        ctx: &Context<'_>,
        contact_id: ID,
        address_id: ID,
    ) -> async_graphql::Result<DetachAddressPayload> {
        let principal = ctx.principal()?;
        let contact_id = parse_id(&contact_id, "contactId")?;
        let address_id = parse_id(&address_id, "addressId")?;
        let result = write::detach(ctx.db()?, principal, contact_id, address_id).await;
        let (remaining, user_errors) = payload_parts(result)?;
        Ok(DetachAddressPayload {
            address_id: remaining.is_some().then(|| ID(address_id.to_string())),
            address: remaining.flatten().map(Address::standalone),
            user_errors,
        })
    }

    /// Change an address, for every contact it is attached to.
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AddressInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<AddressPayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        let mut v = Validation::default();
        let changes = input.parse(&mut v, &FieldPath::root("input"));
        let result = match v.finish() {
            Ok(()) => write::update(ctx.db()?, principal, id, changes, expected_version)
                .await
                .map(Address::standalone),
            Err(error) => Err(error),
        };
        let (address, user_errors) = payload_parts(result)?;
        Ok(AddressPayload {
            address,
            user_errors,
        })
    }

    /// Delete an address, detaching it from every contact.
    async fn delete_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeletePayload> {
        let principal = ctx.principal()?;
        let id = parse_id(&id, "id")?;
        DeletePayload::from_result(write::delete(ctx.db()?, principal, id).await)
    }
}
