//! Reading contact points within the caller's scope.

use entity::contact_point;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoSimpleExpr, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::auth::Scope;
use crate::error::Result;

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

/// How many contact points `contact_id` holds: the count its cap is checked against, inside
/// the write's transaction and after the contact row is locked.
pub async fn count_of(db: &impl ConnectionTrait, contact_id: Uuid) -> Result<u64> {
    Ok(contact_point::Entity::find()
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .count(db)
        .await?)
}
