//! Reading addresses within the caller's scope.

use entity::{address, contact_address};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait};
use uuid::Uuid;

use crate::auth::Scope;
use crate::db::{any_of, columns_with};
use crate::error::Result;

/// An address as attached to one contact.
#[derive(Clone, Debug)]
pub struct AttachedAddress {
    /// The contact it is attached to.
    pub contact_id: Uuid,
    /// Whether it is that contact's primary address.
    pub is_primary: bool,
    /// The address itself.
    pub address: address::Model,
}

/// The addresses attached to `contact_ids`, for contacts the caller may see, oldest first:
/// the `columns` given (and the id), the others left at their defaults.
#[tracing::instrument(skip(db, contact_ids, columns), fields(keys = contact_ids.len()))]
pub async fn of_contacts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    contact_ids: &[Uuid],
    max_rows: u64,
    columns: &[address::Column],
) -> Result<Vec<AttachedAddress>> {
    let columns = columns_with(columns, &[address::Column::Id]);
    let link_contact = Expr::col((contact_address::Entity, contact_address::Column::ContactId));
    let mut select = Query::select();
    select
        .columns(columns.iter().map(|column| (address::Entity, *column)))
        .column((contact_address::Entity, contact_address::Column::ContactId))
        .column((contact_address::Entity, contact_address::Column::IsPrimary))
        .from(address::Entity)
        .inner_join(
            contact_address::Entity,
            Expr::col((contact_address::Entity, contact_address::Column::AddressId))
                .equals((address::Entity, address::Column::Id)),
        )
        .and_where(any_of(
            db.get_database_backend(),
            (contact_address::Entity, contact_address::Column::ContactId),
            contact_ids,
        ))
        .cond_where(scope.contact_child_condition(link_contact))
        .limit(max_rows);

    let rows = db.query_all(&select).await?;
    // Sized once, as `db::rows_of` does.
    let mut attached = Vec::with_capacity(rows.len());
    for row in &rows {
        attached.push(AttachedAddress {
            contact_id: row.try_get_by_index(columns.len())?,
            is_primary: row.try_get_by_index(columns.len() + 1)?,
            address: address::Model::from_columns(row, &columns)?,
        });
    }
    // Sorted here, not by an ORDER BY: with one, SQLite (and PostgreSQL's generic plan, whose
    // LIMIT is a parameter) may walk the primary key in order and filter every row, where
    // without one both read just these keys from the parent's index (BENCHMARKS.md).
    attached.sort_unstable_by_key(|row| row.address.id);
    Ok(attached)
}

/// The addresses among `ids` attached to a contact the caller may see (one statement, for
/// `nodes`; an address reached this way is not primary for anyone).
#[tracing::instrument(skip(db, ids), fields(keys = ids.len()))]
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[Uuid],
) -> Result<Vec<address::Model>> {
    use sea_orm::{EntityTrait, QueryFilter};
    let mut select = address::Entity::find().filter(any_of(
        db.get_database_backend(),
        (address::Entity, address::Column::Id),
        ids,
    ));
    if !scope.is_everything() {
        let link_contact = Expr::col((contact_address::Entity, contact_address::Column::ContactId));
        select = select.filter(
            Expr::col((address::Entity, address::Column::Id)).in_subquery(
                Query::select()
                    .column((contact_address::Entity, contact_address::Column::AddressId))
                    .from(contact_address::Entity)
                    .cond_where(scope.contact_child_condition(link_contact))
                    .to_owned(),
            ),
        );
    }
    Ok(select.all(db).await?)
}

/// How many addresses `contact_id` holds (its primary one included): the count its cap is
/// checked against, inside the write's transaction and after the contact row is locked.
pub async fn count_of(db: &impl ConnectionTrait, contact_id: Uuid) -> Result<u64> {
    use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
    Ok(contact_address::Entity::find()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .count(db)
        .await?)
}

/// Ids of the addresses attached to the contacts matching `contacts` (a condition on the
/// contact table): the candidates to clean up after those contacts go.
pub async fn attached_to(
    db: &impl ConnectionTrait,
    contacts: impl sea_orm::sea_query::IntoCondition,
) -> Result<Vec<Uuid>> {
    use sea_orm::{EntityTrait, QueryFilter, QuerySelect};
    Ok(contact_address::Entity::find()
        .select_only()
        .column(contact_address::Column::AddressId)
        .filter(
            contact_address::Column::ContactId.in_subquery(
                Query::select()
                    .column(entity::contact::Column::Id)
                    .from(entity::contact::Entity)
                    .cond_where(contacts)
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?)
}
