//! Offset paging in SQL for root list queries (API.md, "Paging"): which rows a page holds,
//! read in one statement, with the list's total counted beside it when asked for. The GraphQL
//! side (page arguments, page objects) is in [`graphql`].

use std::num::NonZeroU32;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select,
};

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
    // One more row than asked tells whether there is a next page without a count.
    let page = select
        .clone()
        .order_by_asc(order_by)
        .offset(request.offset())
        .limit(limit + 1);
    let rows_query = if request.offset() == 0 {
        page.all(db)
    } else {
        // A deferred join: the rows to skip are found in the primary key's index alone (an
        // index-only scan on PostgreSQL), and only the page's rows are read whole. Reading
        // whole rows only to skip them costs twice as much at page 400 (BENCHMARKS.md).
        let ids = page.select_only().column(order_by).into_query();
        E::find()
            .filter(Expr::col((E::default(), order_by)).in_subquery(ids))
            .order_by_asc(order_by)
            .all(db)
    };
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
