//! Reading addresses within the caller's scope.

use entity::{address, contact_address};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, FromQueryResult, Iterable};
use uuid::Uuid;

use crate::auth::Scope;
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

/// The addresses attached to `contact_ids`, for contacts the caller may see, oldest first.
#[tracing::instrument(skip(db, contact_ids), fields(keys = contact_ids.len()))]
pub async fn of_contacts(
    db: &impl ConnectionTrait,
    scope: &Scope,
    contact_ids: &[Uuid],
    max_rows: u64,
) -> Result<Vec<AttachedAddress>> {
    let link_contact = Expr::col((contact_address::Entity, contact_address::Column::ContactId));
    let mut select = Query::select();
    for column in address::Column::iter() {
        select.column((address::Entity, column));
    }
    select
        .column((contact_address::Entity, contact_address::Column::ContactId))
        .column((contact_address::Entity, contact_address::Column::IsPrimary))
        .from(address::Entity)
        .inner_join(
            contact_address::Entity,
            Expr::col((contact_address::Entity, contact_address::Column::AddressId))
                .equals((address::Entity, address::Column::Id)),
        )
        .and_where(contact_address::Column::ContactId.is_in(contact_ids.iter().copied()))
        .cond_where(scope.contact_child_condition(link_contact))
        .order_by((address::Entity, address::Column::Id), sea_orm::Order::Asc)
        .limit(max_rows);

    let rows = db.query_all(&select).await?;
    let attached = rows
        .iter()
        .map(|row| {
            Ok(AttachedAddress {
                contact_id: row.try_get("", "contact_id")?,
                is_primary: row.try_get("", "is_primary")?,
                address: address::Model::from_query_result(row, "")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    Ok(attached)
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
