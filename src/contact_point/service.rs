//! Reading contact points within the caller's scope.

use entity::contact_point;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoSimpleExpr, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::auth::Scope;
use crate::error::Result;

/// The contact points of `contact_ids`, for contacts the caller may see, oldest first.
#[tracing::instrument(skip(db, contact_ids), fields(keys = contact_ids.len()))]
pub async fn of_contacts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    contact_ids: &[Uuid],
) -> Result<Vec<contact_point::Model>> {
    Ok(contact_point::Entity::find()
        .filter(contact_point::Column::ContactId.is_in(contact_ids.iter().copied()))
        .filter(scope.contact_child_condition(contact_point::Column::ContactId.into_simple_expr()))
        .order_by_asc(contact_point::Column::Id)
        .all(db)
        .await?)
}
