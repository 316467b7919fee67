//! Changing contacts: create (with nested addresses and contact points), update, delete,
//! upsert, and the shared-contact actions. Every function is one transaction.
//!
//! # Contact numbers
//!
//! A `CONFLICT` must only ever concern rows the caller may see, so contact numbers are unique
//! within one customer, not across all contacts (as Xero scopes them to one organisation):
//!
//! - A customer's number space holds its direct contacts and its account-level contacts
//!   (`customer_id` is the account's customer). Moving a contact or an account to another
//!   customer moves its number into that customer's space, where a taken number is a
//!   `CONFLICT`; the mover can see both customers.
//! - Shared contacts have no owner, and no number space: their numbers are compared with no
//!   other contact's, so two shared contacts, or a shared contact and an owned one, may carry
//!   the same number. Converting a direct contact to shared takes its number out of its
//!   former customer's space; linking and unlinking never look at numbers. No write that
//!   involves a shared contact can therefore answer `CONFLICT` about a number.
//! - `saveContact` matches a number within the owner's customer when the input names an
//!   owner, else among the contacts the caller can see (which must then hold that number
//!   once: more is a `CONFLICT` asking for the owner or the id).
//!
//! The per-customer unique index (`ux_contact_number_per_customer`) enforces it, so two
//! concurrent writers cannot both take a number.
//!
//! # Caps
//!
//! A contact holds at most [`MAX_CONTACT_POINTS_PER_CONTACT`] contact points and
//! [`MAX_ADDRESSES_PER_CONTACT`] addresses. Lists over a cap are refused before any SQL; where
//! the result depends on stored rows, they are counted inside the transaction with the contact
//! row locked, and only a write that grows a list past its cap is refused (a contact stored
//! over a cap before the caps existed may still shrink).
//!
//! [`MAX_CONTACT_POINTS_PER_CONTACT`]: crate::input::limits::MAX_CONTACT_POINTS_PER_CONTACT
//! [`MAX_ADDRESSES_PER_CONTACT`]: crate::input::limits::MAX_ADDRESSES_PER_CONTACT

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use entity::{account, contact, shared_contact_link};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use super::input::{ContactChanges, NestedInput, OwnerRef, check_subtype_rules};
use crate::address::write as address_write;
use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::contact_point::service as contact_point_service;
use crate::error::{AppError, Result};
use crate::input::limits::CappedList;
use crate::input::{FieldPath, Password, UserError, UserErrorCode, Validation};
use crate::write::{self, UniqueKey};

/// Hash a password with Argon2id (on a blocking thread: it is deliberately slow).
async fn hash_password(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| AppError::Internal(format!("password hashing failed: {error}")))
    })
    .await
    .map_err(|error| AppError::Internal(format!("password hashing task failed: {error}")))?
}

/// Apply `changes` to `row`, hashing a new password.
async fn apply_changes(row: &mut contact::Model, changes: &ContactChanges) -> Result<()> {
    changes.apply(row);
    match changes.account_password.clone() {
        Some(Some(password)) => row.account_password_hash = Some(hash_password(password).await?),
        Some(None) => row.account_password_hash = None,
        None => {}
    }
    Ok(())
}

/// Unique violations of a contact write, as user errors under `input`.
fn contact_conflict(input: &FieldPath) -> impl FnOnce(UniqueKey) -> Option<UserError> + '_ {
    move |key| match key {
        UniqueKey::ContactNumber => Some(UserError::conflict(
            &input.field("contactNumber"),
            "another contact of this customer has this contact number",
        )),
        UniqueKey::CustomerRole => Some(UserError::conflict(
            &input.field("role"),
            "the customer already has a contact with this role",
        )),
        UniqueKey::AccountRole => Some(UserError::conflict(
            &input.field("role"),
            "the account already has a contact with this role",
        )),
        _ => None,
    }
}

fn level_of(owner: OwnerRef) -> ContactLevel {
    match owner {
        OwnerRef::Customer(_) => ContactLevel::Direct,
        OwnerRef::Account(_) => ContactLevel::Account,
        OwnerRef::Shared => ContactLevel::Shared,
    }
}

/// Check the caller may put a contact at `owner`, and return its `(customer_id, account_id)`.
async fn resolve_owner(
    db: &impl ConnectionTrait,
    principal: &Principal,
    owner: OwnerRef,
    customer_hint: Option<Uuid>,
    input: &FieldPath,
) -> Result<(Option<Uuid>, Option<Uuid>)> {
    principal.require_contact_editor(level_of(owner))?;
    match owner {
        OwnerRef::Customer(customer_id) => {
            crate::customer::service::find_for_reference(db, &principal.scope, customer_id)
                .await?
                .ok_or_else(|| write::not_found(&input.field("customerId"), "customer"))?;
            Ok((Some(customer_id), None))
        }
        OwnerRef::Account(account_id) => {
            let account =
                crate::account::service::find_for_reference(db, &principal.scope, account_id)
                    .await?
                    .ok_or_else(|| write::not_found(&input.field("accountId"), "account"))?;
            if customer_hint.is_some_and(|customer| customer != account.customer_id) {
                return Err(AppError::UserErrors(vec![UserError::invalid(
                    &input.field("customerId"),
                    "is not the customer of the given account",
                )]));
            }
            Ok((Some(account.customer_id), Some(account_id)))
        }
        OwnerRef::Shared => {
            principal.require_shared_contact_owner("creating an unlinked shared contact")?;
            Ok((None, None))
        }
    }
}

/// A new contact row with defaults and fresh id and timestamps.
pub fn blank_contact(customer_id: Option<Uuid>, account_id: Option<Uuid>) -> contact::Model {
    let now = write::now();
    contact::Model {
        id: write::new_id(),
        customer_id,
        account_id,
        subtype: String::new(),
        role: "OTHER".to_owned(),
        title: None,
        first_name: None,
        last_name: None,
        company_name: None,
        position: None,
        email_address: None,
        website: None,
        tax_id: None,
        is_used_for_tax: false,
        contact_number: None,
        contact_type: None,
        dealer_code: None,
        status: "ACTIVE".to_owned(),
        bank_account_details: None,
        account_password_hash: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Write the nested lists of a create or save: contact points and addresses given replace
/// the stored ones (for a new contact there are none).
///
/// The lists given were checked against the caps before any SQL ran; a primary address given
/// alone joins the stored further addresses, so the total is counted after the write. The
/// contact row is locked by then (its `UPDATE` ran first), so no concurrent attachment slips
/// in between.
async fn write_nested(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    nested: &NestedInput,
    input: &FieldPath,
    v: &mut Validation,
    replace: bool,
) -> Result<()> {
    let mut point_rows = Vec::new();
    if let Some(points) = &nested.contact_points {
        for (index, changes) in points.iter().enumerate() {
            let path = input.field("contactPoints").index(index);
            point_rows.push(contact_point_service::build_new(
                contact_id, changes, v, &path,
            ));
        }
    }
    if !v.is_clean() {
        return Ok(());
    }
    let counts_addresses =
        replace && (nested.primary_address.is_some() || nested.addresses.is_some());
    let addresses_before = if counts_addresses {
        crate::address::service::count_of(db, contact_id).await?
    } else {
        0
    };
    if nested.contact_points.is_some() {
        if replace {
            contact_point_service::delete_all_of(db, contact_id).await?;
        }
        contact_point_service::insert_rows(db, point_rows).await?;
    }
    if let Some(primary) = &nested.primary_address {
        if replace {
            address_write::detach_all(db, contact_id, true).await?;
        }
        address_write::insert_attached(db, contact_id, address_write::build_new(primary), true)
            .await?;
    }
    if let Some(addresses) = &nested.addresses {
        if replace {
            address_write::detach_all(db, contact_id, false).await?;
        }
        for changes in addresses {
            address_write::insert_attached(
                db,
                contact_id,
                address_write::build_new(changes),
                false,
            )
            .await?;
        }
    }
    if counts_addresses {
        let list = if nested.addresses.is_some() {
            "addresses"
        } else {
            "primaryAddress"
        };
        let after = crate::address::service::count_of(db, contact_id).await?;
        CappedList::Addresses.check_growth(addresses_before, after, &input.field(list))?;
    }
    Ok(())
}

/// Insert a new contact built from `changes` at `owner`, with its nested lists.
async fn insert_new(
    db: &impl ConnectionTrait,
    principal: &Principal,
    owner: OwnerRef,
    customer_hint: Option<Uuid>,
    changes: &ContactChanges,
    nested: &NestedInput,
) -> Result<contact::Model> {
    let input = FieldPath::root("input");
    let (customer_id, account_id) =
        resolve_owner(db, principal, owner, customer_hint, &input).await?;
    let mut row = blank_contact(customer_id, account_id);
    apply_changes(&mut row, changes).await?;
    let mut v = Validation::default();
    check_subtype_rules(&row, &mut v, &input);
    v.finish()?;
    row.clone()
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map_err(|e| write::conflict_or_db_error(e, contact_conflict(&input)))?;
    let mut nested_check = Validation::default();
    write_nested(db, row.id, nested, &input, &mut nested_check, false).await?;
    nested_check.finish()?;
    Ok(row)
}

/// Create a contact with its nested addresses and contact points, all or nothing.
#[tracing::instrument(skip(db, principal, changes, nested))]
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    owner: OwnerRef,
    customer_hint: Option<Uuid>,
    changes: ContactChanges,
    nested: NestedInput,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let row = insert_new(&txn, principal, owner, customer_hint, &changes, &nested).await?;
    txn.commit().await?;
    Ok(row)
}

/// A change of owner asked for by `updateContact` or `saveContact`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OwnerChange {
    /// Keep the owner.
    #[default]
    Keep,
    /// Move to this owner (never `Shared`: that is `convertToSharedContact`).
    MoveTo(OwnerRef, Option<Uuid>),
    /// Make an account-level contact a direct contact of its own customer.
    DetachFromAccount,
}

/// Find a contact the caller may change, or `NOT_FOUND` at `path` / `FORBIDDEN`.
pub async fn find_editable(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    path: &FieldPath,
) -> Result<contact::Model> {
    let contact = super::service::find(db, &principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(path, "contact"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    Ok(contact)
}

/// [`find_editable`], with the contact row locked for update until the transaction ends: for
/// writes that count the contact's children against their caps.
pub async fn find_editable_for_update(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    path: &FieldPath,
) -> Result<contact::Model> {
    let contact = super::service::find_for_update(db, &principal.scope, id)
        .await?
        .ok_or_else(|| write::not_found(path, "contact"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    Ok(contact)
}

/// Where the arguments of a contact update sit, for user error paths.
pub struct UpdatePaths {
    /// The contact fields (`["input"]`, `["patch", "contact"]`).
    pub input: FieldPath,
    /// The version argument.
    pub version: FieldPath,
}

/// Update a stored contact inside a transaction: fields, owner, version.
pub async fn update_row(
    db: &impl ConnectionTrait,
    principal: &Principal,
    current: contact::Model,
    owner: OwnerChange,
    changes: &ContactChanges,
    expected_version: Option<i32>,
    paths: &UpdatePaths,
) -> Result<contact::Model> {
    let (input, version_path) = (&paths.input, &paths.version);
    let mut merged = current.clone();
    match owner {
        OwnerChange::Keep => {}
        _ if ContactLevel::of(&current) == ContactLevel::Shared => {
            return Err(AppError::UserErrors(vec![UserError::invalid(
                &input.field("customerId"),
                "a shared contact has no owner: link it to customers with addSharedContact",
            )]));
        }
        OwnerChange::DetachFromAccount => merged.account_id = None,
        OwnerChange::MoveTo(owner, hint) => {
            let (customer_id, account_id) =
                resolve_owner(db, principal, owner, hint, input).await?;
            merged.customer_id = customer_id;
            merged.account_id = account_id;
        }
    }
    principal.require_contact_editor(ContactLevel::of(&merged))?;
    apply_changes(&mut merged, changes).await?;
    let mut v = Validation::default();
    check_subtype_rules(&merged, &mut v, input);
    v.finish()?;
    let active = contact::ActiveModel {
        customer_id: Set(merged.customer_id),
        account_id: Set(merged.account_id),
        subtype: Set(merged.subtype.clone()),
        role: Set(merged.role.clone()),
        title: Set(merged.title.clone()),
        first_name: Set(merged.first_name.clone()),
        last_name: Set(merged.last_name.clone()),
        company_name: Set(merged.company_name.clone()),
        position: Set(merged.position.clone()),
        email_address: Set(merged.email_address.clone()),
        website: Set(merged.website.clone()),
        tax_id: Set(merged.tax_id.clone()),
        is_used_for_tax: Set(merged.is_used_for_tax),
        contact_number: Set(merged.contact_number.clone()),
        contact_type: Set(merged.contact_type.clone()),
        dealer_code: Set(merged.dealer_code.clone()),
        status: Set(merged.status.clone()),
        bank_account_details: Set(merged.bank_account_details.clone()),
        account_password_hash: Set(merged.account_password_hash.clone()),
        ..Default::default()
    };
    write::update_versioned(
        db,
        write::VersionColumns {
            id: contact::Column::Id,
            version: contact::Column::Version,
            updated_at: contact::Column::UpdatedAt,
        },
        current.id,
        current.version,
        expected_version,
        active,
        version_path,
    )
    .await
    .map_err(|error| match error {
        AppError::Database(e) => write::conflict_or_db_error(e, contact_conflict(input)),
        other => other,
    })?;
    contact::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("contact"))
}

/// Update a contact: only the fields given change.
#[tracing::instrument(skip(db, principal, changes))]
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    owner: OwnerChange,
    changes: ContactChanges,
    nested: NestedInput,
    expected_version: Option<i32>,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let current = find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let updated = update_row(
        &txn,
        principal,
        current,
        owner,
        &changes,
        expected_version,
        &UpdatePaths {
            input: FieldPath::root("input"),
            version: FieldPath::root("expectedVersion"),
        },
    )
    .await?;
    let mut v = Validation::default();
    write_nested(&txn, id, &nested, &FieldPath::root("input"), &mut v, true).await?;
    v.finish()?;
    txn.commit().await?;
    Ok(updated)
}

/// Delete a contact with its contact points, its links and the addresses no one else uses.
/// A shared contact, which other customers may use, needs ADMIN or SERVICE.
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    let contact = find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    if ContactLevel::of(&contact) == ContactLevel::Shared {
        principal.require_shared_contact_owner("deleting a shared contact")?;
    }
    let addresses = crate::address::service::attached_to(&txn, contact::Column::Id.eq(id)).await?;
    let deleted = contact::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "contact")?;
    crate::address::service::delete_orphans(&txn, addresses).await?;
    txn.commit().await?;
    Ok(id)
}

/// What `saveContact` was given.
#[derive(Clone, Debug)]
pub struct SaveRequest {
    /// Match by id first.
    pub id: Option<Uuid>,
    /// The owner the input names (`Shared` when it names none).
    pub owner: OwnerRef,
    /// `customerId` given beside `accountId`.
    pub customer_hint: Option<Uuid>,
    /// Whether the input named an owner at all.
    pub owner_given: bool,
    /// Field changes.
    pub changes: ContactChanges,
    /// Nested lists.
    pub nested: NestedInput,
}

/// The contacts whose numbers must differ from those of contacts at `owner`: the owned
/// (direct and account-level) contacts of the owner's customer. Shared contacts have no owner
/// and so no number space; their numbers are never compared.
fn number_space(owner: OwnerRef) -> Condition {
    match owner {
        OwnerRef::Customer(customer) => {
            Condition::all().add(contact::Column::CustomerId.eq(customer))
        }
        OwnerRef::Account(account_id) => Condition::all().add(
            contact::Column::CustomerId.in_subquery(
                Query::select()
                    .column(account::Column::CustomerId)
                    .from(account::Entity)
                    .and_where(account::Column::Id.eq(account_id))
                    .to_owned(),
            ),
        ),
        OwnerRef::Shared => Condition::all().add(Expr::val(false)),
    }
}

/// The contact `saveContact` matches by `number`: within the owner's customer when the input
/// names an owner, else among every contact the caller sees, where the number must then name
/// one contact only. Either way only contacts the caller may see are looked at, so the answer
/// never depends on another tenant's data.
async fn find_by_number(
    db: &impl ConnectionTrait,
    principal: &Principal,
    request: &SaveRequest,
    number: &str,
) -> Result<Option<contact::Model>> {
    let mut select = contact::Entity::find()
        .filter(contact::Column::ContactNumber.eq(number))
        .filter(principal.scope.contact_condition());
    if request.owner_given {
        select = select.filter(number_space(request.owner));
    }
    let mut found = select
        .order_by_asc(contact::Column::Id)
        .limit(2)
        .all(db)
        .await?;
    if found.len() > 1 {
        return Err(AppError::UserErrors(vec![UserError::conflict(
            &FieldPath::root("input").field("contactNumber"),
            "several contacts you can see have this contact number: give `customerId` or \
             `accountId` (or `id`) to say which one",
        )]));
    }
    Ok(found.pop())
}

/// Class of PostgreSQL's two-key advisory locks that serialise `saveContact`s of one number
/// without an owner ("kc", for Kith contact).
const NUMBER_LOCK_CLASS: i32 = 0x6b63;

/// Serialise ownerless saves of one contact number until the transaction ends. With an owner,
/// the per-customer unique index decides a race (the loser retries and finds the winner);
/// shared contacts have no such index, so two concurrent saves would both insert. SQLite
/// serialises write transactions already.
async fn lock_ownerless_number(db: &impl ConnectionTrait, number: &str) -> Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        [NUMBER_LOCK_CLASS.into(), number.into()],
    ))
    .await?;
    Ok(())
}

/// The stored contact `saveContact` should update: by id, else contact number, else name
/// within the owner.
async fn find_match(
    db: &impl ConnectionTrait,
    principal: &Principal,
    request: &SaveRequest,
    probe: &contact::Model,
) -> Result<Option<contact::Model>> {
    let scope = &principal.scope;
    if let Some(id) = request.id {
        return super::service::find(db, scope, id)
            .await?
            .map(Some)
            .ok_or_else(|| write::not_found(&FieldPath::root("input").field("id"), "contact"));
    }
    if let Some(number) = request.changes.contact_number() {
        return find_by_number(db, principal, request, number).await;
    }
    let mut select = contact::Entity::find().filter(scope.contact_condition());
    select = match request.owner {
        OwnerRef::Customer(customer) => select
            .filter(contact::Column::CustomerId.eq(customer))
            .filter(contact::Column::AccountId.is_null()),
        OwnerRef::Account(account) => select.filter(contact::Column::AccountId.eq(account)),
        OwnerRef::Shared => select
            .filter(contact::Column::CustomerId.is_null())
            .filter(contact::Column::AccountId.is_null()),
    };
    select = match (&probe.company_name, &probe.first_name, &probe.last_name) {
        (_, Some(first), Some(last)) if probe.subtype != "COMPANY" => select
            .filter(contact::Column::FirstName.eq(first.clone()))
            .filter(contact::Column::LastName.eq(last.clone())),
        (Some(company), _, _) => select.filter(contact::Column::CompanyName.eq(company.clone())),
        _ => return Ok(None),
    };
    Ok(select.order_by_asc(contact::Column::Id).one(db).await?)
}

async fn save_once(
    db: &DatabaseConnection,
    principal: &Principal,
    request: &SaveRequest,
) -> Result<(contact::Model, bool)> {
    let input = FieldPath::root("input");
    let txn = write::begin(db).await?;
    if request.id.is_none()
        && !request.owner_given
        && let Some(number) = request.changes.contact_number()
    {
        lock_ownerless_number(&txn, number).await?;
    }
    let mut probe = blank_contact(None, None);
    request.changes.apply(&mut probe);
    let matched = find_match(&txn, principal, request, &probe).await?;
    let (saved, created) = match matched {
        None => {
            let row = insert_new(
                &txn,
                principal,
                request.owner,
                request.customer_hint,
                &request.changes,
                &request.nested,
            )
            .await?;
            (row, true)
        }
        Some(current) => {
            principal.require_contact_editor(ContactLevel::of(&current))?;
            let owner = match request.owner {
                _ if !request.owner_given => OwnerChange::Keep,
                OwnerRef::Customer(c)
                    if current.customer_id == Some(c) && current.account_id.is_none() =>
                {
                    OwnerChange::Keep
                }
                OwnerRef::Account(a) if current.account_id == Some(a) => OwnerChange::Keep,
                OwnerRef::Shared => OwnerChange::Keep,
                owner => OwnerChange::MoveTo(owner, request.customer_hint),
            };
            let updated = update_row(
                &txn,
                principal,
                current,
                owner,
                &request.changes,
                None,
                &UpdatePaths {
                    input: input.clone(),
                    version: input.field("id"),
                },
            )
            .await?;
            let mut v = Validation::default();
            write_nested(&txn, updated.id, &request.nested, &input, &mut v, true).await?;
            v.finish()?;
            (updated, false)
        }
    };
    txn.commit().await?;
    Ok((saved, created))
}

/// Upsert a contact. Two concurrent saves of the same new contact number produce one contact:
/// the loser of the insert race hits the unique constraint, and its retry finds the winner's
/// row and updates it.
#[tracing::instrument(skip(db, principal, request))]
pub async fn save(
    db: &DatabaseConnection,
    principal: &Principal,
    request: SaveRequest,
) -> Result<(contact::Model, bool)> {
    let number_path = FieldPath::root("input").field("contactNumber");
    match save_once(db, principal, &request).await {
        Err(AppError::UserErrors(errors))
            if request.id.is_none()
                && request.changes.contact_number().is_some()
                && errors.iter().any(|e| {
                    e.code == UserErrorCode::Conflict
                        && e.field.as_ref() == Some(&number_path.clone().into_vec())
                }) =>
        {
            save_once(db, principal, &request).await
        }
        other => other,
    }
}

/// Make a direct contact shared: it loses its owner and stays linked to its former customer.
#[tracing::instrument(skip(db, principal))]
pub async fn convert_to_shared(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<contact::Model> {
    let path = FieldPath::root("id");
    let txn = write::begin(db).await?;
    let contact = find_editable(&txn, principal, id, &path).await?;
    let customer_id = match (ContactLevel::of(&contact), contact.customer_id) {
        (ContactLevel::Direct, Some(customer_id)) => customer_id,
        (ContactLevel::Account, _) => {
            return Err(AppError::UserErrors(vec![UserError::invalid(
                &path,
                "an account-level contact cannot become shared: only direct contacts can",
            )]));
        }
        _ => {
            return Err(AppError::UserErrors(vec![UserError::invalid(
                &path,
                "the contact is already shared",
            )]));
        }
    };
    let active = contact::ActiveModel {
        customer_id: Set(None),
        ..Default::default()
    };
    write::update_versioned(
        &txn,
        write::VersionColumns {
            id: contact::Column::Id,
            version: contact::Column::Version,
            updated_at: contact::Column::UpdatedAt,
        },
        id,
        contact.version,
        None,
        active,
        &path,
    )
    .await?;
    link(&txn, customer_id, id).await?;
    let converted = contact::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("contact"))?;
    txn.commit().await?;
    Ok(converted)
}

/// Link a shared contact to a customer; an existing link is left as it is. One statement,
/// so that two concurrent requests for the same pair cannot both insert.
async fn link(db: &impl ConnectionTrait, customer_id: Uuid, contact_id: Uuid) -> Result<()> {
    shared_contact_link::Entity::insert(
        shared_contact_link::Model {
            customer_id,
            contact_id,
            created_at: write::now(),
        }
        .into_active_model()
        .reset_all(),
    )
    .on_conflict(
        OnConflict::columns([
            shared_contact_link::Column::CustomerId,
            shared_contact_link::Column::ContactId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The customer and shared contact of a link change, checked for reach.
async fn link_parties(
    db: &impl ConnectionTrait,
    principal: &Principal,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<contact::Model> {
    principal.require_link_editor()?;
    crate::customer::service::find_for_reference(db, &principal.scope, customer_id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("customerId"), "customer"))?;
    // A trusted caller may link any shared contact; others only those they already see.
    let contact = super::service::find_for_reference(db, &principal.scope, contact_id)
        .await?
        .ok_or_else(|| write::not_found(&FieldPath::root("contactId"), "contact"))?;
    if ContactLevel::of(&contact) != ContactLevel::Shared {
        return Err(AppError::UserErrors(vec![UserError::invalid(
            &FieldPath::root("contactId"),
            "only shared contacts can be linked to customers (see convertToSharedContact)",
        )]));
    }
    Ok(contact)
}

/// Link a shared contact to a customer. Linking twice is not an error and adds nothing.
#[tracing::instrument(skip(db, principal))]
pub async fn add_link(
    db: &DatabaseConnection,
    principal: &Principal,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let contact = link_parties(&txn, principal, customer_id, contact_id).await?;
    link(&txn, customer_id, contact_id).await?;
    txn.commit().await?;
    Ok(contact)
}

/// Unlink a shared contact from a customer. Unlinking what is not linked changes nothing.
#[tracing::instrument(skip(db, principal))]
pub async fn remove_link(
    db: &DatabaseConnection,
    principal: &Principal,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<contact::Model> {
    let txn = write::begin(db).await?;
    let contact = link_parties(&txn, principal, customer_id, contact_id).await?;
    shared_contact_link::Entity::delete_by_id((customer_id, contact_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(contact)
}
