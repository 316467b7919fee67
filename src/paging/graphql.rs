//! The GraphQL side of paging: the `page` argument of root lists, checked against the
//! server's limit, and the page objects (`CustomerPage`, `AccountPage`, `ContactPage`...), one
//! generic type named after its items.

use std::borrow::Cow;
use std::num::NonZeroU32;

use async_graphql::{Context, ErrorExtensions, InputObject, OutputType, SimpleObject, TypeName};

use super::{PageRequest, RowPage};
use crate::error::AppError;
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

/// Check `page` against the server's maximum page size: the echo for the page object and
/// the request for the service. The total is counted only if the client selected
/// `totalCount` and did not exclude it.
pub fn page_request(
    page: Option<PageInput>,
    ctx: &Context<'_>,
) -> async_graphql::Result<(Pagination, PageRequest)> {
    let total_selected = ctx.look_ahead().field("totalCount").exists();
    checked_page(page, ctx.settings().max_page_size, total_selected).map_err(|e| e.extend())
}

/// [`page_request`] without a resolver's context: `max` is the largest page allowed, and
/// `total_selected` whether the page's `totalCount` was selected.
pub fn checked_page(
    page: Option<PageInput>,
    max: u64,
    total_selected: bool,
) -> Result<(Pagination, PageRequest), AppError> {
    let page = page.unwrap_or_default();
    let pagination = Pagination {
        page_number: page.page_number.unwrap_or(DEFAULT_PAGE_NUMBER),
        page_size: page.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
        exclude_total_count: page.exclude_total_count.unwrap_or(false),
    };
    let page_number = u32::try_from(pagination.page_number)
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| AppError::BadUserInput("`pageNumber` must be at least 1".into()))?;
    let page_size = u32::try_from(pagination.page_size)
        .ok()
        .and_then(NonZeroU32::new)
        .filter(|size| u64::from(size.get()) <= max)
        .ok_or_else(|| AppError::BadUserInput(format!("`pageSize` must be between 1 and {max}")))?;
    let request = PageRequest {
        page_number,
        page_size,
        count_total: !pagination.exclude_total_count && total_selected,
    };
    Ok((pagination, request))
}

/// A page of a root list.
#[derive(SimpleObject)]
#[graphql(name_type)]
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

/// `CustomerPage` for customers, and so on: each list's page type is named after its items.
impl<T: OutputType> TypeName for Page<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Page", T::type_name()).into()
    }
}

impl<T: OutputType> Page<T> {
    /// Wrap database rows as GraphQL objects, with the page's echo.
    pub fn from_rows<M>(
        pagination: Pagination,
        page: RowPage<M>,
        wrap: impl Fn(M) -> T,
    ) -> Page<T> {
        Page {
            pagination,
            total_count: page.total,
            has_next_page: page.has_next_page,
            items: page.rows.into_iter().map(wrap).collect(),
        }
    }
}
