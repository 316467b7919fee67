//! Reading contact points within the caller's scope.

use entity::contact_point;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoSimpleExpr, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use crate::auth::Scope;
use crate::db::{any_of, columns_with, rows_of};
use crate::error::Result;

/// The contact points of `contact_ids`, for contacts the caller may see, oldest first: the
/// `columns` given (and the keys), the others left at their defaults.
#[tracing::instrument(skip(db, contact_ids, columns), fields(keys = contact_ids.len()))]
pub async fn of_contacts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    contact_ids: &[Uuid],
    max_rows: u64,
    columns: &[contact_point::Column],
) -> Result<Vec<contact_point::Model>> {
    let columns = columns_with(
        columns,
        &[contact_point::Column::Id, contact_point::Column::ContactId],
    );
    let mut select = Query::select();
    select
        .columns(
            columns
                .iter()
                .map(|column| (contact_point::Entity, *column)),
        )
        .from(contact_point::Entity)
        .and_where(any_of(
            db.get_database_backend(),
            (contact_point::Entity, contact_point::Column::ContactId),
            contact_ids,
        ))
        .cond_where(
            scope.contact_child_condition(contact_point::Column::ContactId.into_simple_expr()),
        )
        .limit(max_rows);
    let mut rows: Vec<contact_point::Model> = rows_of(db, &select, &columns).await?;
    // Sorted here, not by an ORDER BY: with one, SQLite (and PostgreSQL's generic plan, whose
    // LIMIT is a parameter) may walk the primary key in order and filter every row, where
    // without one both read just these keys from the parent's index (BENCHMARKS.md).
    rows.sort_unstable_by_key(|row| row.id);
    Ok(rows)
}

/// The contact points among `ids` whose contact the caller may see (one statement, for
/// `nodes`).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<contact_point::Model>> {
    Ok(contact_point::Entity::find()
        .filter(any_of(
            db.get_database_backend(),
            (contact_point::Entity, contact_point::Column::Id),
            ids,
        ))
        .filter(scope.contact_child_condition(contact_point::Column::ContactId.into_simple_expr()))
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
