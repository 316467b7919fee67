//! Cursor connections on the compiled path: `customersConnection`, `accountsConnection` and
//! `contactsConnection`, their arguments checked by the same functions as the resolvers'
//! (`keyset_request`, `Binding`, `ordering`), their rows read by the same service functions,
//! their edges written with the same cursors.

use async_graphql::InputType;
use async_graphql::parser::types::{Field, SelectionSet};

use super::context::{Fallback, ReadContext};
use super::json::Out;
use super::objects::{Plan, RootObject};
use super::select::{Collected, Document, argument};
use super::sql;
use crate::ordering::graphql::ordering;
use crate::ordering::{Ordering, SortKey, Sortable};
use crate::paging::cursor::{self, Binding};
use crate::paging::graphql::{ConnectionArgs, ConnectionSelection, keyset_request};
use crate::paging::{KeysetPage, KeysetRequest};

/// A connection's arguments, checked.
pub struct KeysetArgs<P> {
    pub(super) filter: P,
    pub(super) ordering: Ordering,
    binding: Binding,
    pub(super) request: KeysetRequest,
}

/// A field of a connection object (`CustomerConnection`...).
pub enum ConnectionField<F> {
    Typename(&'static str),
    Edges(Plan<EdgeField<F>>),
    PageInfo(Plan<PageInfoField>),
    TotalCount,
}

/// A field of an edge (`CustomerEdge`...).
pub enum EdgeField<F> {
    Typename(&'static str),
    Cursor,
    Node(Plan<F>),
}

/// A field of `PageInfo`.
pub enum PageInfoField {
    Typename,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

/// Compile a connection field of the query root: its selection (items compiled by `items`)
/// and its arguments, for the list `list` filtered by `filter`.
pub fn compile<F, K, P: std::fmt::Debug>(
    doc: &Document<'_>,
    field: &Field,
    sets: &[&SelectionSet],
    (list, item_type): (&'static str, &'static str),
    filter: P,
    items: impl Fn(&Document<'_>, &[&SelectionSet]) -> Result<Plan<F>, Fallback> + Copy,
    cx: &ReadContext<'_>,
) -> Result<(KeysetArgs<P>, Plan<ConnectionField<F>>), Fallback>
where
    K: InputType + Into<SortKey>,
{
    let connection_type = connection_type(item_type);
    let plan = Plan::compile(
        doc,
        connection_type,
        sets,
        |doc, selected: &Collected<'_>| {
            Ok(match selected.name {
                "__typename" => ConnectionField::Typename(connection_type),
                "edges" => {
                    ConnectionField::Edges(edges(doc, item_type, &selected.selections, items)?)
                }
                "pageInfo" => ConnectionField::PageInfo(page_info(doc, &selected.selections)?),
                "totalCount" => ConnectionField::TotalCount,
                _ => return Err(Fallback::Unsupported),
            })
        },
    )?;
    let ordering = ordering(argument::<Option<Vec<K>>>(doc, field, "orderBy")?)?;
    let binding = Binding::new(list, &ordering, &filter);
    let args = ConnectionArgs {
        first: argument(doc, field, "first")?,
        after: argument(doc, field, "after")?,
        last: argument(doc, field, "last")?,
        before: argument(doc, field, "before")?,
    };
    let selects = |wanted: fn(&PageInfoField) -> bool| {
        plan.fields().iter().any(|(_, field)| match field {
            ConnectionField::PageInfo(info) => info.fields().iter().any(|(_, f)| wanted(f)),
            _ => false,
        })
    };
    let selection = |from_end: bool| ConnectionSelection {
        total_count: plan
            .fields()
            .iter()
            .any(|(_, field)| matches!(field, ConnectionField::TotalCount)),
        page_info_outside: if from_end {
            selects(|field| matches!(field, PageInfoField::HasNextPage))
        } else {
            selects(|field| matches!(field, PageInfoField::HasPreviousPage))
        },
    };
    let request = keyset_request(args, binding, &ordering, cx.max_page_size, selection)?;
    Ok((
        KeysetArgs {
            filter,
            ordering,
            binding,
            request,
        },
        plan,
    ))
}

/// `CustomerConnection` for `Customer`, and so on: the names the schema gives them.
fn connection_type(item_type: &'static str) -> &'static str {
    match item_type {
        "Customer" => "CustomerConnection",
        "Account" => "AccountConnection",
        _ => "ContactConnection",
    }
}

fn edge_type(item_type: &'static str) -> &'static str {
    match item_type {
        "Customer" => "CustomerEdge",
        "Account" => "AccountEdge",
        _ => "ContactEdge",
    }
}

fn edges<F>(
    doc: &Document<'_>,
    item_type: &'static str,
    sets: &[&SelectionSet],
    items: impl Fn(&Document<'_>, &[&SelectionSet]) -> Result<Plan<F>, Fallback>,
) -> Result<Plan<EdgeField<F>>, Fallback> {
    let edge_type = edge_type(item_type);
    Plan::compile(doc, edge_type, sets, |doc, selected: &Collected<'_>| {
        Ok(match selected.name {
            "__typename" => EdgeField::Typename(edge_type),
            "cursor" => EdgeField::Cursor,
            "node" => EdgeField::Node(items(doc, &selected.selections)?),
            _ => return Err(Fallback::Unsupported),
        })
    })
}

fn page_info(doc: &Document<'_>, sets: &[&SelectionSet]) -> Result<Plan<PageInfoField>, Fallback> {
    Plan::compile(doc, "PageInfo", sets, |_, selected: &Collected<'_>| {
        Ok(match selected.name {
            "__typename" => PageInfoField::Typename,
            "hasNextPage" => PageInfoField::HasNextPage,
            "hasPreviousPage" => PageInfoField::HasPreviousPage,
            "startCursor" => PageInfoField::StartCursor,
            "endCursor" => PageInfoField::EndCursor,
            _ => return Err(Fallback::Unsupported),
        })
    })
}

/// A connection's page: its rows checked, the relations of every `node` selection read, the
/// connection object written.
pub async fn write<F, P>(
    out: &mut Out,
    cx: &ReadContext<'_>,
    plan: &mut Plan<ConnectionField<F>>,
    args: &KeysetArgs<P>,
    page: &KeysetPage<<Plan<F> as RootObject>::Row>,
) -> Result<(), Fallback>
where
    Plan<F>: RootObject + sql::SqlObject,
    <Plan<F> as RootObject>::Row: Sortable,
{
    if !page.rows.iter().all(<Plan<F> as RootObject>::valid) {
        return Err(Fallback::Unsupported);
    }
    let refs: Vec<_> = page.rows.iter().collect();
    for (_, field) in plan.fields_mut() {
        if let ConnectionField::Edges(edges) = field {
            for (_, edge_field) in edges.fields_mut() {
                if let EdgeField::Node(node) = edge_field {
                    sql::load(node, cx, &refs).await?;
                }
            }
        }
    }
    // Cursors for the rows whose cursor is written: every row when an edge selects `cursor`,
    // else the first and last at most (`startCursor`, `endCursor`).
    let every = plan.fields().iter().any(|(_, field)| match field {
        ConnectionField::Edges(edges) => edges
            .fields()
            .iter()
            .any(|(_, field)| matches!(field, EdgeField::Cursor)),
        _ => false,
    });
    let last = page.rows.len().saturating_sub(1);
    let cursors: Vec<Option<String>> = page
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            (every || index == 0 || index == last)
                .then(|| cursor::encode(args.binding, &args.ordering.position_of(row)))
        })
        .collect();
    let cursor_at = |index: usize| cursors.get(index).and_then(Option::as_deref);
    let edges: Vec<(usize, &<Plan<F> as RootObject>::Row)> = page.rows.iter().enumerate().collect();
    plan.write(out, page, |out, field, page| match field {
        ConnectionField::Typename(name) => out.str(name),
        ConnectionField::TotalCount => match page.total {
            Some(total) => out.int(total),
            None => out.null(),
        },
        ConnectionField::PageInfo(info) => info.write(out, page, |out, field, page| match field {
            PageInfoField::Typename => out.str("PageInfo"),
            PageInfoField::HasNextPage => out.bool(page.has_next_page),
            PageInfoField::HasPreviousPage => out.bool(page.has_previous_page),
            PageInfoField::StartCursor => out.opt_str(cursor_at(0)),
            PageInfoField::EndCursor => out.opt_str(if page.rows.is_empty() {
                None
            } else {
                cursor_at(last)
            }),
        }),
        ConnectionField::Edges(edge) => out.list(&edges, |out, (index, row)| {
            edge.write(out, row, |out, field, row| match field {
                EdgeField::Typename(name) => out.str(name),
                EdgeField::Cursor => out.opt_str(cursor_at(*index)),
                EdgeField::Node(node) => node.write_item(out, row, cx),
            });
        }),
    });
    Ok(())
}
