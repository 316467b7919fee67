//! On PostgreSQL, root objects with nested lists written by PostgreSQL itself: one statement
//! per root field instead of one per relation, and no row decoded in Kith.
//!
//! A plan of `Customer`, `Account` or `Contact` becomes one `SELECT` over its root rows
//! (already read for a page, read here for a field by id), each list a `LEFT JOIN LATERAL` of an aggregate over the child table: the
//! same scope conditions as the relation's service function, the child's columns only, and
//! every object written as compact JSON text (`to_json` escapes strings as Kith's writer
//! does) in selection order, items ordered by id as the other paths order them. Correlated
//! lateral reads cost PostgreSQL less than the six statements of a nested customer, and far
//! less than materialised CTEs with hash joins (BENCHMARKS.md, issue 11).
//!
//! Each row also counts the rows under it, plus [`INVALID`] for a row whose stored enum Kith
//! did not write, and every list reads at most the rows the budget has left plus one. When
//! the total crosses the budget (or a row is not Kith's), PostgreSQL sends no JSON and the
//! plan is read relation by relation instead, which fails or falls back exactly as before:
//! this path never answers differently. Fields this module cannot write in SQL (masked
//! values, floats) leave the plan to that path too.

use std::fmt::Write as _;

use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, JoinType, Query, SelectStatement, UnionType,
};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::context::{Fallback, ReadContext};
use super::objects::{
    AccountField, AddressField, ContactField, ContactPointField, CustomerField, Plan, RootObject,
    Written,
};
use crate::account::input::AccountStatus;
use crate::address::input::AddressType;
use crate::auth::Scope;
use crate::contact::input::{ContactRole, ContactStatus, ContactSubtype};
use crate::contact_point::input::ContactPointKind;

/// What a row whose stored enum Kith did not write adds to the count: more than any budget,
/// so that the plan goes to the path that reports it.
const INVALID: i64 = 1_000_000_000;

/// The most root rows written this way. Each list costs PostgreSQL a lateral read per
/// parent row and a function call per value, where reading by relation costs one statement
/// per relation: this way is 1.6–1.8× on a nested customer, and 0.8× on 100 contacts with
/// their contact points (`bench/compare/ab.sh`, BENCHMARKS.md).
const MAX_ROOTS: usize = 10;

/// A list's JSON from its rows' (`{json}`, of the row aliased `{t}`), in id order.
const LIST_JSON: &str = "'[' || string_agg({json}, ',' ORDER BY {t}.id) || ']'";

/// A plan PostgreSQL can write.
pub trait SqlObject {
    /// The table of the plan's rows.
    const TABLE: &'static str;

    /// Whether the plan selects a list (otherwise its rows are complete as read).
    fn has_lists(&self) -> bool;

    /// The plan's part of the statement for a row aliased `t`; `None` when a field cannot be
    /// written in SQL.
    fn row(&self, b: &mut Builder<'_>, t: &str) -> Option<Row>;
}

/// Read what `plan` selects under `rows` (root rows already read in the caller's scope):
/// written whole by PostgreSQL where [`write_roots`] can, relation by relation otherwise.
pub async fn load<P: RootObject + SqlObject>(
    plan: &mut P,
    cx: &ReadContext<'_>,
    rows: &[&P::Row],
) -> Result<(), Fallback> {
    let mut ids: Vec<Uuid> = rows.iter().map(|row| P::id(row)).collect();
    ids.sort_unstable();
    ids.dedup();
    match write_roots(plan, cx, ids, None).await? {
        Some(written) => {
            plan.keep_written(written);
            Ok(())
        }
        None => plan.load(cx, rows).await,
    }
}

/// Read the root row `id` of a field by id, in the caller's scope (`visible`), and write it
/// with one statement: `Some` of what was found (nothing, or the row's JSON), `None` when
/// this path does not apply. Rows of `Customer` and `Account` count against the budget, as
/// their reads by id do (`charged`).
pub async fn by_id<P: SqlObject>(
    plan: &P,
    cx: &ReadContext<'_>,
    id: Uuid,
    visible: Condition,
    charged: bool,
) -> Result<Option<Option<String>>, Fallback> {
    let written = write_roots(plan, cx, vec![id], Some((visible, charged))).await?;
    Ok(written.map(|mut written| written.remove(&id)))
}

/// Write the objects of `ids` with one statement: rows of `P::TABLE` already read in the
/// caller's scope or, with `root`, read here too (only those `root.0` lets the caller see,
/// each counted against the budget if `root.1`). `Ok(None)`: this path does not apply, or
/// the rows under them would cross the budget or are not Kith's; read the plan relation by
/// relation instead.
async fn write_roots<P: SqlObject>(
    plan: &P,
    cx: &ReadContext<'_>,
    ids: Vec<Uuid>,
    root: Option<(Condition, bool)>,
) -> Result<Option<Written>, Fallback> {
    if !cx.postgres_json || ids.is_empty() || ids.len() > MAX_ROOTS || !plan.has_lists() {
        return Ok(None);
    }
    let remaining = cx.rows.limit().saturating_sub(1);
    let mut b = Builder {
        scope: cx.scope,
        unmask: cx.unmask,
        cap: remaining.saturating_add(1),
        aliases: 0,
    };
    let t = b.alias("t");
    let Some(row) = plan.row(&mut b, &t) else {
        return Ok(None);
    };
    let mut base = Query::select();
    let id = Expr::col((Alias::new(P::TABLE), Alias::new("id")));
    // The statement must be planned once per connection: planning it takes PostgreSQL
    // longer than running it (5 ms against 1.4 ms for a nested customer). PostgreSQL keeps
    // its generic plan only when that costs no more than a plan for the actual values, and
    // it guesses 10 elements for an array parameter, more than 1: so the ids go as a list of
    // parameters, estimated exactly either way.
    base.from(Alias::new(P::TABLE)).and_where(id.is_in(ids));
    let mut charge_roots = false;
    if let Some((visible, charged)) = root {
        base.cond_where(visible);
        charge_roots = charged;
    }
    row.select_columns(&mut base, P::TABLE);
    let count = format!("({} + {})::bigint", i32::from(charge_roots), row.count);
    let mut select = Query::select();
    select
        .column((Alias::new(&t), Alias::new("id")))
        .expr_as(Expr::cust(count.clone()), Alias::new("n"))
        .expr_as(
            // Nothing is sent for rows past the budget: the plan is read again instead.
            Expr::cust_with_exprs(
                format!("CASE WHEN sum({count}) OVER () <= $1 THEN {} END", row.json),
                [Expr::val(i64::try_from(remaining).unwrap_or(i64::MAX))],
            ),
            Alias::new("j"),
        )
        .from_subquery(base, Alias::new(&t));
    row.join_lists(&mut select);

    let rows = cx
        .db
        .query_all(&select)
        .await
        .map_err(crate::error::AppError::from)?;
    let mut written = Written::with_capacity_and_hasher(rows.len(), Default::default());
    let mut total: u64 = 0;
    for result in &rows {
        let decoded: Result<(Uuid, i64, Option<String>), DbErr> = (|| {
            Ok((
                result.try_get_by_index(0)?,
                result.try_get_by_index(1)?,
                result.try_get_by_index(2)?,
            ))
        })();
        let (id, count, json) = decoded.map_err(crate::error::AppError::from)?;
        let Some(json) = json else {
            return Ok(None);
        };
        total = total.saturating_add(u64::try_from(count).unwrap_or(u64::MAX));
        written.insert(id, json);
    }
    if total > remaining {
        return Ok(None);
    }
    crate::metrics::record_loader_batch("PostgresJson", rows.len(), total as usize);
    cx.rows.charge(total as usize)?;
    Ok(Some(written))
}

/// Builds one statement: aliases, and what every list may read.
pub struct Builder<'c> {
    scope: &'c Scope,
    unmask: bool,
    /// The `LIMIT` of every list: the rows the budget has left, plus one.
    cap: u64,
    aliases: usize,
}

impl Builder<'_> {
    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    /// A list of `child` rows read by `base` (the child's table, correlated with its parent
    /// and scoped; its columns are added here), as a lateral join whose `n` counts the rows
    /// and `j` is the JSON array, ordered by `t.id`.
    fn list(
        &mut self,
        mut base: SelectStatement,
        table: &'static str,
        t: &str,
        child: Row,
    ) -> List {
        child.select_columns(&mut base, table);
        base.limit(self.cap);
        self.aggregate(base, t, child, LIST_JSON)
    }

    /// The lateral join of `base` aliased `t`, aggregated by `json_of` (`{json}` and `{t}` in
    /// it name the row's JSON and alias).
    fn aggregate(&mut self, base: SelectStatement, t: &str, child: Row, json_of: &str) -> List {
        let alias = self.alias("r");
        let mut select = Query::select();
        select
            .expr_as(
                Expr::cust(format!("sum(1 + {})::bigint", child.count)),
                Alias::new("n"),
            )
            .expr_as(
                Expr::cust(json_of.replace("{json}", &child.json).replace("{t}", t)),
                Alias::new("j"),
            )
            .from_subquery(base, Alias::new(t));
        child.join_lists(&mut select);
        List { select, alias }
    }

    /// The contacts of the account aliased `p`, or `None` when SQL cannot write `plan`.
    fn contacts_of_accounts(&mut self, plan: &Plan<ContactField>, p: &str) -> Option<List> {
        let t = self.alias("t");
        let row = plan.row(self, &t)?;
        let mut base = Query::select();
        base.from(Alias::new("contact"))
            .and_where(parent_is(("contact", "account_id"), p))
            .cond_where(self.scope.contact_condition());
        Some(self.list(base, "contact", &t, row))
    }

    /// The direct and linked shared contacts of the customer aliased `p` (as
    /// `contact::service::of_customers` reads them).
    fn contacts_of_customers(&mut self, plan: &Plan<ContactField>, p: &str) -> Option<List> {
        let t = self.alias("t");
        let row = plan.row(self, &t)?;
        let mut direct = Query::select();
        direct
            .from(Alias::new("contact"))
            .and_where(parent_is(("contact", "customer_id"), p))
            .and_where(Expr::col((Alias::new("contact"), Alias::new("account_id"))).is_null())
            .cond_where(self.scope.contact_condition());
        row.select_columns(&mut direct, "contact");
        let mut shared = Query::select();
        shared
            .from(Alias::new("contact"))
            .inner_join(
                Alias::new("shared_contact_link"),
                Expr::col((Alias::new("shared_contact_link"), Alias::new("contact_id")))
                    .equals((Alias::new("contact"), Alias::new("id"))),
            )
            .and_where(parent_is(("shared_contact_link", "customer_id"), p))
            .cond_where(self.scope.contact_condition());
        row.select_columns(&mut shared, "contact");
        direct.union(UnionType::All, shared).limit(self.cap);
        Some(self.aggregate(direct, &t, row, LIST_JSON))
    }

    /// The accounts of the customer aliased `p`.
    fn accounts_of_customers(&mut self, plan: &Plan<AccountField>, p: &str) -> Option<List> {
        let t = self.alias("t");
        let row = plan.row(self, &t)?;
        let mut base = Query::select();
        base.from(Alias::new("account"))
            .and_where(parent_is(("account", "customer_id"), p))
            .cond_where(self.scope.account_condition());
        Some(self.list(base, "account", &t, row))
    }

    /// The contact points of the contact aliased `p`.
    fn contact_points(&mut self, plan: &Plan<ContactPointField>, p: &str) -> Option<List> {
        let t = self.alias("t");
        let row = plan.row(self, &t)?;
        let mut base = Query::select();
        base.from(Alias::new("contact_point"))
            .and_where(parent_is(("contact_point", "contact_id"), p))
            .cond_where(self.scope.contact_child_condition(Expr::col((
                Alias::new("contact_point"),
                Alias::new("contact_id"),
            ))));
        Some(self.list(base, "contact_point", &t, row))
    }

    /// The addresses attached to the contact `p`: all of them as a list, or (`primary`) the
    /// first primary one or `null`. Both count every attached address, as the reads by
    /// relation do.
    fn addresses(&mut self, plan: &Plan<AddressField>, p: &str, primary: bool) -> Option<List> {
        let t = self.alias("t");
        let row = plan.row(self, &t)?;
        let mut base = Query::select();
        base.from(Alias::new("address"))
            .inner_join(
                Alias::new("contact_address"),
                Expr::col((Alias::new("contact_address"), Alias::new("address_id")))
                    .equals((Alias::new("address"), Alias::new("id"))),
            )
            .column((Alias::new("contact_address"), Alias::new("is_primary")))
            .and_where(parent_is(("contact_address", "contact_id"), p))
            .cond_where(self.scope.contact_child_condition(Expr::col((
                Alias::new("contact_address"),
                Alias::new("contact_id"),
            ))));
        let mut row = row;
        row.columns.retain(|column| *column != "is_primary");
        if primary {
            row.select_columns(&mut base, "address");
            base.limit(self.cap);
            Some(self.aggregate(
                base,
                &t,
                row,
                "(array_agg({json} ORDER BY {t}.id) FILTER (WHERE {t}.is_primary))[1]",
            ))
        } else {
            Some(self.list(base, "address", &t, row))
        }
    }
}

/// `table.column = p.id`: a child row of the parent row aliased `p`.
fn parent_is((table, column): (&'static str, &'static str), p: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column))).equals((Alias::new(p), Alias::new("id")))
}

/// A list joined to its parent's rows.
struct List {
    select: SelectStatement,
    alias: String,
}

/// One object type's part of the statement, for a row aliased `t`.
pub struct Row {
    /// The columns of its table the fields read (`id` always).
    columns: Vec<&'static str>,
    /// The SQL text of the row's JSON.
    json: String,
    /// The SQL text of what the row adds to the count besides itself: the rows of its lists,
    /// and [`INVALID`] if it is not Kith's.
    count: String,
    /// Its lists.
    lists: Vec<List>,
}

impl Row {
    fn select_columns(&self, select: &mut SelectStatement, table: &'static str) {
        for column in &self.columns {
            select.column((Alias::new(table), Alias::new(*column)));
        }
    }

    fn join_lists(self, select: &mut SelectStatement) {
        for list in self.lists {
            select.join_lateral(
                JoinType::LeftJoin,
                list.select,
                Alias::new(&list.alias),
                Expr::cust("TRUE"),
            );
        }
    }
}

/// Writes one object: `{"key":value,...}` in selection order, as SQL text.
struct ObjectText<'t> {
    t: &'t str,
    row: Row,
    /// The SQL texts of the JSON's pieces so far.
    pieces: Vec<String>,
    /// Literal text not yet closed into a SQL string.
    pending: String,
    first: bool,
}

impl<'t> ObjectText<'t> {
    fn new(t: &'t str) -> ObjectText<'t> {
        ObjectText {
            t,
            row: Row {
                columns: vec!["id"],
                json: String::new(),
                count: "0".to_owned(),
                lists: Vec::new(),
            },
            pieces: Vec::new(),
            pending: "{".to_owned(),
            first: true,
        }
    }

    /// The next field's key (rendered with its quotes and colon).
    fn key(&mut self, key: &[u8]) {
        if !self.first {
            self.pending.push(',');
        }
        self.first = false;
        self.pending.push_str(&String::from_utf8_lossy(key));
    }

    /// A value written by SQL text.
    fn sql(&mut self, value: &str) {
        self.flush();
        self.pieces.push(value.to_owned());
    }

    /// A constant JSON value.
    fn literal(&mut self, json: &str) {
        self.pending.push_str(json);
    }

    fn column(&mut self, column: &'static str) -> String {
        if !self.row.columns.contains(&column) {
            self.row.columns.push(column);
        }
        format!("{}.{column}", self.t)
    }

    /// A string column that is never null. `to_json` escapes as serde_json does: `\"`, `\\`,
    /// `\b\f\n\r\t`, other control characters as `\u00XX`, nothing else.
    fn value(&mut self, column: &'static str) {
        let column = self.column(column);
        self.sql(&format!("to_json({column})::text"));
    }

    /// A UUID column that is never null: its text needs no escaping, and a cast costs
    /// PostgreSQL less than `to_json`.
    fn uuid(&mut self, column: &'static str) {
        let column = self.column(column);
        self.literal("\"");
        self.sql(&format!("{column}::text"));
        self.literal("\"");
    }

    /// A column holding one of Kith's enum spellings (`[A-Z_]+`, checked by [`Self::check`]:
    /// a row holding anything else is never sent), which need no escaping.
    fn enumeration(&mut self, column: &'static str) {
        let column = self.column(column);
        self.literal("\"");
        self.sql(&column);
        self.literal("\"");
    }

    /// A UUID column that may be null.
    fn opt_uuid(&mut self, column: &'static str) {
        let column = self.column(column);
        self.sql(&format!("COALESCE('\"' || {column}::text || '\"', 'null')"));
    }

    /// A boolean column that is never null.
    fn boolean(&mut self, column: &'static str) {
        let column = self.column(column);
        self.sql(&format!("CASE WHEN {column} THEN 'true' ELSE 'false' END"));
    }

    /// An integer column that is never null.
    fn int(&mut self, column: &'static str) {
        let column = self.column(column);
        self.sql(&format!("{column}::text"));
    }

    /// A column that may be null.
    fn nullable(&mut self, column: &'static str) {
        let column = self.column(column);
        self.sql(&format!("COALESCE(to_json({column})::text, 'null')"));
    }

    /// A `DateTime` as Kith writes it (`to_rfc3339` with 0, 3 or 6 digits of fraction).
    fn date_time(&mut self, column: &'static str) {
        let c = self.column(column);
        self.sql(&format!(
            "('\"' || to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || \
             CASE WHEN extract(microseconds FROM {c})::bigint % 1000000 = 0 THEN '' \
             WHEN extract(microseconds FROM {c})::bigint % 1000 = 0 \
             THEN '.' || lpad(((extract(microseconds FROM {c})::bigint % 1000000) / 1000)::text, 3, '0') \
             ELSE '.' || lpad((extract(microseconds FROM {c})::bigint % 1000000)::text, 6, '0') END \
             || '+00:00\"')"
        ));
    }

    /// A column whose stored values must be among `values` (Kith's spellings of an enum).
    fn check(&mut self, column: &'static str, values: &[&str]) {
        let column = self.column(column);
        let list: Vec<String> = values.iter().map(|value| quote(value)).collect();
        let _ = write!(
            self.row.count,
            " + CASE WHEN {column} IN ({}) THEN 0 ELSE {INVALID} END",
            list.join(", ")
        );
    }

    /// A list joined to this row: its JSON, or `empty` when it read nothing.
    fn list(&mut self, list: List, empty: &str) {
        self.sql(&format!("COALESCE({}.j, {})", list.alias, quote(empty)));
        let _ = write!(self.row.count, " + COALESCE({}.n, 0)", list.alias);
        self.row.lists.push(list);
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            self.pieces.push(quote(&std::mem::take(&mut self.pending)));
        }
    }

    /// The row, its JSON one `concat` of the pieces: `a || b || c` would copy the text
    /// written so far at every step.
    fn finish(mut self) -> Row {
        self.pending.push('}');
        self.flush();
        self.row.json = format!("concat({})", self.pieces.join(", "));
        self.row
    }
}

/// A SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl SqlObject for Plan<CustomerField> {
    const TABLE: &'static str = "customer";

    fn has_lists(&self) -> bool {
        self.fields().iter().any(|(_, field)| {
            matches!(
                field,
                CustomerField::Accounts(_) | CustomerField::Contacts(_)
            )
        })
    }

    fn row(&self, b: &mut Builder<'_>, t: &str) -> Option<Row> {
        let mut o = ObjectText::new(t);
        for (key, field) in self.fields() {
            o.key(key);
            match field {
                CustomerField::Typename => o.literal("\"Customer\""),
                CustomerField::Id => o.uuid("id"),
                CustomerField::Name => o.value("name"),
                CustomerField::CustomerNumber => o.nullable("customer_number"),
                CustomerField::TaxId if b.unmask => o.nullable("tax_id"),
                CustomerField::TaxId => return None,
                CustomerField::DealerCode => o.nullable("dealer_code"),
                CustomerField::Accounts(children) => {
                    o.list(b.accounts_of_customers(children.plan(), t)?, "[]");
                }
                CustomerField::Contacts(children) => {
                    o.list(b.contacts_of_customers(children.plan(), t)?, "[]");
                }
                CustomerField::CreatedAt => o.date_time("created_at"),
                CustomerField::UpdatedAt => o.date_time("updated_at"),
                CustomerField::Version => o.int("version"),
            }
        }
        Some(o.finish())
    }
}

impl SqlObject for Plan<AccountField> {
    const TABLE: &'static str = "account";

    fn has_lists(&self) -> bool {
        self.fields()
            .iter()
            .any(|(_, field)| matches!(field, AccountField::Contacts(_)))
    }

    fn row(&self, b: &mut Builder<'_>, t: &str) -> Option<Row> {
        let mut o = ObjectText::new(t);
        o.check("status", AccountStatus::DB_VALUES);
        for (key, field) in self.fields() {
            o.key(key);
            match field {
                AccountField::Typename => o.literal("\"Account\""),
                AccountField::Id => o.uuid("id"),
                AccountField::Name => o.value("name"),
                AccountField::AccountNumber => o.nullable("account_number"),
                AccountField::Status => o.enumeration("status"),
                AccountField::CustomerId => o.uuid("customer_id"),
                AccountField::Contacts(children) => {
                    o.list(b.contacts_of_accounts(children.plan(), t)?, "[]");
                }
                AccountField::CreatedAt => o.date_time("created_at"),
                AccountField::UpdatedAt => o.date_time("updated_at"),
                AccountField::Version => o.int("version"),
            }
        }
        Some(o.finish())
    }
}

impl SqlObject for Plan<ContactField> {
    const TABLE: &'static str = "contact";

    fn has_lists(&self) -> bool {
        self.fields().iter().any(|(_, field)| {
            matches!(
                field,
                ContactField::ContactPoints(_)
                    | ContactField::Addresses(_)
                    | ContactField::PrimaryAddress(_)
            )
        })
    }

    fn row(&self, b: &mut Builder<'_>, t: &str) -> Option<Row> {
        let mut o = ObjectText::new(t);
        o.check("subtype", ContactSubtype::DB_VALUES);
        o.check("role", ContactRole::DB_VALUES);
        o.check("status", ContactStatus::DB_VALUES);
        for (key, field) in self.fields() {
            o.key(key);
            match field {
                ContactField::Typename => o.literal("\"Contact\""),
                ContactField::Id => o.uuid("id"),
                ContactField::Subtype => o.enumeration("subtype"),
                ContactField::Role => o.enumeration("role"),
                ContactField::Title => o.nullable("title"),
                ContactField::FirstName => o.nullable("first_name"),
                ContactField::LastName => o.nullable("last_name"),
                ContactField::CompanyName => o.nullable("company_name"),
                ContactField::Position => o.nullable("position"),
                ContactField::DisplayName => {
                    // `display_name`: a company's name, else the person's non-empty parts.
                    let [subtype, company, title, first, last] = [
                        "subtype",
                        "company_name",
                        "title",
                        "first_name",
                        "last_name",
                    ]
                    .map(|column| o.column(column));
                    let person = format!(
                        "concat_ws(' ', NULLIF({title}, ''), NULLIF({first}, ''), NULLIF({last}, ''))"
                    );
                    o.sql(&format!(
                        "to_json(CASE WHEN {subtype} = 'COMPANY' AND {company} IS NOT NULL \
                         THEN {company} WHEN {person} <> '' THEN {person} \
                         ELSE COALESCE({company}, '') END)::text"
                    ));
                }
                ContactField::EmailAddress => o.nullable("email_address"),
                ContactField::Website => o.nullable("website"),
                ContactField::TaxId if b.unmask => o.nullable("tax_id"),
                ContactField::TaxId => return None,
                ContactField::IsUsedForTax => o.boolean("is_used_for_tax"),
                ContactField::ContactNumber => o.nullable("contact_number"),
                ContactField::ContactType => o.nullable("contact_type"),
                ContactField::DealerCode => o.nullable("dealer_code"),
                ContactField::Status => o.enumeration("status"),
                ContactField::BankAccountDetails if b.unmask => o.nullable("bank_account_details"),
                ContactField::BankAccountDetails => return None,
                ContactField::HasAccountPassword => {
                    let hash = o.column("account_password_hash");
                    o.sql(&format!(
                        "CASE WHEN {hash} IS NULL THEN 'false' ELSE 'true' END"
                    ));
                }
                ContactField::IsShared => {
                    let customer = o.column("customer_id");
                    let account = o.column("account_id");
                    o.sql(&format!(
                        "CASE WHEN {customer} IS NULL AND {account} IS NULL THEN 'true' ELSE 'false' END"
                    ));
                }
                ContactField::CustomerId => o.opt_uuid("customer_id"),
                ContactField::AccountId => o.opt_uuid("account_id"),
                ContactField::ContactPoints(children) => {
                    o.list(b.contact_points(children.plan(), t)?, "[]");
                }
                ContactField::Addresses(children) => {
                    o.list(b.addresses(children.plan(), t, false)?, "[]");
                }
                ContactField::PrimaryAddress(children) => {
                    o.list(b.addresses(children.plan(), t, true)?, "null");
                }
                ContactField::CreatedAt => o.date_time("created_at"),
                ContactField::UpdatedAt => o.date_time("updated_at"),
                ContactField::Version => o.int("version"),
            }
        }
        Some(o.finish())
    }
}

impl Plan<ContactPointField> {
    fn row(&self, _: &mut Builder<'_>, t: &str) -> Option<Row> {
        let mut o = ObjectText::new(t);
        o.check("kind", ContactPointKind::DB_VALUES);
        for (key, field) in self.fields() {
            o.key(key);
            match field {
                ContactPointField::Typename => o.literal("\"ContactPoint\""),
                ContactPointField::Id => o.uuid("id"),
                ContactPointField::Kind => o.enumeration("kind"),
                ContactPointField::Value => o.nullable("value"),
                ContactPointField::CountryCode => o.nullable("country_code"),
                ContactPointField::AreaCode => o.nullable("area_code"),
                ContactPointField::Number => o.nullable("number"),
                ContactPointField::Formatted => {
                    // `formatted`: the value, or "+country area number" of the parts present.
                    let [value, country, area, number] =
                        ["value", "country_code", "area_code", "number"].map(|c| o.column(c));
                    o.sql(&format!(
                        "COALESCE(to_json(CASE WHEN {number} IS NULL THEN {value} \
                         ELSE concat_ws(' ', '+' || {country}, {area}, {number}) END)::text, 'null')"
                    ));
                }
                ContactPointField::IsPrimary => o.boolean("is_primary"),
                ContactPointField::CreatedAt => o.date_time("created_at"),
                ContactPointField::UpdatedAt => o.date_time("updated_at"),
                ContactPointField::Version => o.int("version"),
            }
        }
        Some(o.finish())
    }
}

impl Plan<AddressField> {
    fn row(&self, _: &mut Builder<'_>, t: &str) -> Option<Row> {
        let mut o = ObjectText::new(t);
        o.check("address_type", AddressType::DB_VALUES);
        for (key, field) in self.fields() {
            o.key(key);
            match field {
                AddressField::Typename => o.literal("\"Address\""),
                AddressField::Id => o.uuid("id"),
                AddressField::AddressType => o.enumeration("address_type"),
                AddressField::Line1 => o.value("line1"),
                AddressField::Line2 => o.nullable("line2"),
                AddressField::Line3 => o.nullable("line3"),
                AddressField::Line4 => o.nullable("line4"),
                AddressField::City => o.value("city"),
                AddressField::State => o.value("state_code"),
                AddressField::StateName => o.nullable("state_name"),
                AddressField::PostalCode => o.value("postal_code"),
                AddressField::Country => o.nullable("country"),
                // PostgreSQL and serde_json spell floats differently (`52` and `52.0`).
                AddressField::Latitude | AddressField::Longitude => return None,
                // Of the link, selected beside the address's columns.
                AddressField::IsPrimary => o.boolean("is_primary"),
                AddressField::CreatedAt => o.date_time("created_at"),
                AddressField::UpdatedAt => o.date_time("updated_at"),
                AddressField::Version => o.int("version"),
            }
        }
        Some(o.finish())
    }
}
