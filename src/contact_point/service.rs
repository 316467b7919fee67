//! Reading contact points within the caller's scope.

use entity::contact_point;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, IntoSimpleExpr, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::input::{ContactPointChanges, check_kind_rules};
use crate::auth::access::ContactLevel;
use crate::auth::{Principal, Scope};
use crate::error::{AppError, Result};
use crate::input::limits::CappedList;
use crate::input::{FieldPath, Validation};
use crate::write;

/// The contact points of `contact_ids`, for contacts the caller may see, oldest first.
#[tracing::instrument(skip(db, contact_ids), fields(keys = contact_ids.len()))]
pub async fn of_contacts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    contact_ids: &[Uuid],
    max_rows: u64,
) -> Result<Vec<contact_point::Model>> {
    Ok(contact_point::Entity::find()
        .filter(contact_point::Column::ContactId.is_in(contact_ids.iter().copied()))
        .filter(scope.contact_child_condition(contact_point::Column::ContactId.into_simple_expr()))
        .order_by_asc(contact_point::Column::Id)
        .limit(max_rows)
        .all(db)
        .await?)
}

/// A new row for `contact_id` from parsed input, checked against its kind's rules.
pub fn build_new(
    contact_id: Uuid,
    changes: &ContactPointChanges,
    v: &mut Validation,
    path: &FieldPath,
) -> contact_point::Model {
    let now = write::now();
    let mut row = contact_point::Model {
        id: write::new_id(),
        contact_id,
        kind: String::new(),
        value: None,
        country_code: None,
        area_code: None,
        number: None,
        is_primary: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    changes.apply(&mut row);
    check_kind_rules(&mut row, v, path);
    row
}

/// Clear `is_primary` on the contact's other points of the same kind as `primary`.
async fn demote_others(db: &impl ConnectionTrait, primary: &contact_point::Model) -> Result<()> {
    contact_point::Entity::update_many()
        .col_expr(contact_point::Column::IsPrimary, Expr::value(false))
        .filter(contact_point::Column::ContactId.eq(primary.contact_id))
        .filter(contact_point::Column::Kind.eq(primary.kind.clone()))
        .filter(contact_point::Column::Id.ne(primary.id))
        .filter(contact_point::Column::IsPrimary.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

/// Insert rows built by [`build_new`]; a primary one demotes the others of its kind.
pub async fn insert_rows(db: &impl ConnectionTrait, rows: Vec<contact_point::Model>) -> Result<()> {
    for row in rows {
        let primary = row.is_primary.then(|| row.clone());
        row.into_active_model().reset_all().insert(db).await?;
        if let Some(primary) = primary {
            demote_others(db, &primary).await?;
        }
    }
    Ok(())
}

/// How many contact points `contact_id` holds: the count its cap is checked against, inside
/// the write's transaction and after the contact row is locked.
pub async fn count_of(db: &impl ConnectionTrait, contact_id: Uuid) -> Result<u64> {
    Ok(contact_point::Entity::find()
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .count(db)
        .await?)
}

/// Delete every contact point of `contact_id` (a list given to `saveContact` replaces them).
pub async fn delete_all_of(db: &impl ConnectionTrait, contact_id: Uuid) -> Result<()> {
    contact_point::Entity::delete_many()
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
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

/// Apply `changes` to a stored contact point (inside a transaction).
pub async fn update_row(
    db: &impl ConnectionTrait,
    current: contact_point::Model,
    changes: &ContactPointChanges,
    expected_version: Option<i32>,
    path: &FieldPath,
    version_path: &FieldPath,
) -> Result<contact_point::Model> {
    let mut merged = current.clone();
    changes.apply(&mut merged);
    let mut v = Validation::default();
    check_kind_rules(&mut merged, &mut v, path);
    v.finish()?;
    let active = contact_point::ActiveModel {
        kind: Set(merged.kind.clone()),
        value: Set(merged.value.clone()),
        country_code: Set(merged.country_code.clone()),
        area_code: Set(merged.area_code.clone()),
        number: Set(merged.number.clone()),
        is_primary: Set(merged.is_primary),
        ..Default::default()
    };
    write::update_versioned(
        db,
        write::VersionColumns {
            id: contact_point::Column::Id,
            version: contact_point::Column::Version,
            updated_at: contact_point::Column::UpdatedAt,
        },
        current.id,
        current.version,
        expected_version,
        active,
        version_path,
    )
    .await?;
    if merged.is_primary {
        demote_others(db, &merged).await?;
    }
    contact_point::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("contact point"))
}

/// Add a contact point to a contact, unless it already holds its cap (`TOO_MANY`). The
/// contact row is locked before counting, so concurrent adds to one contact take turns and
/// cannot both slip under the cap.
#[tracing::instrument(skip(db, principal, changes))]
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    contact_id: Uuid,
    changes: ContactPointChanges,
) -> Result<contact_point::Model> {
    let input = FieldPath::root("input");
    let contact_path = FieldPath::root("contactId");
    let mut v = Validation::default();
    let row = build_new(contact_id, &changes, &mut v, &input);
    let txn = write::begin(db).await?;
    let contact = crate::contact::service::find_for_update(&txn, &principal.scope, contact_id)
        .await?
        .ok_or_else(|| write::not_found(&contact_path, "contact"))?;
    principal.require_contact_editor(ContactLevel::of(&contact))?;
    v.finish()?;
    let stored = count_of(&txn, contact_id).await?;
    CappedList::ContactPoints.check_growth(stored, stored + 1, &contact_path)?;
    insert_rows(&txn, vec![row.clone()]).await?;
    txn.commit().await?;
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
    let updated = update_row(
        &txn,
        current,
        &changes,
        expected_version,
        &FieldPath::root("input"),
        &FieldPath::root("expectedVersion"),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Delete a contact point.
#[tracing::instrument(skip(db, principal))]
pub async fn delete(db: &DatabaseConnection, principal: &Principal, id: Uuid) -> Result<Uuid> {
    let txn = write::begin(db).await?;
    find_editable(&txn, principal, id, &FieldPath::root("id")).await?;
    let deleted = contact_point::Entity::delete_by_id(id).exec(&txn).await?;
    write::ensure_deleted(deleted, &FieldPath::root("id"), "contact point")?;
    txn.commit().await?;
    Ok(id)
}
