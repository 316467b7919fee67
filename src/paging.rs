//! Paging in SQL for root list queries (API.md, "Paging"): offset pages (`page`), and keyset
//! pages for cursor connections (`first`/`after`, `last`/`before`), each read in one
//! statement, with the list's total counted beside it when asked for. The GraphQL side (page
//! and connection arguments, page and connection objects) is in [`graphql`]; cursors, opaque
//! to clients, in [`cursor`].

use std::num::NonZeroU32;

use sea_orm::sea_query::Expr;
use sea_orm::{
    Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait, Select,
};

use crate::error::Result;
use crate::ordering::{Ordering, Position, Side, Sortable};

pub mod cursor;
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

/// Read one page of `select` in `ordering` (by default by primary key: ids are UUIDv7, so
/// that is creation order). Every order ends in the id, so it is stable, and each has an
/// index. The count runs beside the page query.
pub async fn fetch_page<S>(
    db: &impl ConnectionTrait,
    select: Select<S::Entity>,
    ordering: &Ordering,
    request: PageRequest,
    columns: &[S::Column],
) -> Result<RowPage<S>>
where
    S: Sortable
        + sea_orm::FromQueryResult
        + entity::FromColumns<Column = <S::Entity as EntityTrait>::Column>
        + Send
        + Sync
        + 'static,
    S::Entity: EntityTrait<Model = S>,
{
    let limit = request.limit();
    let backend = db.get_database_backend();
    // One more row than asked tells whether there is a next page without a count.
    let ordered = ordering.apply::<S>(backend, select.clone());
    let page = if backend == DbBackend::Postgres && request.offset() > 0 {
        // A deferred join: the page's ids first, through the order's index, reading only the
        // key columns of the rows OFFSET passes over; then the page's whole rows by id. As
        // `id = ANY(ARRAY(…))` the ids are an InitPlan whatever the plan; as `id IN (…)`,
        // PostgreSQL's generic plan (bound LIMIT and OFFSET) merge-joins every row of the
        // table, which measured 28% slower than plain OFFSET (BENCHMARKS.md).
        let ids = ordered
            .select_only()
            .expr(S::id_expr())
            .offset(request.offset())
            .limit(limit + 1)
            .into_query();
        let on_page = Expr::cust_with_exprs(
            "$1 = ANY(ARRAY $2)",
            [S::id_expr(), Expr::SubQuery(None, Box::new(ids.into()))],
        );
        ordering.apply::<S>(backend, S::Entity::find().filter(on_page))
    } else {
        ordered.offset(request.offset()).limit(limit + 1)
    };
    // Only `columns`, decoded by index.
    let statement = page
        .select_only()
        .columns(columns.iter().copied())
        .into_query();
    let rows_query = crate::db::rows_of::<S>(db, &statement, columns);
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

/// A keyset page to read: already checked against the server's limits.
#[derive(Clone, Debug)]
pub struct KeysetRequest {
    /// Rows to return (0 is allowed, as Relay's spec allows it: only the flags then).
    pub limit: u32,
    /// `last`: the rows at the end of the window, not its start.
    pub from_end: bool,
    /// Only rows after this position (`after`).
    pub after: Option<Position>,
    /// Only rows before this position (`before`).
    pub before: Option<Position>,
    /// Whether to count the whole list (filters, not cursors), a second statement.
    pub count_total: bool,
    /// Whether to find out if rows lie beyond the cursor on the side the page does not read
    /// toward (`hasPreviousPage` after `after`, `hasNextPage` before `before`): a one-row
    /// statement, run only when that flag was selected.
    pub probe_outside: bool,
}

/// One keyset page, in the list's order.
#[derive(Debug)]
pub struct KeysetPage<M> {
    /// The rows, in the list's order (also for `last`).
    pub rows: Vec<M>,
    /// Rows in the whole list, when counted.
    pub total: Option<u64>,
    /// Whether rows follow the page (see [`KeysetRequest::probe_outside`]).
    pub has_next_page: bool,
    /// Whether rows precede the page (see [`KeysetRequest::probe_outside`]).
    pub has_previous_page: bool,
}

/// Read one keyset page of `select` in `ordering`: the rows after `after` and before
/// `before`, the first `limit` of them (or the last, read in the reversed order). Its cost
/// does not grow with how deep the page lies: the index on the order's keys is entered at the
/// cursor. The flag that looks past the cursor (`probe_outside`) and the count run beside it.
pub async fn fetch_keyset<S>(
    db: &impl ConnectionTrait,
    select: Select<S::Entity>,
    ordering: &Ordering,
    request: &KeysetRequest,
) -> Result<KeysetPage<S>>
where
    S: Sortable + sea_orm::FromQueryResult + Send + Sync + 'static,
    S::Entity: EntityTrait<Model = S>,
{
    let backend = db.get_database_backend();
    let limit = u64::from(request.limit);
    let mut window = select.clone();
    if let Some(after) = &request.after {
        window = window.filter(ordering.beyond::<S>(backend, after, Side::After));
    }
    if let Some(before) = &request.before {
        window = window.filter(ordering.beyond::<S>(backend, before, Side::Before));
    }
    let read_in = if request.from_end {
        ordering.reversed()
    } else {
        ordering.clone()
    };
    // One more row than asked tells whether the window goes on.
    let rows_query = read_in.apply::<S>(backend, window).limit(limit + 1).all(db);
    // The cursor on the side the page does not read toward: are there rows beyond it?
    let outside = if request.from_end {
        request.before.as_ref().map(|at| (at, Side::Before))
    } else {
        request.after.as_ref().map(|at| (at, Side::After))
    }
    .filter(|_| request.probe_outside)
    .map(|(at, side)| {
        // Not beyond the cursor on the page's side: at it or past it on the other.
        select
            .clone()
            .filter(Condition::not(ordering.beyond::<S>(backend, at, side)))
            .limit(1)
            .all(db)
    });
    let count = request.count_total.then(|| select.clone().count(db));
    let (rows, outside, total) = futures_util::future::join3(
        rows_query,
        async {
            match outside {
                Some(query) => query.await.map(|rows| !rows.is_empty()),
                None => Ok(false),
            }
        },
        async {
            match count {
                Some(count) => count.await.map(Some),
                None => Ok(None),
            }
        },
    )
    .await;
    let (mut rows, outside, total) = (rows?, outside?, total?);
    let more = rows.len() as u64 > limit;
    rows.truncate(request.limit as usize);
    if request.from_end {
        rows.reverse();
    }
    let (has_next_page, has_previous_page) = if request.from_end {
        (outside, more)
    } else {
        (more, outside)
    };
    Ok(KeysetPage {
        rows,
        total,
        has_next_page,
        has_previous_page,
    })
}
