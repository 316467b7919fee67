//! Offset paging in SQL for root list queries (API.md, "Paging"): which rows a page holds,
//! read in one statement, with the list's total counted beside it when asked for. The GraphQL
//! side (page arguments, page objects) is in [`graphql`].

use std::num::NonZeroU32;

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Select};

use crate::error::Result;

pub mod graphql;

/// A page to read: already checked against the server's limits.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    /// 1-based page number.
    pub page_number: NonZeroU32,
    /// Rows per page.
    pub page_size: NonZeroU32,
    /// Whether to count the whole list too (a second statement).
    pub count_total: bool,
}

impl PageRequest {
    fn limit(&self) -> u64 {
        u64::from(self.page_size.get())
    }

    fn offset(&self) -> u64 {
        u64::from(self.page_number.get() - 1) * self.limit()
    }
}

/// One page of rows, as read from the database.
#[derive(Debug)]
pub struct RowPage<M> {
    /// The rows of this page, in the list's stable order.
    pub rows: Vec<M>,
    /// Rows in the whole list, when counted.
    pub total: Option<u64>,
    /// Whether a further page has rows.
    pub has_next_page: bool,
}

/// Read one page of `select`, ordered by primary key. Ids are UUIDv7, so that order is
/// creation order, and it is stable and index-backed. The count runs beside the page query.
pub async fn fetch_page<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order_by: E::Column,
    request: PageRequest,
) -> Result<RowPage<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let limit = request.limit();
    // Plain OFFSET. A deferred join (ids from the primary key's index first, whole rows for
    // the page only) measured +9% at page 400 on a vacuumed table but -28% on one whose
    // visibility map is not yet set, where the "index-only" scan visits the heap anyway
    // (BENCHMARKS.md). Deep pages want keyset paging, not a cleverer OFFSET.
    let rows_query = select
        .clone()
        .order_by_asc(order_by)
        .offset(request.offset())
        // One more row than asked tells whether there is a next page without a count.
        .limit(limit + 1)
        .all(db);
    let (mut rows, total) = if request.count_total {
        let (rows, total) = futures_util::future::join(rows_query, select.count(db)).await;
        (rows?, Some(total?))
    } else {
        (rows_query.await?, None)
    };
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(request.page_size.get() as usize);
    Ok(RowPage {
        rows,
        total,
        has_next_page,
    })
}
