//! Reading change records: an object's history and the root list in the reader's scope, and
//! the records after a position for the feed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{change_party, change_record};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::ObjectType;
use crate::auth::Scope;
use crate::error::Result;
use crate::paging::{PageRequest, RowPage};

/// A change record with the customers and contacts it concerns.
#[derive(Clone, Debug)]
pub struct ChangeRecord {
    /// The row.
    pub row: change_record::Model,
    /// The customers it concerns, ascending.
    pub customers: Vec<Uuid>,
    /// The contacts whose history includes it, ascending.
    pub contacts: Vec<Uuid>,
}

/// Whose history to read.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    /// A customer's own changes.
    Customer(Uuid),
    /// An account's own changes.
    Account(Uuid),
    /// A contact's changes with those of its contact points, addresses and links.
    Contact(Uuid),
}

/// What `changes(filter)` narrows the root list to.
#[derive(Clone, Debug, Default)]
pub struct ChangeFilter {
    /// Only changes at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only changes to objects of this type.
    pub object_type: Option<ObjectType>,
    /// Only changes made by this `sub`.
    pub actor_subject: Option<String>,
}

/// A page of `subject`'s history as `scope` may see it, oldest first (newest last).
pub async fn history(
    db: &impl ConnectionTrait,
    scope: &Scope,
    subject: Subject,
    page: PageRequest,
) -> Result<RowPage<ChangeRecord>> {
    let condition = match subject {
        Subject::Customer(id) => Condition::all()
            .add(change_record::Column::ObjectType.eq(ObjectType::Customer.as_db()))
            .add(change_record::Column::ObjectId.eq(id)),
        Subject::Account(id) => Condition::all()
            .add(change_record::Column::ObjectType.eq(ObjectType::Account.as_db()))
            .add(change_record::Column::ObjectId.eq(id)),
        Subject::Contact(id) => Condition::all().add(
            change_record::Column::Id.in_subquery(
                Query::select()
                    .column(change_party::Column::ChangeId)
                    .from(change_party::Entity)
                    .and_where(change_party::Column::PartyId.eq(id))
                    .and_where(change_party::Column::Kind.eq(change_party::CONTACT))
                    .to_owned(),
            ),
        ),
    };
    paged(db, condition.add(scope.change_condition()), page).await
}

/// A page of every change matching `filter`, oldest first (ADMIN and SERVICE).
pub async fn changes(
    db: &impl ConnectionTrait,
    filter: &ChangeFilter,
    page: PageRequest,
) -> Result<RowPage<ChangeRecord>> {
    let mut condition = Condition::all();
    if let Some(since) = filter.since {
        condition = condition.add(change_record::Column::At.gte(since));
    }
    if let Some(object_type) = filter.object_type {
        condition = condition.add(change_record::Column::ObjectType.eq(object_type.as_db()));
    }
    if let Some(subject) = &filter.actor_subject {
        condition = condition.add(change_record::Column::ActorSubject.eq(subject.as_str()));
    }
    paged(db, condition, page).await
}

async fn paged(
    db: &impl ConnectionTrait,
    condition: Condition,
    page: PageRequest,
) -> Result<RowPage<ChangeRecord>> {
    let size = u64::from(page.page_size.get());
    let offset = u64::from(page.page_number.get() - 1) * size;
    let select = change_record::Entity::find().filter(condition);
    let rows = select
        .clone()
        .order_by_asc(change_record::Column::Id)
        .offset(offset)
        .limit(size + 1)
        .all(db);
    let (rows, total) = if page.count_total {
        let (rows, total) = futures_util::future::join(rows, select.count(db)).await;
        (rows?, Some(total?))
    } else {
        (rows.await?, None)
    };
    let has_next_page = rows.len() as u64 > size;
    let mut rows = with_parties(db, rows).await?;
    rows.truncate(page.page_size.get() as usize);
    Ok(RowPage {
        rows,
        total,
        has_next_page,
    })
}

/// Up to `limit` records after id `after`, in id order.
pub async fn after(db: &impl ConnectionTrait, after: i64, limit: u64) -> Result<Vec<ChangeRecord>> {
    let rows = change_record::Entity::find()
        .filter(change_record::Column::Id.gt(after))
        .order_by_asc(change_record::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    with_parties(db, rows).await
}

/// The highest record id, 0 when there is none.
pub async fn last_id(db: &impl ConnectionTrait) -> Result<i64> {
    let last: Option<Option<i64>> = change_record::Entity::find()
        .select_only()
        .expr(Expr::col(change_record::Column::Id).max())
        .into_tuple()
        .one(db)
        .await?;
    Ok(last.flatten().unwrap_or(0))
}

/// The records of `rows` with the customers and contacts each concerns (one statement).
async fn with_parties(
    db: &impl ConnectionTrait,
    rows: Vec<change_record::Model>,
) -> Result<Vec<ChangeRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let parties = change_party::Entity::find()
        .filter(change_party::Column::ChangeId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let mut by_change: HashMap<i64, (Vec<Uuid>, Vec<Uuid>)> = HashMap::new();
    for party in parties {
        let (customers, contacts) = by_change.entry(party.change_id).or_default();
        match party.kind.as_str() {
            change_party::CUSTOMER => customers.push(party.party_id),
            _ => contacts.push(party.party_id),
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let (mut customers, mut contacts) = by_change.remove(&row.id).unwrap_or_default();
            customers.sort_unstable();
            contacts.sort_unstable();
            ChangeRecord {
                row,
                customers,
                contacts,
            }
        })
        .collect())
}
