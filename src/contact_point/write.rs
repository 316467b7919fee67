//! Writing contact points: adding one (under its contact's cap), changing and deleting one,
//! and the row-level steps the contact writes share (inserting valid points, replacing a
//! contact's list). The contact's role rules are checked here, on the contact it belongs to.

use entity::contact_point;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, IntoSimpleExpr, QueryFilter,
};
use uuid::Uuid;

use super::input::{ContactPointChanges, NewContactPoint};
use super::service::count_of;
use crate::auth::Principal;
use crate::auth::access::ContactLevel;
use crate::error::{AppError, FieldPath, Result};
use crate::history::journal::Journal;
use crate::input::limits::CappedList;
use crate::write;

/// A new row for `contact_id`.
fn new_row(contact_id: Uuid, point: &NewContactPoint) -> contact_point::Model {
    let now = write::now();
    contact_point::Model {
        id: write::new_id(),
        contact_id,
        kind: point.kind.as_db().to_owned(),
        value: point.value.clone(),
        country_code: point.country_code.clone(),
        area_code: point.area_code.clone(),
        number: point.number.clone(),
        is_primary: point.is_primary,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Clear `is_primary` on the other points of `contact_id` of `kind` than `primary_id`.
async fn demote_others(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    kind: &str,
    primary_id: Uuid,
) -> Result<()> {
    contact_point::Entity::update_many()
        .col_expr(contact_point::Column::IsPrimary, Expr::value(false))
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .filter(contact_point::Column::Kind.eq(kind))
        .filter(contact_point::Column::Id.ne(primary_id))
        .filter(contact_point::Column::IsPrimary.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

/// Insert `point` for `contact_id`; a primary one demotes the others of its kind.
pub async fn insert(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    point: &NewContactPoint,
) -> Result<contact_point::Model> {
    let row = new_row(contact_id, point);
    row.clone()
        .into_active_model()
        .reset_all()
        .insert(db)
        .await?;
    if row.is_primary {
        demote_others(db, contact_id, &row.kind, row.id).await?;
    }
    Ok(row)
}

/// Insert `points` for `contact_id`, in order.
pub async fn insert_all(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    points: &[NewContactPoint],
) -> Result<()> {
    for point in points {
        insert(db, contact_id, point).await?;
    }
    Ok(())
}

/// Delete every contact point of `contact_id` (a list given to `saveContact` replaces them).
pub async fn delete_all_of(db: &impl ConnectionTrait, contact_id: Uuid) -> Result<()> {
    contact_point::Entity::delete_many()
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Delete contact point `id`; `NOT_FOUND` at `path` when a concurrent delete won.
pub async fn delete_row(db: &impl ConnectionTrait, id: Uuid, path: &FieldPath) -> Result<()> {
    let deleted = contact_point::Entity::delete_by_id(id).exec(db).await?;
    write::ensure_deleted(deleted, path, "contact point")
}

/// A contact point the caller may change, with its contact: `NOT_FOUND` at `path` when it is
/// out of reach, `FORBIDDEN` when the caller's role may not change that contact.
pub async fn find_editable(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    path: &FieldPath,
) -> Result<contact_point::Model> {
    let row = contact_point::Entity::find_by_id(id)
        .filter(
            principal
                .scope
                .contact_child_condition(contact_point::Column::ContactId.into_simple_expr()),
        )
        .one(db)
        .await?
        .ok_or_else(|| write::not_found(path, "contact point"))?;
    let contact = crate::contact::service::find(db, &principal.scope, row.contact_id)
        .await?
        .ok_or_else(|| write::not_found(path, "contact point"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    Ok(row)
}

/// Apply `changes` to a stored contact point (inside a transaction), checking the kind's
/// rules on the result; problems are reported under `path`.
pub async fn update_row(
    db: &impl ConnectionTrait,
    current: contact_point::Model,
    changes: &ContactPointChanges,
    expected_version: Option<i32>,
    path: &FieldPath,
    version_path: &FieldPath,
) -> Result<contact_point::Model> {
    let merged = changes.merge(&current, path)?;
    let kind = merged.kind.as_db();
    let active = contact_point::ActiveModel {
        kind: Set(kind.to_owned()),
        value: Set(merged.value),
        country_code: Set(merged.country_code),
        area_code: Set(merged.area_code),
        number: Set(merged.number),
        is_primary: Set(merged.is_primary),
        ..Default::default()
    };
    write::update_versioned(
        db,
        current.id,
        current.version,
        expected_version,
        active,
        version_path,
    )
    .await?;
    if merged.is_primary {
        demote_others(db, current.contact_id, kind, current.id).await?;
    }
    contact_point::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("contact point"))
}

/// Add a contact point to a contact, unless it already holds its cap (`TOO_MANY`). The
/// contact row is locked before counting, so concurrent adds to one contact take turns and
/// cannot both slip under the cap.
#[tracing::instrument(skip(db, principal, point))]
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    contact_id: Uuid,
    point: Result<NewContactPoint>,
) -> Result<contact_point::Model> {
    let contact_path = FieldPath::root("contactId");
    let txn = write::begin(db).await?;
    let contact = crate::contact::service::find_for_update(&txn, &principal.scope, contact_id)
        .await?
        .ok_or_else(|| write::not_found(&contact_path, "contact"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    let mut journal = Journal::new(db, principal);
    journal.contact(&txn, contact_id).await?;
    // The input's problems come after the role's: a caller learns nothing about inputs it may
    // not send.
    let point = point?;
    let stored = count_of(&txn, contact_id).await?;
    CappedList::ContactPoints.check_growth(stored, stored + 1, &contact_path)?;
    let row = insert(&txn, contact_id, &point).await?;
    journal.commit(txn).await?;
    Ok(row)
}

/// Change a contact point.
#[tracing::instrument(skip(db, principal, changes))]
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    changes: ContactPointChanges,
    expected_version: Option<i32>,
) -> Result<contact_point::Model> {
    let txn = write::begin(db).await?;
    let current = find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let mut journal = Journal::new(db, principal);
    journal.contact(&txn, current.contact_id).await?;
    let updated = update_row(
        &txn,
        current,
        &changes,
        expected_version,
        &FieldPath::root("input"),
        &FieldPath::root("expectedVersion"),
    )
    .await?;
    journal.commit(txn).await?;
    Ok(updated)
}

/// Delete a contact point.
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    let current = find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let mut journal = Journal::new(db, principal);
    journal.contact(&txn, current.contact_id).await?;
    delete_row(&txn, id, &FieldPath::root("id")).await?;
    journal.commit(txn).await?;
    Ok(id)
}
