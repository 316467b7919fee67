//! The object types of the compiled path: for each, the fields it knows (compiled from a
//! selection), how its relations are read (one scoped statement per relation for every
//! parent at once), and how an object is written. Field semantics are the GraphQL types'
//! own: the same helpers (`display_name`, `formatted`, masking) and enum spellings.

use std::collections::HashMap;

use async_graphql::parser::types::SelectionSet;
use entity::{account, address, contact, contact_point, customer};
use uuid::Uuid;

use super::context::{Fallback, ReadContext};
use super::json::{Out, key};
use super::select::{Collected, Document};
use crate::account::input::AccountStatus;
use crate::address::input::AddressType;
use crate::address::service::AttachedAddress;
use crate::auth::field_guard::mask;
use crate::contact::graphql::{display_name, is_shared};
use crate::contact::input::{ContactRole, ContactStatus, ContactSubtype};
use crate::contact_point::graphql::formatted;
use crate::contact_point::input::ContactPointKind;
use crate::loaders::{count_batch, group_by_parent};

/// The object types written here; a fragment on another of them does not apply.
pub const OBJECT_TYPES: &[&str] = &["Customer", "Account", "Contact", "ContactPoint", "Address"];

/// Maps keyed by row id on this path, hashed with foldhash rather than SipHash (2.5% of
/// Kith's CPU on Q2). The keys are ids of rows already read, and foldhash's seed is random per
/// process, so colliding keys cannot be computed in advance.
pub type IdMap<V> = HashMap<Uuid, V, foldhash::fast::RandomState>;

/// The JSON of root objects written whole, by id.
pub type Written = IdMap<String>;

/// An object type's compiled selection: each response key, rendered, with its field.
pub struct Plan<F> {
    fields: Vec<(Box<[u8]>, F)>,
    /// Root objects written whole already (by PostgreSQL, `super::sql`), by id.
    written: Written,
}

impl<F> Plan<F> {
    /// Compile the selections of one field of type `type_name`, each collected field mapped
    /// by `field` (which knows the type's fields). Arguments on a field of these types are
    /// not supported (none has any yet).
    pub fn compile(
        doc: &Document<'_>,
        type_name: &'static str,
        sets: &[&SelectionSet],
        mut field: impl FnMut(&Document<'_>, &Collected<'_>) -> Result<F, Fallback>,
    ) -> Result<Plan<F>, Fallback> {
        let collected = doc.collect(type_name, sets)?;
        let mut fields = Vec::with_capacity(collected.len());
        for selected in &collected {
            if !selected.field.arguments.is_empty() {
                return Err(Fallback::Unsupported);
            }
            fields.push((key(selected.key), field(doc, selected)?));
        }
        Ok(Plan {
            fields,
            written: IdMap::default(),
        })
    }

    /// The compiled fields.
    pub fn fields(&self) -> &[(Box<[u8]>, F)] {
        &self.fields
    }

    /// The compiled fields, to load their relations.
    pub fn fields_mut(&mut self) -> &mut [(Box<[u8]>, F)] {
        &mut self.fields
    }

    /// Write `row` as an object: `{"key":value,...}`, in selection order.
    pub fn write<R>(&self, out: &mut Out, row: &R, mut value: impl FnMut(&mut Out, &F, &R)) {
        out.raw(b"{");
        for (index, (key, field)) in self.fields.iter().enumerate() {
            if index > 0 {
                out.raw(b",");
            }
            out.raw(key);
            value(out, field, row);
        }
        out.raw(b"}");
    }
}

/// A list-valued relation: the plan of its items and, once read, the items of each parent.
pub struct Children<F, R> {
    plan: Plan<F>,
    rows: IdMap<Vec<R>>,
}

impl<F, R> Children<F, R> {
    fn new(plan: Plan<F>) -> Children<F, R> {
        Children {
            plan,
            rows: IdMap::default(),
        }
    }

    fn of(&self, parent: Uuid) -> &[R] {
        self.rows.get(&parent).map_or(&[], Vec::as_slice)
    }

    /// The plan of the items.
    pub fn plan(&self) -> &Plan<F> {
        &self.plan
    }
}

/// The sub-selections of a field whose type is an object.
fn nested<'a>(selected: &'a Collected<'a>) -> &'a [&'a SelectionSet] {
    &selected.selections
}

/// A sensitive value as the caller may see it.
fn sensitive(out: &mut Out, value: Option<&str>, unmask: bool) {
    match value {
        Some(value) if unmask => out.str(value),
        Some(value) => out.str(&mask(value)),
        None => out.null(),
    }
}

/// Whether every row holds enum values Kith wrote: the writers below spell stored enums as
/// they are, so a row written outside Kith goes to async-graphql, which reports it.
fn valid<R>(rows: &[R], check: impl Fn(&R) -> bool) -> Result<(), Fallback> {
    if rows.iter().all(check) {
        Ok(())
    } else {
        Err(Fallback::Unsupported)
    }
}

/// Whether a customer row can be written as is (it stores no enum).
pub fn valid_customer(_: &customer::Model) -> bool {
    true
}

/// Whether an account row's enums are Kith's.
pub fn valid_account(row: &account::Model) -> bool {
    AccountStatus::from_db(&row.status).is_ok()
}

/// Whether a contact row's enums are Kith's.
pub fn valid_contact(row: &contact::Model) -> bool {
    ContactSubtype::from_db(&row.subtype).is_ok()
        && ContactRole::from_db(&row.role).is_ok()
        && ContactStatus::from_db(&row.status).is_ok()
}

fn valid_contact_point(row: &contact_point::Model) -> bool {
    ContactPointKind::from_db(&row.kind).is_ok()
}

fn valid_address(row: &AttachedAddress) -> bool {
    AddressType::from_db(&row.address.address_type).is_ok()
}

fn ids<'a, R: 'a>(rows: impl Iterator<Item = &'a R>, id: impl Fn(&R) -> Uuid) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = rows.map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

// ---------------------------------------------------------------- Customer

/// A field of `Customer`.
pub enum CustomerField {
    Typename,
    Id,
    Name,
    CustomerNumber,
    TaxId,
    DealerCode,
    Accounts(Children<AccountField, account::Model>),
    Contacts(Children<ContactField, contact::Model>),
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Compile a selection on `Customer`.
pub fn customer(
    doc: &Document<'_>,
    sets: &[&SelectionSet],
) -> Result<Plan<CustomerField>, Fallback> {
    Plan::compile(doc, "Customer", sets, |doc, selected| {
        Ok(match selected.name {
            "__typename" => CustomerField::Typename,
            "id" => CustomerField::Id,
            "name" => CustomerField::Name,
            "customerNumber" => CustomerField::CustomerNumber,
            "taxId" => CustomerField::TaxId,
            "dealerCode" => CustomerField::DealerCode,
            "accounts" => CustomerField::Accounts(Children::new(account(doc, nested(selected))?)),
            "contacts" => CustomerField::Contacts(Children::new(contact(doc, nested(selected))?)),
            "createdAt" => CustomerField::CreatedAt,
            "updatedAt" => CustomerField::UpdatedAt,
            "version" => CustomerField::Version,
            _ => return Err(Fallback::Unsupported),
        })
    })
}

impl Plan<CustomerField> {
    /// Read the accounts and contacts under `rows`, leaving the contacts' own relations in
    /// `pending`.
    async fn load_rows<'p>(
        &'p mut self,
        cx: &ReadContext<'_>,
        rows: &[&customer::Model],
        pending: &mut Pending<'p>,
    ) -> Result<(), Fallback> {
        let keys = ids(rows.iter().copied(), |row| row.id);
        for (_, field) in &mut self.fields {
            match field {
                CustomerField::Accounts(children) => {
                    let read = crate::account::service::of_customers(
                        cx.db,
                        cx.scope,
                        &keys,
                        cx.rows.limit(),
                        &children.plan.columns(),
                    )
                    .await;
                    let read = count_batch(cx.rows, "AccountsByCustomer", keys.len(), read)?;
                    valid(&read, valid_account)?;
                    let Children { plan, rows } = children;
                    *rows = group_by_parent(read.into_iter().map(|row| (row.customer_id, row)));
                    let loaded: Vec<&account::Model> = rows.values().flatten().collect();
                    plan.load_rows(cx, &loaded, pending).await?;
                }
                CustomerField::Contacts(children) => {
                    let read = crate::contact::service::of_customers(
                        cx.db,
                        cx.scope,
                        &keys,
                        cx.rows.limit(),
                        &children.plan.columns(),
                    )
                    .await;
                    let read = count_batch(cx.rows, "ContactsByCustomer", keys.len(), read)?;
                    valid(&read, |(_, row)| valid_contact(row))?;
                    let Children { plan, rows } = children;
                    *rows = group_by_parent(read);
                    pending.push((plan, ids(rows.values().flatten(), |row| row.id)));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Write one customer.
    pub fn write_row(&self, out: &mut Out, row: &customer::Model, cx: &ReadContext<'_>) {
        self.write(out, row, |out, field, row| match field {
            CustomerField::Typename => out.str("Customer"),
            CustomerField::Id => out.id(row.id),
            CustomerField::Name => out.str(&row.name),
            CustomerField::CustomerNumber => out.opt_str(row.customer_number.as_deref()),
            CustomerField::TaxId => sensitive(out, row.tax_id.as_deref(), cx.unmask),
            CustomerField::DealerCode => out.opt_str(row.dealer_code.as_deref()),
            CustomerField::Accounts(children) => out.list(children.of(row.id), |out, item| {
                children.plan.write_row(out, item, cx);
            }),
            CustomerField::Contacts(children) => out.list(children.of(row.id), |out, item| {
                children.plan.write_row(out, item, cx);
            }),
            CustomerField::CreatedAt => out.date_time(&row.created_at),
            CustomerField::UpdatedAt => out.date_time(&row.updated_at),
            CustomerField::Version => out.int(row.version),
        });
    }
}

// ---------------------------------------------------------------- Account

/// A field of `Account`.
pub enum AccountField {
    Typename,
    Id,
    Name,
    AccountNumber,
    Status,
    CustomerId,
    Contacts(Children<ContactField, contact::Model>),
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Compile a selection on `Account`.
pub fn account(doc: &Document<'_>, sets: &[&SelectionSet]) -> Result<Plan<AccountField>, Fallback> {
    Plan::compile(doc, "Account", sets, |doc, selected| {
        Ok(match selected.name {
            "__typename" => AccountField::Typename,
            "id" => AccountField::Id,
            "name" => AccountField::Name,
            "accountNumber" => AccountField::AccountNumber,
            "status" => AccountField::Status,
            "customerId" => AccountField::CustomerId,
            "contacts" => AccountField::Contacts(Children::new(contact(doc, nested(selected))?)),
            "createdAt" => AccountField::CreatedAt,
            "updatedAt" => AccountField::UpdatedAt,
            "version" => AccountField::Version,
            _ => return Err(Fallback::Unsupported),
        })
    })
}

impl Plan<AccountField> {
    /// Read the contacts under `rows`, leaving their own relations in `pending`.
    async fn load_rows<'p>(
        &'p mut self,
        cx: &ReadContext<'_>,
        rows: &[&account::Model],
        pending: &mut Pending<'p>,
    ) -> Result<(), Fallback> {
        let keys = ids(rows.iter().copied(), |row| row.id);
        for (_, field) in &mut self.fields {
            if let AccountField::Contacts(children) = field {
                let read = crate::contact::service::of_accounts(
                    cx.db,
                    cx.scope,
                    &keys,
                    cx.rows.limit(),
                    &children.plan.columns(),
                )
                .await;
                let read = count_batch(cx.rows, "ContactsByAccount", keys.len(), read)?;
                valid(&read, valid_contact)?;
                let Children { plan, rows } = children;
                *rows = group_by_parent(
                    read.into_iter()
                        .filter_map(|row| Some((row.account_id?, row))),
                );
                pending.push((plan, ids(rows.values().flatten(), |row| row.id)));
            }
        }
        Ok(())
    }

    /// Write one account.
    pub fn write_row(&self, out: &mut Out, row: &account::Model, cx: &ReadContext<'_>) {
        self.write(out, row, |out, field, row| match field {
            AccountField::Typename => out.str("Account"),
            AccountField::Id => out.id(row.id),
            AccountField::Name => out.str(&row.name),
            AccountField::AccountNumber => out.opt_str(row.account_number.as_deref()),
            AccountField::Status => out.str(&row.status),
            AccountField::CustomerId => out.id(row.customer_id),
            AccountField::Contacts(children) => out.list(children.of(row.id), |out, item| {
                children.plan.write_row(out, item, cx);
            }),
            AccountField::CreatedAt => out.date_time(&row.created_at),
            AccountField::UpdatedAt => out.date_time(&row.updated_at),
            AccountField::Version => out.int(row.version),
        });
    }
}

// ---------------------------------------------------------------- Contact

/// A field of `Contact`.
pub enum ContactField {
    Typename,
    Id,
    Subtype,
    Role,
    Title,
    FirstName,
    LastName,
    CompanyName,
    Position,
    DisplayName,
    EmailAddress,
    Website,
    TaxId,
    IsUsedForTax,
    ContactNumber,
    ContactType,
    DealerCode,
    Status,
    BankAccountDetails,
    HasAccountPassword,
    IsShared,
    CustomerId,
    AccountId,
    ContactPoints(Children<ContactPointField, contact_point::Model>),
    Addresses(Children<AddressField, AttachedAddress>),
    PrimaryAddress(Children<AddressField, AttachedAddress>),
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Compile a selection on `Contact`.
pub fn contact(doc: &Document<'_>, sets: &[&SelectionSet]) -> Result<Plan<ContactField>, Fallback> {
    Plan::compile(doc, "Contact", sets, |doc, selected| {
        Ok(match selected.name {
            "__typename" => ContactField::Typename,
            "id" => ContactField::Id,
            "subtype" => ContactField::Subtype,
            "role" => ContactField::Role,
            "title" => ContactField::Title,
            "firstName" => ContactField::FirstName,
            "lastName" => ContactField::LastName,
            "companyName" => ContactField::CompanyName,
            "position" => ContactField::Position,
            "displayName" => ContactField::DisplayName,
            "emailAddress" => ContactField::EmailAddress,
            "website" => ContactField::Website,
            "taxId" => ContactField::TaxId,
            "isUsedForTax" => ContactField::IsUsedForTax,
            "contactNumber" => ContactField::ContactNumber,
            "contactType" => ContactField::ContactType,
            "dealerCode" => ContactField::DealerCode,
            "status" => ContactField::Status,
            "bankAccountDetails" => ContactField::BankAccountDetails,
            "hasAccountPassword" => ContactField::HasAccountPassword,
            "isShared" => ContactField::IsShared,
            "customerId" => ContactField::CustomerId,
            "accountId" => ContactField::AccountId,
            "contactPoints" => {
                ContactField::ContactPoints(Children::new(contact_point(doc, nested(selected))?))
            }
            "addresses" => ContactField::Addresses(Children::new(address(doc, nested(selected))?)),
            "primaryAddress" => {
                ContactField::PrimaryAddress(Children::new(address(doc, nested(selected))?))
            }
            "createdAt" => ContactField::CreatedAt,
            "updatedAt" => ContactField::UpdatedAt,
            "version" => ContactField::Version,
            _ => return Err(Fallback::Unsupported),
        })
    })
}

impl Plan<ContactField> {
    /// Write one contact.
    pub fn write_row(&self, out: &mut Out, row: &contact::Model, cx: &ReadContext<'_>) {
        self.write(out, row, |out, field, row| match field {
            ContactField::Typename => out.str("Contact"),
            ContactField::Id => out.id(row.id),
            ContactField::Subtype => out.str(&row.subtype),
            ContactField::Role => out.str(&row.role),
            ContactField::Title => out.opt_str(row.title.as_deref()),
            ContactField::FirstName => out.opt_str(row.first_name.as_deref()),
            ContactField::LastName => out.opt_str(row.last_name.as_deref()),
            ContactField::CompanyName => out.opt_str(row.company_name.as_deref()),
            ContactField::Position => out.opt_str(row.position.as_deref()),
            ContactField::DisplayName => out.str(&display_name(row)),
            ContactField::EmailAddress => out.opt_str(row.email_address.as_deref()),
            ContactField::Website => out.opt_str(row.website.as_deref()),
            ContactField::TaxId => sensitive(out, row.tax_id.as_deref(), cx.unmask),
            ContactField::IsUsedForTax => out.bool(row.is_used_for_tax),
            ContactField::ContactNumber => out.opt_str(row.contact_number.as_deref()),
            ContactField::ContactType => out.opt_str(row.contact_type.as_deref()),
            ContactField::DealerCode => out.opt_str(row.dealer_code.as_deref()),
            ContactField::Status => out.str(&row.status),
            ContactField::BankAccountDetails => {
                sensitive(out, row.bank_account_details.as_deref(), cx.unmask);
            }
            ContactField::HasAccountPassword => out.bool(row.account_password_hash.is_some()),
            ContactField::IsShared => out.bool(is_shared(row)),
            ContactField::CustomerId => out.opt_id(row.customer_id),
            ContactField::AccountId => out.opt_id(row.account_id),
            ContactField::ContactPoints(children) => out.list(children.of(row.id), |out, item| {
                children.plan.write_row(out, item);
            }),
            ContactField::Addresses(children) => out.list(children.of(row.id), |out, item| {
                children.plan.write_row(out, item);
            }),
            ContactField::PrimaryAddress(children) => {
                match children
                    .of(row.id)
                    .iter()
                    .find(|attached| attached.is_primary)
                {
                    Some(primary) => children.plan.write_row(out, primary),
                    None => out.null(),
                }
            }
            ContactField::CreatedAt => out.date_time(&row.created_at),
            ContactField::UpdatedAt => out.date_time(&row.updated_at),
            ContactField::Version => out.int(row.version),
        });
    }
}

/// What the query root does with a plan of a type it returns (Customer, Account, Contact):
/// check a row's stored enums, read the relations the plan selects, write a row.
pub trait RootObject {
    /// The row the plan writes.
    type Row;

    /// Whether `row` holds enum values Kith wrote (see [`valid`]).
    fn valid(row: &Self::Row) -> bool;

    /// Read the relations this plan selects, for `rows`.
    fn load(
        &mut self,
        cx: &ReadContext<'_>,
        rows: &[&Self::Row],
    ) -> impl Future<Output = Result<(), Fallback>> + Send;

    /// Write one row.
    fn write_item(&self, out: &mut Out, row: &Self::Row, cx: &ReadContext<'_>);

    /// A row's id.
    fn id(row: &Self::Row) -> Uuid;

    /// Keep rows written whole elsewhere: [`RootObject::write_item`] writes them as they are.
    fn keep_written(&mut self, written: Written);
}

impl RootObject for Plan<CustomerField> {
    type Row = customer::Model;

    fn valid(row: &customer::Model) -> bool {
        valid_customer(row)
    }

    async fn load(
        &mut self,
        cx: &ReadContext<'_>,
        rows: &[&customer::Model],
    ) -> Result<(), Fallback> {
        let mut pending = Vec::new();
        self.load_rows(cx, rows, &mut pending).await?;
        load_contact_relations(cx, pending).await
    }

    fn write_item(&self, out: &mut Out, row: &customer::Model, cx: &ReadContext<'_>) {
        match self.written.get(&row.id) {
            Some(json) => out.raw(json.as_bytes()),
            None => self.write_row(out, row, cx),
        }
    }

    fn id(row: &customer::Model) -> Uuid {
        row.id
    }

    fn keep_written(&mut self, written: Written) {
        self.written = written;
    }
}

impl RootObject for Plan<AccountField> {
    type Row = account::Model;

    fn valid(row: &account::Model) -> bool {
        valid_account(row)
    }

    async fn load(
        &mut self,
        cx: &ReadContext<'_>,
        rows: &[&account::Model],
    ) -> Result<(), Fallback> {
        let mut pending = Vec::new();
        self.load_rows(cx, rows, &mut pending).await?;
        load_contact_relations(cx, pending).await
    }

    fn write_item(&self, out: &mut Out, row: &account::Model, cx: &ReadContext<'_>) {
        match self.written.get(&row.id) {
            Some(json) => out.raw(json.as_bytes()),
            None => self.write_row(out, row, cx),
        }
    }

    fn id(row: &account::Model) -> Uuid {
        row.id
    }

    fn keep_written(&mut self, written: Written) {
        self.written = written;
    }
}

impl RootObject for Plan<ContactField> {
    type Row = contact::Model;

    fn valid(row: &contact::Model) -> bool {
        valid_contact(row)
    }

    async fn load(
        &mut self,
        cx: &ReadContext<'_>,
        rows: &[&contact::Model],
    ) -> Result<(), Fallback> {
        let keys = ids(rows.iter().copied(), |row| row.id);
        load_contact_relations(cx, vec![(self, keys)]).await
    }

    fn write_item(&self, out: &mut Out, row: &contact::Model, cx: &ReadContext<'_>) {
        match self.written.get(&row.id) {
            Some(json) => out.raw(json.as_bytes()),
            None => self.write_row(out, row, cx),
        }
    }

    fn id(row: &contact::Model) -> Uuid {
        row.id
    }

    fn keep_written(&mut self, written: Written) {
        self.written = written;
    }
}

/// Contact plans whose rows are read but whose own relations are not yet, each with the ids
/// of its contacts. Contacts reached along several paths (`customers { contacts }` and
/// `customers { accounts { contacts } }`) have their contact points, and their addresses,
/// read by one statement for all of them, not one per path.
type Pending<'p> = Vec<(&'p mut Plan<ContactField>, Vec<Uuid>)>;

/// Read the contact points and addresses the `pending` plans select: one statement for each
/// of the two, whatever the number of plans.
async fn load_contact_relations(
    cx: &ReadContext<'_>,
    mut pending: Pending<'_>,
) -> Result<(), Fallback> {
    let mut points = Vec::new();
    let mut addresses = Vec::new();
    for (plan, keys) in &mut pending {
        for (_, field) in &mut plan.fields {
            match field {
                ContactField::ContactPoints(children) => points.push((children, keys.as_slice())),
                ContactField::Addresses(children) | ContactField::PrimaryAddress(children) => {
                    addresses.push((children, keys.as_slice()));
                }
                _ => {}
            }
        }
    }
    if !points.is_empty() {
        let keys = union(&points);
        let columns = union_columns(points.iter().map(|(children, _)| children.plan.columns()));
        let read = crate::contact_point::service::of_contacts(
            cx.db,
            cx.scope,
            &keys,
            cx.rows.limit(),
            &columns,
        )
        .await;
        let read = count_batch(cx.rows, "ContactPointsByContact", keys.len(), read)?;
        valid(&read, valid_contact_point)?;
        share(
            group_by_parent(read.into_iter().map(|row| (row.contact_id, row))),
            points,
        );
    }
    if !addresses.is_empty() {
        let keys = union(&addresses);
        let columns = union_columns(
            addresses
                .iter()
                .map(|(children, _)| children.plan.columns()),
        );
        let read =
            crate::address::service::of_contacts(cx.db, cx.scope, &keys, cx.rows.limit(), &columns)
                .await;
        let read = count_batch(cx.rows, "AddressesByContact", keys.len(), read)?;
        valid(&read, valid_address)?;
        share(
            group_by_parent(read.into_iter().map(|row| (row.contact_id, row))),
            addresses,
        );
    }
    Ok(())
}

/// Every column any of `plans` reads, once.
fn union_columns<C: Copy + sea_orm::IdenStatic>(plans: impl Iterator<Item = Vec<C>>) -> Vec<C> {
    let mut all = Vec::new();
    for columns in plans {
        add(&mut all, &columns);
    }
    all
}

/// Every parent id any of `wanted` asks for, once.
fn union<T>(wanted: &[(T, &[Uuid])]) -> Vec<Uuid> {
    let mut keys: Vec<Uuid> = wanted
        .iter()
        .flat_map(|(_, keys)| keys.iter().copied())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Hand each relation the rows of the parents it asked for: moved when only one asked for a
/// parent (paths of one query rarely share a contact), cloned otherwise.
fn share<F, R: Clone>(mut groups: IdMap<Vec<R>>, mut wanted: Vec<(&mut Children<F, R>, &[Uuid])>) {
    if let [(children, _)] = wanted.as_mut_slice() {
        children.rows = groups;
        return;
    }
    let mut demand: IdMap<usize> = IdMap::default();
    for (_, keys) in &wanted {
        for key in *keys {
            *demand.entry(*key).or_default() += 1;
        }
    }
    for (children, keys) in wanted {
        for key in keys {
            let Some(left) = demand.get_mut(key) else {
                continue;
            };
            *left -= 1;
            let rows = if *left == 0 {
                groups.remove(key)
            } else {
                groups.get(key).cloned()
            };
            if let Some(rows) = rows {
                children.rows.insert(*key, rows);
            }
        }
    }
}

// ---------------------------------------------------------------- ContactPoint

/// A field of `ContactPoint`.
pub enum ContactPointField {
    Typename,
    Id,
    Kind,
    Value,
    CountryCode,
    AreaCode,
    Number,
    Formatted,
    IsPrimary,
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Compile a selection on `ContactPoint`.
pub fn contact_point(
    doc: &Document<'_>,
    sets: &[&SelectionSet],
) -> Result<Plan<ContactPointField>, Fallback> {
    Plan::compile(doc, "ContactPoint", sets, |_, selected| {
        Ok(match selected.name {
            "__typename" => ContactPointField::Typename,
            "id" => ContactPointField::Id,
            "kind" => ContactPointField::Kind,
            "value" => ContactPointField::Value,
            "countryCode" => ContactPointField::CountryCode,
            "areaCode" => ContactPointField::AreaCode,
            "number" => ContactPointField::Number,
            "formatted" => ContactPointField::Formatted,
            "isPrimary" => ContactPointField::IsPrimary,
            "createdAt" => ContactPointField::CreatedAt,
            "updatedAt" => ContactPointField::UpdatedAt,
            "version" => ContactPointField::Version,
            _ => return Err(Fallback::Unsupported),
        })
    })
}

impl Plan<ContactPointField> {
    /// Write one contact point.
    pub fn write_row(&self, out: &mut Out, row: &contact_point::Model) {
        self.write(out, row, |out, field, row| match field {
            ContactPointField::Typename => out.str("ContactPoint"),
            ContactPointField::Id => out.id(row.id),
            ContactPointField::Kind => out.str(&row.kind),
            ContactPointField::Value => out.opt_str(row.value.as_deref()),
            ContactPointField::CountryCode => out.opt_str(row.country_code.as_deref()),
            ContactPointField::AreaCode => out.opt_str(row.area_code.as_deref()),
            ContactPointField::Number => out.opt_str(row.number.as_deref()),
            ContactPointField::Formatted => out.opt_str(formatted(row).as_deref()),
            ContactPointField::IsPrimary => out.bool(row.is_primary),
            ContactPointField::CreatedAt => out.date_time(&row.created_at),
            ContactPointField::UpdatedAt => out.date_time(&row.updated_at),
            ContactPointField::Version => out.int(row.version),
        });
    }
}

// ---------------------------------------------------------------- Address

/// A field of `Address` (as attached to a contact).
pub enum AddressField {
    Typename,
    Id,
    AddressType,
    Line1,
    Line2,
    Line3,
    Line4,
    City,
    State,
    StateName,
    PostalCode,
    Country,
    Latitude,
    Longitude,
    IsPrimary,
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Compile a selection on `Address`.
pub fn address(doc: &Document<'_>, sets: &[&SelectionSet]) -> Result<Plan<AddressField>, Fallback> {
    Plan::compile(doc, "Address", sets, |_, selected| {
        Ok(match selected.name {
            "__typename" => AddressField::Typename,
            "id" => AddressField::Id,
            "addressType" => AddressField::AddressType,
            "line1" => AddressField::Line1,
            "line2" => AddressField::Line2,
            "line3" => AddressField::Line3,
            "line4" => AddressField::Line4,
            "city" => AddressField::City,
            "state" => AddressField::State,
            "stateName" => AddressField::StateName,
            "postalCode" => AddressField::PostalCode,
            "country" => AddressField::Country,
            "latitude" => AddressField::Latitude,
            "longitude" => AddressField::Longitude,
            "isPrimary" => AddressField::IsPrimary,
            "createdAt" => AddressField::CreatedAt,
            "updatedAt" => AddressField::UpdatedAt,
            "version" => AddressField::Version,
            _ => return Err(Fallback::Unsupported),
        })
    })
}

impl Plan<AddressField> {
    /// Write one attached address.
    pub fn write_row(&self, out: &mut Out, row: &AttachedAddress) {
        let is_primary = row.is_primary;
        self.write(out, &row.address, |out, field, row| match field {
            AddressField::Typename => out.str("Address"),
            AddressField::Id => out.id(row.id),
            AddressField::AddressType => out.str(&row.address_type),
            AddressField::Line1 => out.str(&row.line1),
            AddressField::Line2 => out.opt_str(row.line2.as_deref()),
            AddressField::Line3 => out.opt_str(row.line3.as_deref()),
            AddressField::Line4 => out.opt_str(row.line4.as_deref()),
            AddressField::City => out.str(&row.city),
            AddressField::State => out.str(&row.state_code),
            AddressField::StateName => out.opt_str(row.state_name.as_deref()),
            AddressField::PostalCode => out.str(&row.postal_code),
            AddressField::Country => out.opt_str(row.country.as_deref()),
            AddressField::Latitude => out.opt_float(row.latitude),
            AddressField::Longitude => out.opt_float(row.longitude),
            AddressField::IsPrimary => out.bool(is_primary),
            AddressField::CreatedAt => out.date_time(&row.created_at),
            AddressField::UpdatedAt => out.date_time(&row.updated_at),
            AddressField::Version => out.int(row.version),
        });
    }
}

// ---------------------------------------------------------------- Columns read

use crate::db::add_columns as add;

/// `base`, and the columns each of `fields` writes (`of`), each once.
fn read_columns<F, C: Copy + sea_orm::IdenStatic>(
    mut base: Vec<C>,
    fields: &[(Box<[u8]>, F)],
    of: impl Fn(&F) -> &'static [C],
) -> Vec<C> {
    for (_, field) in fields {
        add(&mut base, of(field));
    }
    base
}

/// The columns of its table a plan reads.
pub trait ReadColumns {
    /// The table's column type.
    type Column: Copy + sea_orm::IdenStatic;

    /// What every read of the table needs whatever the selection: the keys it is grouped by
    /// and the stored enums [`valid`] checks.
    fn base_columns() -> Vec<Self::Column>;

    /// Those and what the plan's fields write.
    fn columns(&self) -> Vec<Self::Column>;
}

impl ReadColumns for Plan<CustomerField> {
    type Column = customer::Column;

    fn base_columns() -> Vec<customer::Column> {
        vec![customer::Column::Id]
    }

    fn columns(&self) -> Vec<customer::Column> {
        use customer::Column as C;
        read_columns(Self::base_columns(), &self.fields, |field| match field {
            CustomerField::Name => &[C::Name],
            CustomerField::CustomerNumber => &[C::CustomerNumber],
            CustomerField::TaxId => &[C::TaxId],
            CustomerField::DealerCode => &[C::DealerCode],
            CustomerField::CreatedAt => &[C::CreatedAt],
            CustomerField::UpdatedAt => &[C::UpdatedAt],
            CustomerField::Version => &[C::Version],
            CustomerField::Typename
            | CustomerField::Id
            | CustomerField::Accounts(_)
            | CustomerField::Contacts(_) => &[],
        })
    }
}

impl ReadColumns for Plan<AccountField> {
    type Column = account::Column;

    fn base_columns() -> Vec<account::Column> {
        use account::Column as C;
        vec![C::Id, C::CustomerId, C::Status]
    }

    /// The columns of `account` this plan reads: the keys, the stored enum [`valid_account`]
    /// checks, and what its fields write.
    fn columns(&self) -> Vec<account::Column> {
        use account::Column as C;
        read_columns(Self::base_columns(), &self.fields, |field| match field {
            AccountField::Name => &[C::Name],
            AccountField::AccountNumber => &[C::AccountNumber],
            AccountField::CreatedAt => &[C::CreatedAt],
            AccountField::UpdatedAt => &[C::UpdatedAt],
            AccountField::Version => &[C::Version],
            AccountField::Typename
            | AccountField::Id
            | AccountField::Status
            | AccountField::CustomerId
            | AccountField::Contacts(_) => &[],
        })
    }
}

impl ReadColumns for Plan<ContactField> {
    type Column = contact::Column;

    fn base_columns() -> Vec<contact::Column> {
        use contact::Column as C;
        vec![
            C::Id,
            C::CustomerId,
            C::AccountId,
            C::Subtype,
            C::Role,
            C::Status,
        ]
    }

    /// The columns of `contact` this plan reads: the keys, the stored enums
    /// [`valid_contact`] checks, and what its fields write.
    fn columns(&self) -> Vec<contact::Column> {
        use contact::Column as C;
        read_columns(Self::base_columns(), &self.fields, |field| match field {
            ContactField::Title => &[C::Title],
            ContactField::FirstName => &[C::FirstName],
            ContactField::LastName => &[C::LastName],
            ContactField::CompanyName => &[C::CompanyName],
            ContactField::Position => &[C::Position],
            ContactField::DisplayName => &[C::Title, C::FirstName, C::LastName, C::CompanyName],
            ContactField::EmailAddress => &[C::EmailAddress],
            ContactField::Website => &[C::Website],
            ContactField::TaxId => &[C::TaxId],
            ContactField::IsUsedForTax => &[C::IsUsedForTax],
            ContactField::ContactNumber => &[C::ContactNumber],
            ContactField::ContactType => &[C::ContactType],
            ContactField::DealerCode => &[C::DealerCode],
            ContactField::BankAccountDetails => &[C::BankAccountDetails],
            ContactField::HasAccountPassword => &[C::AccountPasswordHash],
            ContactField::CreatedAt => &[C::CreatedAt],
            ContactField::UpdatedAt => &[C::UpdatedAt],
            ContactField::Version => &[C::Version],
            ContactField::Typename
            | ContactField::Id
            | ContactField::Subtype
            | ContactField::Role
            | ContactField::Status
            | ContactField::IsShared
            | ContactField::CustomerId
            | ContactField::AccountId
            | ContactField::ContactPoints(_)
            | ContactField::Addresses(_)
            | ContactField::PrimaryAddress(_) => &[],
        })
    }
}

impl ReadColumns for Plan<ContactPointField> {
    type Column = contact_point::Column;

    fn base_columns() -> Vec<contact_point::Column> {
        use contact_point::Column as C;
        vec![C::Id, C::ContactId, C::Kind]
    }

    /// The columns of `contact_point` this plan reads: the keys, the stored enum, and what
    /// its fields write.
    fn columns(&self) -> Vec<contact_point::Column> {
        use contact_point::Column as C;
        read_columns(Self::base_columns(), &self.fields, |field| match field {
            ContactPointField::Value => &[C::Value],
            ContactPointField::CountryCode => &[C::CountryCode],
            ContactPointField::AreaCode => &[C::AreaCode],
            ContactPointField::Number => &[C::Number],
            ContactPointField::Formatted => &[C::Value, C::CountryCode, C::AreaCode, C::Number],
            ContactPointField::IsPrimary => &[C::IsPrimary],
            ContactPointField::CreatedAt => &[C::CreatedAt],
            ContactPointField::UpdatedAt => &[C::UpdatedAt],
            ContactPointField::Version => &[C::Version],
            ContactPointField::Typename | ContactPointField::Id | ContactPointField::Kind => &[],
        })
    }
}

impl ReadColumns for Plan<AddressField> {
    type Column = address::Column;

    fn base_columns() -> Vec<address::Column> {
        use address::Column as C;
        vec![C::Id, C::AddressType]
    }

    /// The columns of `address` this plan reads: the id, the stored enum, and what its fields
    /// write (`isPrimary` is the link's, read with every address).
    fn columns(&self) -> Vec<address::Column> {
        use address::Column as C;
        read_columns(Self::base_columns(), &self.fields, |field| match field {
            AddressField::Line1 => &[C::Line1],
            AddressField::Line2 => &[C::Line2],
            AddressField::Line3 => &[C::Line3],
            AddressField::Line4 => &[C::Line4],
            AddressField::City => &[C::City],
            AddressField::State => &[C::StateCode],
            AddressField::StateName => &[C::StateName],
            AddressField::PostalCode => &[C::PostalCode],
            AddressField::Country => &[C::Country],
            AddressField::Latitude => &[C::Latitude],
            AddressField::Longitude => &[C::Longitude],
            AddressField::CreatedAt => &[C::CreatedAt],
            AddressField::UpdatedAt => &[C::UpdatedAt],
            AddressField::Version => &[C::Version],
            AddressField::Typename
            | AddressField::Id
            | AddressField::AddressType
            | AddressField::IsPrimary => &[],
        })
    }
}
