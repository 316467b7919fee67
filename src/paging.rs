//! Paging in SQL for root list queries (API.md, "Paging"): offset pages (`page`), and keyset
//! pages for cursor connections (`first`/`after`, `last`/`before`), each read in one
//! statement, with the list's total counted beside it when asked for. The GraphQL side (page
//! and connection arguments, page and connection objects) is in [`graphql`]; cursors, opaque
//! to clients, in [`cursor`].

use std::num::NonZeroU32;

use sea_orm::sea_query::{Expr, Value, Values};
use sea_orm::{
    Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait, Select, Statement,
};

use crate::error::{AppError, Result};
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
    // On PostgreSQL the statement is written with marks for LIMIT and OFFSET, which
    // `literal_paging` turns into numbers; elsewhere they are parameters.
    let (limit_value, offset_value) = if backend == DbBackend::Postgres {
        (LIMIT_MARK, OFFSET_MARK)
    } else {
        (limit + 1, request.offset())
    };
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
            .offset(offset_value)
            .limit(limit_value)
            .into_query();
        let on_page = Expr::cust_with_exprs(
            "$1 = ANY(ARRAY $2)",
            [S::id_expr(), Expr::SubQuery(None, Box::new(ids.into()))],
        );
        ordering.apply::<S>(backend, S::Entity::find().filter(on_page))
    } else if request.offset() > 0 {
        ordered.offset(offset_value).limit(limit_value)
    } else {
        ordered.limit(limit_value)
    };
    // Only `columns`, decoded by index.
    let mut statement = backend.build(
        &page
            .select_only()
            .columns(columns.iter().copied())
            .into_query(),
    );
    if backend == DbBackend::Postgres {
        statement = literal_paging(statement, limit + 1, request.offset())?;
    }
    let rows_query = async {
        let rows = db.query_all_raw(statement).await?;
        crate::db::decode_rows::<S>(&rows, columns)
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

/// The values `fetch_page` gives LIMIT and OFFSET on PostgreSQL, for [`literal_paging`] to
/// find among the statement's parameters: no other parameter of a page is a `u64` this large.
const LIMIT_MARK: u64 = u64::MAX;
const OFFSET_MARK: u64 = u64::MAX - 1;

/// `statement` with its LIMIT and OFFSET parameters (given as [`LIMIT_MARK`] and
/// [`OFFSET_MARK`]) written into the SQL as the numbers `limit` and `offset`, and the other
/// parameters renumbered.
///
/// As parameters, they hide a page's cost from PostgreSQL's plan cache: it kept planning
/// each execution afresh (a custom plan, 0.09 ms of Q4's 0.6 ms in PostgreSQL), and a page
/// with no other parameter (a list no scope narrows) read 15% (page 400) to 16–31% (page 1)
/// slower than with generic plans (BENCHMARKS.md). As numbers, such a page has one plan per
/// connection, and a scoped page gets a generic plan costed for its real LIMIT and OFFSET.
/// Each page size and number is its own prepared statement, which sqlx's per-connection
/// statement cache keeps or evicts like any other.
fn literal_paging(statement: Statement, limit: u64, offset: u64) -> Result<Statement> {
    let Statement {
        sql,
        values,
        db_backend,
    } = statement;
    let values = values.map(|values| values.0).unwrap_or_default();
    let mut kept = Vec::with_capacity(values.len());
    let mut written = String::with_capacity(sql.len());
    let mut marks = 0;
    let mut rest = sql.as_str();
    // PostgreSQL placeholders are `$1`, `$2`, ...; sea-query writes no other `$` into a page's
    // SQL (identifiers are Kith's own names, and values are all parameters).
    while let Some(at) = rest.find('$') {
        written.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - at - 1, |end| end);
        let index: usize = rest[at + 1..at + 1 + digits]
            .parse()
            .map_err(|_| AppError::internal(format!("a `$` that is no placeholder in {sql}")))?;
        let value = values
            .get(index.wrapping_sub(1))
            .ok_or_else(|| AppError::internal(format!("placeholder ${index} has no value")))?;
        match value {
            Value::BigUnsigned(Some(LIMIT_MARK)) => {
                written.push_str(itoa::Buffer::new().format(limit));
                marks += 1;
            }
            Value::BigUnsigned(Some(OFFSET_MARK)) => {
                written.push_str(itoa::Buffer::new().format(offset));
                marks += 1;
            }
            value => {
                kept.push(value.clone());
                written.push('$');
                written.push_str(itoa::Buffer::new().format(kept.len()));
            }
        }
        rest = &rest[at + 1 + digits..];
    }
    written.push_str(rest);
    let expected = if offset > 0 { 2 } else { 1 };
    if marks != expected {
        return Err(AppError::internal(format!(
            "a page's statement has {marks} paging marks, not {expected}: {sql}"
        )));
    }
    Ok(Statement {
        sql: written,
        values: (!kept.is_empty()).then_some(Values(kept)),
        db_backend,
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

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, PostgresQueryBuilder, Query};

    use super::*;

    fn statement(select: &sea_orm::sea_query::SelectStatement) -> Statement {
        let (sql, values) = select.build(PostgresQueryBuilder);
        Statement {
            sql,
            values: Some(values),
            db_backend: DbBackend::Postgres,
        }
    }

    #[test]
    fn paging_marks_become_numbers_and_the_other_parameters_are_renumbered() {
        // A scoped deferred join: parameters before the marks (the scope), inside a
        // subquery, and after it (the outer condition).
        let ids = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("contact"))
            .and_where(Expr::col(Alias::new("customer_id")).eq("c-1"))
            .limit(LIMIT_MARK)
            .offset(OFFSET_MARK)
            .to_owned();
        let page = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("contact"))
            .and_where(Expr::col(Alias::new("id")).in_subquery(ids))
            .and_where(Expr::col(Alias::new("status")).eq("ACTIVE"))
            .to_owned();
        let written = literal_paging(statement(&page), 26, 9975).expect("both marks are there");
        assert_eq!(
            written.sql,
            r#"SELECT "id" FROM "contact" WHERE "id" IN (SELECT "id" FROM "contact" WHERE "customer_id" = $1 LIMIT 26 OFFSET 9975) AND "status" = $2"#
        );
        assert_eq!(
            written.values.expect("two parameters are left").0,
            vec![Value::from("c-1"), Value::from("ACTIVE")]
        );
    }

    #[test]
    fn a_first_page_has_only_its_limit_and_may_have_no_parameter_left() {
        let page = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("contact"))
            .limit(LIMIT_MARK)
            .to_owned();
        let written = literal_paging(statement(&page), 11, 0).expect("the limit mark is there");
        assert_eq!(written.sql, r#"SELECT "id" FROM "contact" LIMIT 11"#);
        assert!(written.values.is_none());
    }

    #[test]
    fn a_statement_without_its_marks_is_refused_rather_than_run() {
        let page = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("contact"))
            .limit(25)
            .to_owned();
        assert!(literal_paging(statement(&page), 26, 0).is_err());
    }
}
