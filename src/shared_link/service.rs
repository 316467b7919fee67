//! Reading shared-contact links within the caller's scope.

use entity::{customer, shared_contact_link};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, Iterable};
use uuid::Uuid;

use crate::auth::Scope;
use crate::db::any_of;
use crate::error::Result;

/// The customers linked to each of `contact_ids`, as `(contact id, customer)` pairs, limited to
/// the customers the caller may see: a contact shared by A and B never reveals B to a caller
/// scoped to A.
#[tracing::instrument(skip(db, contact_ids), fields(keys = contact_ids.len()))]
pub async fn linked_customers(
    db: &impl ConnectionTrait,
    scope: &Scope,
    contact_ids: &[Uuid],
    max_rows: u64,
) -> Result<Vec<(Uuid, customer::Model)>> {
    let mut select = Query::select();
    for column in customer::Column::iter() {
        select.column((customer::Entity, column));
    }
    select
        .column((
            shared_contact_link::Entity,
            shared_contact_link::Column::ContactId,
        ))
        .from(customer::Entity)
        .inner_join(
            shared_contact_link::Entity,
            Expr::col((
                shared_contact_link::Entity,
                shared_contact_link::Column::CustomerId,
            ))
            .equals((customer::Entity, customer::Column::Id)),
        )
        .and_where(any_of(
            db.get_database_backend(),
            (
                shared_contact_link::Entity,
                shared_contact_link::Column::ContactId,
            ),
            contact_ids,
        ))
        .cond_where(scope.customer_condition())
        .limit(max_rows);

    let rows = db.query_all(&select).await?;
    let mut pairs = rows
        .iter()
        .map(|row| {
            let contact_id: Uuid = row.try_get("", "contact_id")?;
            Ok((contact_id, customer::Model::from_query_result(row, "")?))
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    // Sorted here, not by an ORDER BY: with one, SQLite (and PostgreSQL's generic plan, whose
    // LIMIT is a parameter) may walk the primary key in order and filter every row, where
    // without one both read just these keys from the parent's index (BENCHMARKS.md).
    pairs.sort_unstable_by_key(|(_, customer)| customer.id);
    Ok(pairs)
}
