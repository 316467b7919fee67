//! Contact inputs: the fields every contact input shares, parsed once into `ContactChanges`,
//! and the subtype rules checked on the contact as it would be stored.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::contact;

use super::graphql::{ContactRole, ContactStatus, ContactSubtype};
use crate::address::input::{AddressChanges, AddressInput};
use crate::contact_point::input::{ContactPointChanges, ContactPointInput};
use crate::input::limits::CappedList;
use crate::input::{
    Code, Email, FieldPath, Identifier, LongName, Name, Password, Problem, Text, Validation,
    WebsiteUrl, parse_uuid,
};

/// The fields of a contact. An absent field is left as it is (or takes its default when the
/// contact is new); `null` clears a nullable field.
#[derive(InputObject, Default)]
pub struct ContactFields {
    /// PERSON (needs `firstName` and `lastName`) or COMPANY (needs `companyName`).
    pub subtype: MaybeUndefined<ContactSubtype>,
    /// PRIMARY, SECONDARY or OTHER (the default). At most one PRIMARY and one SECONDARY per
    /// customer and per account.
    pub role: MaybeUndefined<ContactRole>,
    /// Form of address.
    pub title: MaybeUndefined<String>,
    /// Given name.
    pub first_name: MaybeUndefined<String>,
    /// Family name.
    pub last_name: MaybeUndefined<String>,
    /// Organisation name.
    pub company_name: MaybeUndefined<String>,
    /// Job title.
    pub position: MaybeUndefined<String>,
    /// Main email address.
    pub email_address: MaybeUndefined<String>,
    /// Web site (http or https URL).
    pub website: MaybeUndefined<String>,
    /// Tax identifier.
    pub tax_id: MaybeUndefined<String>,
    /// Whether the contact is used for tax reporting.
    pub is_used_for_tax: MaybeUndefined<bool>,
    /// External reference number, unique among the contacts of one customer (its direct and
    /// account-level contacts); a shared contact's number is not checked against any other.
    pub contact_number: MaybeUndefined<String>,
    /// Free classification (e.g. BILLING).
    pub contact_type: MaybeUndefined<String>,
    /// Dealer code.
    pub dealer_code: MaybeUndefined<String>,
    /// ACTIVE (the default) or ARCHIVED.
    pub status: MaybeUndefined<ContactStatus>,
    /// Bank account details (returned masked).
    pub bank_account_details: MaybeUndefined<String>,
    /// Account password, 8 to 128 characters: stored as an Argon2id hash, never returned.
    pub account_password: MaybeUndefined<String>,
}

/// Parsed contact fields: `None` unchanged, `Some(None)` cleared.
#[derive(Clone, Debug, Default)]
pub struct ContactChanges {
    subtype: Option<ContactSubtype>,
    role: Option<ContactRole>,
    title: Option<Option<String>>,
    first_name: Option<Option<String>>,
    last_name: Option<Option<String>>,
    company_name: Option<Option<String>>,
    position: Option<Option<String>>,
    email_address: Option<Option<String>>,
    website: Option<Option<String>>,
    tax_id: Option<Option<String>>,
    is_used_for_tax: Option<bool>,
    contact_number: Option<Option<String>>,
    contact_type: Option<Option<String>>,
    dealer_code: Option<Option<String>>,
    status: Option<ContactStatus>,
    bank_account_details: Option<Option<String>>,
    /// A new password to hash, or `Some(None)` to remove it.
    pub account_password: Option<Option<Password>>,
}

fn enum_value<T: Copy>(v: &mut Validation, path: &FieldPath, raw: MaybeUndefined<T>) -> Option<T> {
    match raw {
        MaybeUndefined::Value(value) => Some(value),
        MaybeUndefined::Null => {
            v.push(Problem::required("cannot be null").at(path));
            None
        }
        MaybeUndefined::Undefined => None,
    }
}

fn text<T>(
    v: &mut Validation,
    path: &FieldPath,
    raw: MaybeUndefined<String>,
) -> Option<Option<String>>
where
    T: TryFrom<String, Error = Problem> + Into<String>,
{
    let parsed: Option<Option<T>> = v.nullable(path, raw);
    parsed.map(|value| value.map(Into::into))
}

impl ContactFields {
    /// Parse every field, recording problems under `path`.
    pub fn parse(self, v: &mut Validation, path: &FieldPath) -> ContactChanges {
        let at = |name: &str| path.field(name);
        ContactChanges {
            subtype: enum_value(v, &at("subtype"), self.subtype),
            role: enum_value(v, &at("role"), self.role),
            title: text::<Text<32>>(v, &at("title"), self.title),
            first_name: text::<Name>(v, &at("firstName"), self.first_name),
            last_name: text::<Name>(v, &at("lastName"), self.last_name),
            company_name: text::<LongName>(v, &at("companyName"), self.company_name),
            position: text::<Name>(v, &at("position"), self.position),
            email_address: text::<Email>(v, &at("emailAddress"), self.email_address),
            website: text::<WebsiteUrl>(v, &at("website"), self.website),
            tax_id: text::<Identifier>(v, &at("taxId"), self.tax_id),
            is_used_for_tax: match self.is_used_for_tax {
                MaybeUndefined::Value(flag) => Some(flag),
                MaybeUndefined::Null => Some(false),
                MaybeUndefined::Undefined => None,
            },
            contact_number: text::<Code>(v, &at("contactNumber"), self.contact_number),
            contact_type: text::<Code>(v, &at("contactType"), self.contact_type),
            dealer_code: text::<Code>(v, &at("dealerCode"), self.dealer_code),
            status: enum_value(v, &at("status"), self.status),
            bank_account_details: text::<Identifier>(
                v,
                &at("bankAccountDetails"),
                self.bank_account_details,
            ),
            account_password: v.nullable(&at("accountPassword"), self.account_password),
        }
    }
}

impl ContactChanges {
    /// The contact number this input names, if any (the upsert key).
    pub fn contact_number(&self) -> Option<&str> {
        self.contact_number.as_ref().and_then(|n| n.as_deref())
    }

    /// Whether the input names a subtype.
    pub fn has_subtype(&self) -> bool {
        self.subtype.is_some()
    }

    /// Apply to a stored (or blank new) row; the password hash is set by the caller.
    pub fn apply(&self, row: &mut contact::Model) {
        if let Some(subtype) = self.subtype {
            row.subtype = subtype.as_db().to_owned();
        }
        if let Some(role) = self.role {
            row.role = role.as_db().to_owned();
        }
        if let Some(status) = self.status {
            row.status = status.as_db().to_owned();
        }
        if let Some(flag) = self.is_used_for_tax {
            row.is_used_for_tax = flag;
        }
        for (target, change) in [
            (&mut row.title, &self.title),
            (&mut row.first_name, &self.first_name),
            (&mut row.last_name, &self.last_name),
            (&mut row.company_name, &self.company_name),
            (&mut row.position, &self.position),
            (&mut row.email_address, &self.email_address),
            (&mut row.website, &self.website),
            (&mut row.tax_id, &self.tax_id),
            (&mut row.contact_number, &self.contact_number),
            (&mut row.contact_type, &self.contact_type),
            (&mut row.dealer_code, &self.dealer_code),
            (&mut row.bank_account_details, &self.bank_account_details),
        ] {
            if let Some(change) = change {
                target.clone_from(change);
            }
        }
    }
}

/// PERSON needs a first and last name, COMPANY a company name: checked on the contact as it
/// would be stored, so a partial update cannot break the rule either.
pub fn check_subtype_rules(row: &contact::Model, v: &mut Validation, path: &FieldPath) {
    let required: &[(&str, bool)] = match row.subtype.as_str() {
        "PERSON" => &[
            ("firstName", row.first_name.is_some()),
            ("lastName", row.last_name.is_some()),
        ],
        "COMPANY" => &[("companyName", row.company_name.is_some())],
        _ => {
            v.push(Problem::required("is required").at(&path.field("subtype")));
            return;
        }
    };
    for (field, present) in required {
        let at = path.field(field);
        if !present && !v.has_error_at(&at) {
            let message = format!("is required for a {} contact", row.subtype);
            v.push(Problem::required(message).at(&at));
        }
    }
}

/// Check a new contact's subtype rules on the fields given, before any database work, so
/// they are reported with every other problem of the input.
pub fn check_new_contact(changes: &ContactChanges, v: &mut Validation, path: &FieldPath) {
    let mut probe = super::write::blank_contact(None, None);
    changes.apply(&mut probe);
    check_subtype_rules(&probe, v, path);
}

/// Who owns a contact, as named by an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerRef {
    /// Directly on this customer.
    Customer(uuid::Uuid),
    /// On this account.
    Account(uuid::Uuid),
    /// No owner: a shared contact.
    Shared,
}

/// Read `customerId` / `accountId` into an owner. With both, the account rules and the
/// customer must be its customer (checked by the service).
pub fn parse_owner(
    v: &mut Validation,
    path: &FieldPath,
    customer_id: Option<ID>,
    account_id: Option<ID>,
) -> (OwnerRef, Option<uuid::Uuid>) {
    let customer = customer_id.and_then(|id| v.check(&path.field("customerId"), parse_uuid(&id)));
    let account = account_id.and_then(|id| v.check(&path.field("accountId"), parse_uuid(&id)));
    match (customer, account) {
        (_, Some(account)) => (OwnerRef::Account(account), customer),
        (Some(customer), None) => (OwnerRef::Customer(customer), None),
        (None, None) => (OwnerRef::Shared, None),
    }
}

/// A new contact: its owner, fields, and nested address and contact point inputs.
#[derive(InputObject)]
pub struct CreateContactInput {
    /// The customer the contact belongs to directly.
    pub customer_id: Option<ID>,
    /// The account the contact belongs to (its customer is the account's). Neither this nor
    /// `customerId`: a shared contact.
    pub account_id: Option<ID>,
    /// The contact's fields; `subtype` is required.
    #[graphql(flatten)]
    pub fields: ContactFields,
    /// The contact's primary address.
    pub primary_address: Option<AddressInput>,
    /// Further addresses (a contact holds at most 20, the primary one included).
    pub addresses: Option<Vec<AddressInput>>,
    /// Phones, emails, websites... (at most 50).
    pub contact_points: Option<Vec<ContactPointInput>>,
}

/// Changes to a contact. Giving `accountId` moves it to that account; giving `customerId`
/// (and `accountId: null`) makes it a direct contact of that customer.
#[derive(InputObject)]
pub struct UpdateContactInput {
    /// Make the contact a direct contact of this customer.
    pub customer_id: MaybeUndefined<ID>,
    /// Move the contact to this account; `null` makes it a direct contact of its customer.
    pub account_id: MaybeUndefined<ID>,
    /// The fields to change.
    #[graphql(flatten)]
    pub fields: ContactFields,
    /// A new primary address, replacing the stored one. Not in `patchContact` (use its
    /// `addresses` items).
    pub primary_address: Option<AddressInput>,
    /// New further addresses, replacing the stored non-primary ones (at most 20 with the
    /// primary one). Not in `patchContact`.
    pub addresses: Option<Vec<AddressInput>>,
    /// New contact points, replacing the stored ones (at most 50). Not in `patchContact`.
    pub contact_points: Option<Vec<ContactPointInput>>,
}

/// An upsert: matched by `id`, else `contactNumber`, else by name within the owner. Lists
/// given replace the stored ones; absent lists are left alone.
#[derive(InputObject)]
pub struct SaveContactInput {
    /// The contact to update; when given it must exist.
    pub id: Option<ID>,
    /// The customer the contact belongs to directly.
    pub customer_id: Option<ID>,
    /// The account the contact belongs to.
    pub account_id: Option<ID>,
    /// The contact's fields (`subtype` is required when a contact is created).
    #[graphql(flatten)]
    pub fields: ContactFields,
    /// The primary address; replaces the stored one.
    pub primary_address: Option<AddressInput>,
    /// Further addresses; replace the stored non-primary ones (at most 20 with the primary
    /// one).
    pub addresses: Option<Vec<AddressInput>>,
    /// Contact points; replace the stored ones (at most 50).
    pub contact_points: Option<Vec<ContactPointInput>>,
}

/// Parsed nested lists of a create or save.
#[derive(Clone, Debug, Default)]
pub struct NestedInput {
    /// The primary address, when given.
    pub primary_address: Option<AddressChanges>,
    /// Further addresses, when given.
    pub addresses: Option<Vec<AddressChanges>>,
    /// Contact points, when given.
    pub contact_points: Option<Vec<ContactPointChanges>>,
}

/// Refuse (`TOO_MANY`) nested lists that alone exceed a contact's caps, before any item is
/// parsed or any SQL runs; returns whether the lists fit. Both lists given replace the stored
/// ones, so `primaryAddress` counts toward the addresses.
fn check_nested_caps(
    v: &mut Validation,
    path: &FieldPath,
    primary_address: bool,
    addresses: Option<usize>,
    contact_points: Option<usize>,
) -> bool {
    let mut fits = true;
    if let Some(count) = contact_points
        && let Err(error) = CappedList::ContactPoints.check(count, &path.field("contactPoints"))
    {
        v.push(error);
        fits = false;
    }
    if let Some(count) = addresses
        && let Err(error) = CappedList::Addresses.check(
            count + usize::from(primary_address),
            &path.field("addresses"),
        )
    {
        v.push(error);
        fits = false;
    }
    fits
}

/// Parse nested addresses and contact points under `path`, requiring what new rows need.
/// Lists longer than a contact's caps are refused whole, their items unread.
pub fn parse_nested(
    v: &mut Validation,
    path: &FieldPath,
    primary_address: Option<AddressInput>,
    addresses: Option<Vec<AddressInput>>,
    contact_points: Option<Vec<ContactPointInput>>,
) -> NestedInput {
    if !check_nested_caps(
        v,
        path,
        primary_address.is_some(),
        addresses.as_ref().map(Vec::len),
        contact_points.as_ref().map(Vec::len),
    ) {
        return NestedInput::default();
    }
    let primary_address = primary_address.map(|input| {
        let at = path.field("primaryAddress");
        let changes = input.parse(v, &at);
        changes.check_complete(v, &at);
        changes
    });
    let addresses = addresses.map(|list| {
        list.into_iter()
            .enumerate()
            .map(|(index, input)| {
                let at = path.field("addresses").index(index);
                let changes = input.parse(v, &at);
                changes.check_complete(v, &at);
                changes
            })
            .collect()
    });
    let contact_points = contact_points.map(|list| {
        list.into_iter()
            .enumerate()
            .map(|(index, input)| {
                let at = path.field("contactPoints").index(index);
                let changes = input.parse(v, &at);
                // Every point here will be a new row: check its kind's rules now, so that all
                // problems of the input are reported together.
                crate::contact_point::service::build_new(uuid::Uuid::nil(), &changes, v, &at);
                changes
            })
            .collect()
    });
    NestedInput {
        primary_address,
        addresses,
        contact_points,
    }
}
