//! The query root of the compiled path: `customer`, `customers`, `account`, `accounts`,
//! `contact` and `contacts`, their arguments coerced by the same input types the schema
//! uses, and the page objects of the lists.

use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::{ID, InputType};
use uuid::Uuid;

use super::connection::{self, ConnectionField, KeysetArgs};
use super::context::{Fallback, ReadContext};
use super::json::{Out, key};
use super::objects::{
    self, AccountField, ContactField, CustomerField, Plan, ReadColumns, RootObject,
};
use super::select::{Collected, Document, argument};
use super::sql;
use crate::account::input::{AccountFilter, AccountFilterParams};
use crate::contact::input::{ContactFilter, ContactFilterParams};
use crate::customer::input::{CustomerFilter, CustomerFilterParams};
use crate::loaders::count_batch;
use crate::ordering::graphql::{AccountOrder, ContactOrder, CustomerOrder, ordering};
use crate::ordering::{Ordering, SortKey};
use crate::paging::graphql::{PageInput, Pagination, checked_page};
use crate::paging::{PageRequest, RowPage};

/// A field of the query root.
pub enum RootField {
    Typename,
    Customer(Uuid, Plan<CustomerField>),
    Customers(
        PageArgs<CustomerFilterParams>,
        Plan<PageField<CustomerField>>,
    ),
    Account(Uuid, Plan<AccountField>),
    Accounts(PageArgs<AccountFilterParams>, Plan<PageField<AccountField>>),
    Contact(Uuid, Plan<ContactField>),
    Contacts(PageArgs<ContactFilterParams>, Plan<PageField<ContactField>>),
    CustomersConnection(
        KeysetArgs<CustomerFilterParams>,
        Plan<ConnectionField<CustomerField>>,
    ),
    AccountsConnection(
        KeysetArgs<AccountFilterParams>,
        Plan<ConnectionField<AccountField>>,
    ),
    ContactsConnection(
        KeysetArgs<ContactFilterParams>,
        Plan<ConnectionField<ContactField>>,
    ),
}

/// A root list's arguments, checked.
pub struct PageArgs<P> {
    pagination: Pagination,
    request: PageRequest,
    filter: P,
    ordering: Ordering,
}

/// A field of a page object (`CustomerPage`...).
pub enum PageField<F> {
    Typename(&'static str),
    Pagination(Plan<PaginationField>),
    TotalCount,
    HasNextPage,
    Items(Plan<F>),
}

/// A field of `Pagination`.
pub enum PaginationField {
    Typename,
    PageNumber,
    PageSize,
    ExcludeTotalCount,
}

/// The operation's root fields, compiled in selection order.
pub struct RootPlan {
    fields: Vec<(Box<[u8]>, String, RootField)>,
}

/// Compile the operation's selection set.
pub fn compile(
    doc: &Document<'_>,
    set: &SelectionSet,
    cx: &ReadContext<'_>,
) -> Result<RootPlan, Fallback> {
    let mut fields = Vec::new();
    for selected in doc.collect("Query", &[set])? {
        let sets = selected.selections.as_slice();
        let field = selected.field;
        let root = match selected.name {
            "__typename" => RootField::Typename,
            "customer" => RootField::Customer(id(doc, field)?, objects::customer(doc, sets)?),
            "account" => RootField::Account(id(doc, field)?, objects::account(doc, sets)?),
            "contact" => RootField::Contact(id(doc, field)?, objects::contact(doc, sets)?),
            "customers" => {
                let plan = page(doc, "CustomerPage", sets, objects::customer)?;
                let filter = filter(doc, field, CustomerFilter::parse)?;
                let order = order_by::<CustomerOrder>(doc, field)?;
                RootField::Customers(page_args(doc, field, &plan, filter, order, cx)?, plan)
            }
            "accounts" => {
                let plan = page(doc, "AccountPage", sets, objects::account)?;
                let filter = filter(doc, field, AccountFilter::parse)?;
                let order = order_by::<AccountOrder>(doc, field)?;
                RootField::Accounts(page_args(doc, field, &plan, filter, order, cx)?, plan)
            }
            "contacts" => {
                let plan = page(doc, "ContactPage", sets, objects::contact)?;
                let filter = filter(doc, field, ContactFilter::parse)?;
                let order = order_by::<ContactOrder>(doc, field)?;
                RootField::Contacts(page_args(doc, field, &plan, filter, order, cx)?, plan)
            }
            "customersConnection" => {
                let filter = filter(doc, field, CustomerFilter::parse)?;
                let (args, plan) = connection::compile::<_, CustomerOrder, _>(
                    doc,
                    field,
                    sets,
                    ("customers", "Customer"),
                    filter,
                    objects::customer,
                    cx,
                )?;
                RootField::CustomersConnection(args, plan)
            }
            "accountsConnection" => {
                let filter = filter(doc, field, AccountFilter::parse)?;
                let (args, plan) = connection::compile::<_, AccountOrder, _>(
                    doc,
                    field,
                    sets,
                    ("accounts", "Account"),
                    filter,
                    objects::account,
                    cx,
                )?;
                RootField::AccountsConnection(args, plan)
            }
            "contactsConnection" => {
                let filter = filter(doc, field, ContactFilter::parse)?;
                let (args, plan) = connection::compile::<_, ContactOrder, _>(
                    doc,
                    field,
                    sets,
                    ("contacts", "Contact"),
                    filter,
                    objects::contact,
                    cx,
                )?;
                RootField::ContactsConnection(args, plan)
            }
            _ => return Err(Fallback::Unsupported),
        };
        fields.push((key(selected.key), selected.key.to_owned(), root));
    }
    Ok(RootPlan { fields })
}

/// Read and write every root field, in selection order.
/// On failure, the response key of the root field that failed comes with the reason.
pub async fn run(
    plan: &mut RootPlan,
    cx: &ReadContext<'_>,
    out: &mut Out,
) -> Result<(), (Fallback, String)> {
    out.raw(b"{");
    for (index, (key, name, field)) in plan.fields.iter_mut().enumerate() {
        if index > 0 {
            out.raw(b",");
        }
        out.raw(key);
        root_field(field, cx, out)
            .await
            .map_err(|fallback| (fallback, name.clone()))?;
    }
    out.raw(b"}");
    Ok(())
}

/// Read and write one root field.
async fn root_field(
    field: &mut RootField,
    cx: &ReadContext<'_>,
    out: &mut Out,
) -> Result<(), Fallback> {
    match field {
        RootField::Typename => out.str("Query"),
        RootField::Customer(id, plan) => {
            let visible = cx.scope.customer_condition();
            if let Some(found) = sql::by_id(plan, cx, *id, visible, true).await? {
                out.opt_raw(found.as_deref());
                return Ok(());
            }
            let read = crate::customer::service::by_ids(cx.db, cx.scope, &[*id]).await;
            let rows = count_batch(cx.rows, "CustomerById", 1, read)?;
            by_id(out, cx, plan, rows.first()).await?;
        }
        RootField::Account(id, plan) => {
            let visible = cx.scope.account_condition();
            if let Some(found) = sql::by_id(plan, cx, *id, visible, true).await? {
                out.opt_raw(found.as_deref());
                return Ok(());
            }
            let read = crate::account::service::by_ids(cx.db, cx.scope, &[*id]).await;
            let rows = count_batch(cx.rows, "AccountById", 1, read)?;
            by_id(out, cx, plan, rows.first()).await?;
        }
        RootField::Contact(id, plan) => {
            let visible = cx.scope.contact_condition();
            if let Some(found) = sql::by_id(plan, cx, *id, visible, false).await? {
                out.opt_raw(found.as_deref());
                return Ok(());
            }
            let row = crate::contact::service::find(cx.db, cx.scope, *id).await?;
            by_id(out, cx, plan, row.as_ref()).await?;
        }
        RootField::Customers(args, plan) => {
            let (filter, ordering, request) = (&args.filter, &args.ordering, args.request);
            let rows = crate::customer::service::list(
                cx.db,
                cx.scope,
                filter,
                ordering,
                request,
                &items_columns(plan),
            )
            .await?;
            page_of(out, cx, plan, args, &rows).await?;
        }
        RootField::Accounts(args, plan) => {
            let (filter, ordering, request) = (&args.filter, &args.ordering, args.request);
            let rows = crate::account::service::list(
                cx.db,
                cx.scope,
                filter,
                ordering,
                request,
                &items_columns(plan),
            )
            .await?;
            page_of(out, cx, plan, args, &rows).await?;
        }
        RootField::Contacts(args, plan) => {
            let (filter, ordering, request) = (&args.filter, &args.ordering, args.request);
            let rows = crate::contact::service::list(
                cx.db,
                cx.scope,
                filter,
                ordering,
                request,
                &items_columns(plan),
            )
            .await?;
            page_of(out, cx, plan, args, &rows).await?;
        }
        RootField::CustomersConnection(args, plan) => {
            let (filter, ordering, request) = (&args.filter, &args.ordering, &args.request);
            let page =
                crate::customer::service::connection(cx.db, cx.scope, filter, ordering, request)
                    .await?;
            connection::write(out, cx, plan, args, &page).await?;
        }
        RootField::AccountsConnection(args, plan) => {
            let (filter, ordering, request) = (&args.filter, &args.ordering, &args.request);
            let page =
                crate::account::service::connection(cx.db, cx.scope, filter, ordering, request)
                    .await?;
            connection::write(out, cx, plan, args, &page).await?;
        }
        RootField::ContactsConnection(args, plan) => {
            let (filter, ordering, request) = (&args.filter, &args.ordering, &args.request);
            let page =
                crate::contact::service::connection(cx.db, cx.scope, filter, ordering, request)
                    .await?;
            connection::write(out, cx, plan, args, &page).await?;
        }
    }
    Ok(())
}

/// A root field by id: `null` when there is no such row in the caller's scope, else the row
/// with what its plan selects. A row Kith did not write falls back.
async fn by_id<P: RootObject + sql::SqlObject>(
    out: &mut Out,
    cx: &ReadContext<'_>,
    plan: &mut P,
    row: Option<&P::Row>,
) -> Result<(), Fallback> {
    match row {
        None => out.null(),
        Some(row) if !P::valid(row) => return Err(Fallback::Unsupported),
        Some(row) => {
            sql::load(plan, cx, &[row]).await?;
            plan.write_item(out, row, cx);
        }
    }
    Ok(())
}

/// A root list's page: its rows checked, the relations of every `items` selection read (each
/// alias has its own plan), the page object written.
async fn page_of<F, Q>(
    out: &mut Out,
    cx: &ReadContext<'_>,
    plan: &mut Plan<PageField<F>>,
    args: &PageArgs<Q>,
    rows: &RowPage<<Plan<F> as RootObject>::Row>,
) -> Result<(), Fallback>
where
    Plan<F>: RootObject + sql::SqlObject,
{
    if !rows.rows.iter().all(<Plan<F> as RootObject>::valid) {
        return Err(Fallback::Unsupported);
    }
    let refs: Vec<_> = rows.rows.iter().collect();
    for (_, field) in plan.fields_mut() {
        if let PageField::Items(items) = field {
            sql::load(items, cx, &refs).await?;
        }
    }
    write_page(out, plan, args, rows, |out, items, row| {
        items.write_item(out, row, cx);
    });
    Ok(())
}

/// Compile a selection on a page object whose items are compiled by `items`.
fn page<F>(
    doc: &Document<'_>,
    type_name: &'static str,
    sets: &[&SelectionSet],
    items: impl Fn(&Document<'_>, &[&SelectionSet]) -> Result<Plan<F>, Fallback>,
) -> Result<Plan<PageField<F>>, Fallback> {
    Plan::compile(doc, type_name, sets, |doc, selected: &Collected<'_>| {
        Ok(match selected.name {
            "__typename" => PageField::Typename(type_name),
            "pagination" => PageField::Pagination(Plan::compile(
                doc,
                "Pagination",
                &selected.selections,
                |_, selected| {
                    Ok(match selected.name {
                        "__typename" => PaginationField::Typename,
                        "pageNumber" => PaginationField::PageNumber,
                        "pageSize" => PaginationField::PageSize,
                        "excludeTotalCount" => PaginationField::ExcludeTotalCount,
                        _ => return Err(Fallback::Unsupported),
                    })
                },
            )?),
            "totalCount" => PageField::TotalCount,
            "hasNextPage" => PageField::HasNextPage,
            "items" => PageField::Items(items(doc, &selected.selections)?),
            _ => return Err(Fallback::Unsupported),
        })
    })
}

/// The `filter` argument of a root list, absent as its default, checked by `parse` as the
/// schema's resolvers check it; a bad one falls back, and async-graphql reports it.
fn filter<F: InputType + Default, P>(
    doc: &Document<'_>,
    field: &Field,
    parse: impl FnOnce(F) -> async_graphql::Result<P>,
) -> Result<P, Fallback> {
    let given = argument::<Option<F>>(doc, field, "filter")?;
    parse(given.unwrap_or_default()).map_err(|_| Fallback::Unsupported)
}

/// The `orderBy` argument of a root list, checked as the schema's resolvers check it; a bad
/// one falls back, and async-graphql reports it.
fn order_by<K: InputType + Into<SortKey>>(
    doc: &Document<'_>,
    field: &Field,
) -> Result<Ordering, Fallback> {
    ordering(argument::<Option<Vec<K>>>(doc, field, "orderBy")?).map_err(|_| Fallback::Unsupported)
}

/// The `page` argument of a root list, checked as the schema's resolvers check it.
fn page_args<F, P>(
    doc: &Document<'_>,
    field: &Field,
    plan: &Plan<PageField<F>>,
    filter: P,
    ordering: Ordering,
    cx: &ReadContext<'_>,
) -> Result<PageArgs<P>, Fallback> {
    let page = argument::<Option<PageInput>>(doc, field, "page")?;
    let total_selected = plan
        .fields()
        .iter()
        .any(|(_, field)| matches!(field, PageField::TotalCount));
    let (pagination, request) = checked_page(page, cx.max_page_size, total_selected)?;
    Ok(PageArgs {
        pagination,
        request,
        filter,
        ordering,
    })
}

/// Write a page object.
fn write_page<F, R, P>(
    out: &mut Out,
    plan: &Plan<PageField<F>>,
    args: &PageArgs<P>,
    rows: &RowPage<R>,
    item: impl Fn(&mut Out, &Plan<F>, &R),
) {
    plan.write(out, rows, |out, field, rows| match field {
        PageField::Typename(name) => out.str(name),
        PageField::Pagination(pagination) => {
            pagination.write(out, &args.pagination, |out, field, echo| match field {
                PaginationField::Typename => out.str("Pagination"),
                PaginationField::PageNumber => out.int(echo.page_number),
                PaginationField::PageSize => out.int(echo.page_size),
                PaginationField::ExcludeTotalCount => out.bool(echo.exclude_total_count),
            });
        }
        PageField::TotalCount => match rows.total {
            Some(total) => out.int(total),
            None => out.null(),
        },
        PageField::HasNextPage => out.bool(rows.has_next_page),
        PageField::Items(items) => out.list(&rows.rows, |out, row| item(out, items, row)),
    });
}

/// An `ID!` argument, as a UUID.
fn id(doc: &Document<'_>, field: &Field) -> Result<Uuid, Fallback> {
    let id = argument::<ID>(doc, field, "id")?;
    Uuid::parse_str(id.as_str()).map_err(|_| Fallback::Unsupported)
}

/// The columns the `items` selections of a page read (each alias has its own plan), and those
/// every row needs when there is none.
fn items_columns<F>(plan: &Plan<PageField<F>>) -> Vec<<Plan<F> as ReadColumns>::Column>
where
    Plan<F>: ReadColumns,
{
    let mut columns = <Plan<F> as ReadColumns>::base_columns();
    for (_, field) in plan.fields() {
        if let PageField::Items(items) = field {
            crate::db::add_columns(&mut columns, &items.columns());
        }
    }
    columns
}
