//! The GraphQL side of paging: the `page` argument of root lists, checked against the
//! server's limit, and the page objects (`CustomerPage`, `AccountPage`, `ContactPage`...), one
//! generic type named after its items; and the cursor connections beside them (Relay's Cursor
//! Connections spec): their arguments, `CustomerConnection`/`CustomerEdge`... and `PageInfo`.

use std::borrow::Cow;
use std::num::NonZeroU32;

use async_graphql::{
    Context, ErrorExtensions, InputObject, Object, OutputType, SimpleObject, TypeName,
};

use super::cursor::{self, Binding};
use super::{KeysetPage, KeysetRequest, PageRequest, RowPage};
use crate::error::AppError;
use crate::graphql_context::ContextExt;
use crate::ordering::{Ordering, Sortable};

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

/// A connection's arguments (`first`, `after`, `last`, `before`), as the client sent them.
#[derive(Clone, Debug, Default)]
pub struct ConnectionArgs {
    /// Rows from the start of the window.
    pub first: Option<i32>,
    /// The cursor the window starts after.
    pub after: Option<String>,
    /// Rows from the end of the window.
    pub last: Option<i32>,
    /// The cursor the window ends before.
    pub before: Option<String>,
}

/// What a connection's selection asks for beyond its edges.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectionSelection {
    /// `totalCount` is selected: count the list.
    pub total_count: bool,
    /// `pageInfo.hasPreviousPage` (with `first`) or `pageInfo.hasNextPage` (with `last`) is
    /// selected: look past the cursor.
    pub page_info_outside: bool,
}

impl ConnectionSelection {
    /// What the resolver's field selects.
    pub fn of(ctx: &Context<'_>, from_end: bool) -> ConnectionSelection {
        let look_ahead = ctx.look_ahead();
        let page_info = look_ahead.field("pageInfo");
        ConnectionSelection {
            total_count: look_ahead.field("totalCount").exists(),
            page_info_outside: page_info
                .field(if from_end {
                    "hasNextPage"
                } else {
                    "hasPreviousPage"
                })
                .exists(),
        }
    }
}

/// Check a connection's arguments: `first` or `last` (not both; 20 when neither) between 0
/// and `max` (Relay's spec refuses only negative sizes), cursors of this list (`binding`) in
/// this order.
pub fn keyset_request(
    args: ConnectionArgs,
    binding: Binding,
    ordering: &Ordering,
    max: u64,
    selection: impl FnOnce(bool) -> ConnectionSelection,
) -> Result<KeysetRequest, AppError> {
    let (name, count, from_end) = match (args.first, args.last) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadUserInput(
                "pass `first` or `last`, not both".into(),
            ));
        }
        (None, Some(last)) => ("last", last, true),
        (first, None) => ("first", first.unwrap_or(DEFAULT_PAGE_SIZE), false),
    };
    let limit = u32::try_from(count)
        .ok()
        .filter(|limit| u64::from(*limit) <= max)
        .ok_or_else(|| AppError::BadUserInput(format!("`{name}` must be between 0 and {max}")))?;
    let position = |name: &str, cursor: Option<String>| {
        cursor
            .map(|cursor| cursor::decode(name, &cursor, binding, ordering))
            .transpose()
    };
    let selection = selection(from_end);
    Ok(KeysetRequest {
        limit,
        from_end,
        after: position("after", args.after)?,
        before: position("before", args.before)?,
        count_total: selection.total_count,
        probe_outside: selection.page_info_outside,
    })
}

/// [`keyset_request`] for a resolver of the connection over `list` (`"contacts"`...) under
/// `filter`: its cursors' binding, the server's maximum page size, what the field selects,
/// the error with its code.
pub fn connection_request(
    ctx: &Context<'_>,
    args: ConnectionArgs,
    list: &str,
    ordering: &Ordering,
    filter: &impl std::fmt::Debug,
) -> async_graphql::Result<(Binding, KeysetRequest)> {
    let binding = Binding::new(list, ordering, filter);
    let max = ctx.settings().max_page_size;
    keyset_request(args, binding, ordering, max, |from_end| {
        ConnectionSelection::of(ctx, from_end)
    })
    .map(|request| (binding, request))
    .map_err(|e| e.extend())
}

/// Where a page of a connection lies in its list.
#[derive(Clone, Debug, SimpleObject)]
pub struct PageInfo {
    /// Whether rows follow this page (with `before`: whether rows lie at or after it).
    pub has_next_page: bool,
    /// Whether rows precede this page (with `after`: whether rows lie at or before it).
    pub has_previous_page: bool,
    /// The first edge's cursor; null when there are no edges.
    pub start_cursor: Option<String>,
    /// The last edge's cursor; null when there are no edges.
    pub end_cursor: Option<String>,
}

/// One item of a connection and its cursor.
#[derive(SimpleObject)]
#[graphql(name_type)]
pub struct Edge<T: OutputType> {
    /// Pass as `after` (or `before`) to read on from this item.
    pub cursor: String,
    /// The item.
    pub node: T,
}

/// `CustomerEdge` for customers, and so on.
impl<T: OutputType> TypeName for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", T::type_name()).into()
    }
}

/// A page of a list read by cursor (Relay's Cursor Connections spec).
pub struct Connection<T: OutputType> {
    edges: Vec<Edge<T>>,
    page_info: PageInfo,
    total_count: Option<u64>,
}

/// `CustomerConnection` for customers, and so on.
impl<T: OutputType> TypeName for Connection<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

/// A page of a list read by cursor (Relay's Cursor Connections spec): its edges, where it
/// lies, and the size of the whole list.
#[Object(name_type)]
impl<T: OutputType> Connection<T> {
    /// The items of this page, each with its cursor, in the list's order.
    async fn edges(&self) -> &[Edge<T>] {
        &self.edges
    }
    /// Where this page lies in the list.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// Items in the whole list (its filter, not its cursors); counted only when selected.
    async fn total_count(&self) -> async_graphql::Result<u64> {
        // The resolver counts whenever the selection holds `totalCount`, so this is there.
        self.total_count
            .ok_or_else(|| AppError::internal("totalCount resolved but not counted").extend())
    }
}

impl<T: OutputType> Connection<T> {
    /// Wrap database rows as GraphQL edges, each with its cursor.
    pub fn from_rows<M: Sortable>(
        page: KeysetPage<M>,
        binding: Binding,
        ordering: &Ordering,
        wrap: impl Fn(M) -> T,
    ) -> Connection<T> {
        let edges: Vec<Edge<T>> = page
            .rows
            .into_iter()
            .map(|row| Edge {
                cursor: cursor::encode(binding, &ordering.position_of(&row)),
                node: wrap(row),
            })
            .collect();
        Connection {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: page.has_previous_page,
                start_cursor: edges.first().map(|edge| edge.cursor.clone()),
                end_cursor: edges.last().map(|edge| edge.cursor.clone()),
            },
            edges,
            total_count: page.total,
        }
    }
}
