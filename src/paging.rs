//! Offset paging for root list queries (API.md, "Paging").

use async_graphql::{Context, ErrorExtensions, InputObject, OutputType, SimpleObject};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Select};

use crate::account::graphql::Account;
use crate::contact::graphql::Contact;
use crate::customer::graphql::Customer;
use crate::error::{AppError, Result};
use crate::graphql_context::ContextExt;

const DEFAULT_PAGE_NUMBER: i32 = 1;
const DEFAULT_PAGE_SIZE: i32 = 20;

/// Which page of a list to return. Every field is optional as API.md spells it
/// (`pageNumber: Int = 1`...): an explicit `null` means the default, as an absent field does.
#[derive(Clone, Copy, Debug, Default, InputObject)]
pub struct PageInput {
    /// 1-based page number.
    #[graphql(default_with = "Some(DEFAULT_PAGE_NUMBER)")]
    pub page_number: Option<i32>,
    /// Items per page, at most the server's `KITH_MAX_PAGE_SIZE` (100 by default).
    #[graphql(default_with = "Some(DEFAULT_PAGE_SIZE)")]
    pub page_size: Option<i32>,
    /// Skip counting the whole list: `totalCount` is then null and the request cheaper.
    #[graphql(default_with = "Some(false)")]
    pub exclude_total_count: Option<bool>,
}

impl PageInput {
    fn page_number(&self) -> i32 {
        self.page_number.unwrap_or(DEFAULT_PAGE_NUMBER)
    }

    fn page_size(&self) -> i32 {
        self.page_size.unwrap_or(DEFAULT_PAGE_SIZE)
    }

    fn exclude_total_count(&self) -> bool {
        self.exclude_total_count.unwrap_or(false)
    }
}

/// The page that was returned, echoed back.
#[derive(Clone, Copy, Debug, SimpleObject)]
pub struct Pagination {
    /// 1-based page number.
    pub page_number: i32,
    /// Items per page requested.
    pub page_size: i32,
    /// Whether `totalCount` was skipped.
    pub exclude_total_count: bool,
}

/// A validated page request.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pagination: Pagination,
    offset: u64,
    limit: u64,
    count_total: bool,
}

impl PageRequest {
    /// Validate `input` against the server's maximum page size. The total is counted only if
    /// the client asked for it and did not exclude it.
    pub fn new(input: Option<PageInput>, ctx: &Context<'_>) -> Result<PageRequest> {
        let input = input.unwrap_or_default();
        let (page_number, page_size, exclude_total_count) = (
            input.page_number(),
            input.page_size(),
            input.exclude_total_count(),
        );
        let max = ctx.settings().max_page_size;
        if page_number < 1 {
            return Err(AppError::BadUserInput(
                "`pageNumber` must be at least 1".into(),
            ));
        }
        if page_size < 1 || page_size as u64 > max {
            return Err(AppError::BadUserInput(format!(
                "`pageSize` must be between 1 and {max}"
            )));
        }
        let limit = page_size as u64;
        let offset = (page_number as u64 - 1) * limit;
        let count_total = !exclude_total_count && ctx.look_ahead().field("totalCount").exists();
        Ok(PageRequest {
            pagination: Pagination {
                page_number,
                page_size,
                exclude_total_count,
            },
            offset,
            limit,
            count_total,
        })
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
    /// The request, echoed back.
    pub pagination: Pagination,
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
    let rows_query = select
        .clone()
        .order_by_asc(order_by)
        .offset(request.offset)
        // One more row than asked tells whether there is a next page without a count.
        .limit(request.limit + 1)
        .all(db);
    let (mut rows, total) = if request.count_total {
        let (rows, total) = futures_util::future::join(rows_query, select.count(db)).await;
        (rows?, Some(total?))
    } else {
        (rows_query.await?, None)
    };
    let has_next_page = rows.len() as u64 > request.limit;
    rows.truncate(request.limit as usize);
    Ok(RowPage {
        rows,
        total,
        has_next_page,
        pagination: request.pagination,
    })
}

/// A page of a root list.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "CustomerPage", params(Customer)),
    concrete(name = "AccountPage", params(Account)),
    concrete(name = "ContactPage", params(Contact))
)]
pub struct Page<T: OutputType> {
    /// The page returned.
    pub pagination: Pagination,
    /// Items in the whole list; null when `excludeTotalCount` was set.
    pub total_count: Option<u64>,
    /// Whether a later page has items.
    pub has_next_page: bool,
    /// The items of this page, in a stable order (creation order).
    pub items: Vec<T>,
}

impl<T: OutputType> Page<T> {
    /// Wrap database rows as GraphQL objects.
    pub fn from_rows<M>(page: RowPage<M>, wrap: impl Fn(M) -> T) -> Page<T> {
        Page {
            pagination: page.pagination,
            total_count: page.total,
            has_next_page: page.has_next_page,
            items: page.rows.into_iter().map(wrap).collect(),
        }
    }
}

/// Validate the page input, as a GraphQL error.
pub fn page_request(
    input: Option<PageInput>,
    ctx: &Context<'_>,
) -> async_graphql::Result<PageRequest> {
    PageRequest::new(input, ctx).map_err(|error| error.extend())
}
