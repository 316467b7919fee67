//! `saveContact`, the upsert: match a stored contact by id, else contact number, else name
//! within the owner; update it, or insert a new one. The insert race on a new number is
//! settled by the unique index and one retry.

use entity::{account, contact};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::access::{require_editor, resolve_owner};
use super::create::insert_at;
use super::nested::write_nested;
use super::update::{UpdatePaths, update_row};
use crate::auth::Principal;
use crate::contact::input::{NameKey, OwnerChange, OwnerRef, SaveRequest};
use crate::contact::service;
use crate::error::{AppError, Result};
use crate::history::journal::Journal;
use crate::input::{FieldPath, UserError, UserErrorCode};
use crate::write;

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
) -> Result<Option<contact::Model>> {
    let scope = &principal.scope;
    if let Some(id) = request.id {
        return service::find(db, scope, id)
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
    select = match request.changes.name_key() {
        Some(NameKey::Person { first, last }) => select
            .filter(contact::Column::FirstName.eq(first))
            .filter(contact::Column::LastName.eq(last)),
        Some(NameKey::Company(company)) => select.filter(contact::Column::CompanyName.eq(company)),
        None => return Ok(None),
    };
    Ok(select.order_by_asc(contact::Column::Id).one(db).await?)
}

/// The change of owner a save asks of the contact it matched: none unless the input names
/// an owner other than the contact's.
fn owner_change(request: &SaveRequest, current: &contact::Model) -> OwnerChange {
    match request.owner {
        _ if !request.owner_given => OwnerChange::Keep,
        OwnerRef::Customer(c) if current.customer_id == Some(c) && current.account_id.is_none() => {
            OwnerChange::Keep
        }
        OwnerRef::Account(a) if current.account_id == Some(a) => OwnerChange::Keep,
        OwnerRef::Shared => OwnerChange::Keep,
        owner => OwnerChange::MoveTo(owner, request.customer_hint),
    }
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
    let mut journal = Journal::new(db, principal);
    let (saved, created) = match find_match(&txn, principal, request).await? {
        None => {
            // Placed first, so the owner's problems come before the fields', as they do in
            // `createContact`.
            let placed = resolve_owner(
                &txn,
                principal,
                request.owner,
                request.customer_hint,
                &input,
            )
            .await?;
            let draft = request.changes.into_new_contact(&input)?;
            let row = insert_at(&txn, placed, draft, &request.nested).await?;
            journal.created_contact(row.id);
            (row, true)
        }
        Some(current) => {
            require_editor(principal, &current)?;
            if request.nested.is_empty() {
                journal.contact_fields(&txn, &current).await?;
            } else {
                journal.contact(&txn, current.id).await?;
            }
            let owner = owner_change(request, &current);
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
            write_nested(&txn, updated.id, &request.nested, &input, true).await?;
            (updated, false)
        }
    };
    journal.commit(txn).await?;
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
