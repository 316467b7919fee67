//! Sorting lists (API.md "Paging": `orderBy`). One definition of each sort key serves the
//! three places that sort: root lists in SQL (`ORDER BY`), nested lists in memory (they are
//! loaded whole for all their parents in one statement, then sorted per parent), and keyset
//! positions for cursor connections (`WHERE (key, id) > (…)`). So the three agree, on both
//! backends:
//!
//! - `NAME` is the stored `sort_name` column: Unicode lowercase of the name (display name for
//!   contacts), computed by Kith on every write ([`sort_name`]), compared by code point
//!   (`COLLATE "C"` on PostgreSQL, SQLite's `BINARY`, Rust's `str` order);
//! - `NUMBER` is the number, a row without one as the empty string, by code point;
//! - `CREATED_AT`, `UPDATED_AT` are the timestamps;
//! - ties are broken by `id` in the direction of the last key (ascending with no keys), so no
//!   two rows are ever equal, and every sort has an index ending in `id` (migration
//!   `m20261126_000005_sort_keys`).
//!
//! The GraphQL inputs (`CustomerOrder`...) are in [`graphql`].

use std::cmp::Ordering as CmpOrdering;

use chrono::{DateTime, Utc};
use entity::{account, contact, customer};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{Condition, DbBackend, EntityTrait, Order, QueryOrder, Select};
use uuid::Uuid;

use crate::error::AppError;

pub mod graphql;

/// Keys one `orderBy` may hold: each field at most once.
pub const MAX_SORT_KEYS: usize = 4;

/// What a list can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortField {
    /// The name, case-insensitively (display name for contacts).
    Name,
    /// The customer, account or contact number.
    Number,
    /// Creation time.
    CreatedAt,
    /// Time of the last change.
    UpdatedAt,
}

impl SortField {
    /// The GraphQL spelling, for messages.
    pub fn as_graphql(self) -> &'static str {
        match self {
            SortField::Name => "NAME",
            SortField::Number => "NUMBER",
            SortField::CreatedAt => "CREATED_AT",
            SortField::UpdatedAt => "UPDATED_AT",
        }
    }

    /// Whether this key's values are timestamps (else text).
    fn is_time(self) -> bool {
        matches!(self, SortField::CreatedAt | SortField::UpdatedAt)
    }
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl Direction {
    fn flipped(self) -> Direction {
        match self {
            Direction::Asc => Direction::Desc,
            Direction::Desc => Direction::Asc,
        }
    }

    fn order(self) -> Order {
        match self {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        }
    }

    fn apply(self, ordering: CmpOrdering) -> CmpOrdering {
        match self {
            Direction::Asc => ordering,
            Direction::Desc => ordering.reverse(),
        }
    }
}

/// One key of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// What to sort by.
    pub field: SortField,
    /// Which way.
    pub direction: Direction,
}

/// The order of a list: at most [`MAX_SORT_KEYS`] distinct keys, then `id` in the direction
/// of the last key. The default (no keys) is by id, ascending: creation order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ordering {
    keys: Vec<SortKey>,
    /// The direction `id` breaks ties in: the last key's (kept apart so that the default
    /// order, which has no keys, can be reversed too).
    tie: Direction,
}

impl Default for Ordering {
    fn default() -> Ordering {
        Ordering {
            keys: Vec::new(),
            tie: Direction::Asc,
        }
    }
}

impl Ordering {
    /// Check `keys`: a field named twice, or too many keys, is the client's mistake.
    pub fn new(keys: Vec<SortKey>) -> Result<Ordering, AppError> {
        if keys.len() > MAX_SORT_KEYS {
            return Err(AppError::BadUserInput(format!(
                "`orderBy` takes at most {MAX_SORT_KEYS} keys"
            )));
        }
        for (index, key) in keys.iter().enumerate() {
            if keys[..index]
                .iter()
                .any(|earlier| earlier.field == key.field)
            {
                return Err(AppError::BadUserInput(format!(
                    "`orderBy` names {} twice",
                    key.field.as_graphql()
                )));
            }
        }
        let tie = keys.last().map_or(Direction::Asc, |key| key.direction);
        Ok(Ordering { keys, tie })
    }

    /// The keys before the tie-breaker.
    pub fn keys(&self) -> &[SortKey] {
        &self.keys
    }

    /// Whether this is the default order (by id, ascending), which lists already have.
    pub fn is_default(&self) -> bool {
        self.keys.is_empty() && self.tie == Direction::Asc
    }

    /// The direction `id` breaks ties in.
    fn tie_direction(&self) -> Direction {
        self.tie
    }

    /// The same order backwards: the rows of a `last` page are read in it.
    pub fn reversed(&self) -> Ordering {
        Ordering {
            keys: self
                .keys
                .iter()
                .map(|key| SortKey {
                    field: key.field,
                    direction: key.direction.flipped(),
                })
                .collect(),
            tie: self.tie.flipped(),
        }
    }

    /// `select` ordered by these keys and the tie-breaker.
    pub fn apply<S: Sortable>(
        &self,
        backend: DbBackend,
        mut select: Select<S::Entity>,
    ) -> Select<S::Entity> {
        for key in &self.keys {
            select = select.order_by(S::expr(backend, key.field), key.direction.order());
        }
        select.order_by(S::id_expr(), self.tie_direction().order())
    }

    /// Compare two rows in this order (nested lists, sorted in memory).
    pub fn compare<S: Sortable>(&self, a: &S, b: &S) -> CmpOrdering {
        for key in &self.keys {
            let ordering = match key.field {
                SortField::Name => a.sort_name().cmp(b.sort_name()),
                SortField::Number => a.number().unwrap_or("").cmp(b.number().unwrap_or("")),
                SortField::CreatedAt => a.created_at().cmp(&b.created_at()),
                SortField::UpdatedAt => a.updated_at().cmp(&b.updated_at()),
            };
            let ordering = key.direction.apply(ordering);
            if ordering != CmpOrdering::Equal {
                return ordering;
            }
        }
        self.tie_direction().apply(a.id().cmp(&b.id()))
    }

    /// Sort `rows` in this order; the default order leaves them as loaded (by id).
    pub fn sort<S: Sortable>(&self, rows: &mut [S]) {
        if !self.is_default() {
            rows.sort_unstable_by(|a, b| self.compare(a, b));
        }
    }

    /// A nested list as a loader gave it (`None`: no rows), in this order.
    pub fn sorted<S: Sortable>(&self, rows: Option<Vec<S>>) -> Vec<S> {
        let mut rows = rows.unwrap_or_default();
        self.sort(&mut rows);
        rows
    }

    /// The position of `row` in this order: a cursor's content.
    pub fn position_of<S: Sortable>(&self, row: &S) -> Position {
        Position {
            values: self
                .keys
                .iter()
                .map(|key| match key.field {
                    SortField::Name => SortValue::Text(row.sort_name().to_owned()),
                    SortField::Number => SortValue::Text(row.number().unwrap_or("").to_owned()),
                    SortField::CreatedAt => SortValue::Time(row.created_at()),
                    SortField::UpdatedAt => SortValue::Time(row.updated_at()),
                })
                .collect(),
            id: row.id(),
        }
    }

    /// Rows strictly after `position` in this order (`Side::After`), or strictly before it.
    /// When every key runs one way, a row-value comparison `(k1, k2, id) > ($1, $2, $3)`,
    /// which both backends answer from the index on `(k1, k2, id)`; else the expanded
    /// `k1 > $1 OR (k1 = $1 AND (k2 < $2 OR …))`.
    pub fn beyond<S: Sortable>(
        &self,
        backend: DbBackend,
        position: &Position,
        side: Side,
    ) -> Condition {
        let mut terms: Vec<(Expr, Expr, Direction)> = self
            .keys
            .iter()
            .zip(&position.values)
            .map(|(key, value)| (S::expr(backend, key.field), value.to_expr(), key.direction))
            .collect();
        terms.push((S::id_expr(), Expr::val(position.id), self.tie_direction()));
        let ascending_beyond = |direction: Direction| match (side, direction) {
            (Side::After, Direction::Asc) | (Side::Before, Direction::Desc) => true,
            (Side::After, Direction::Desc) | (Side::Before, Direction::Asc) => false,
        };
        let first = terms[0].2;
        if terms.iter().all(|(_, _, direction)| *direction == first) {
            let (columns, values): (Vec<Expr>, Vec<Expr>) = terms
                .into_iter()
                .map(|(column, value, _)| (column, value))
                .unzip();
            let (columns, values) = (Expr::tuple(columns), Expr::tuple(values));
            let comparison = if ascending_beyond(first) {
                columns.gt(values)
            } else {
                columns.lt(values)
            };
            return Condition::all().add(comparison);
        }
        let mut any = Condition::any();
        for index in 0..terms.len() {
            let mut all = Condition::all();
            for (column, value, _) in &terms[..index] {
                all = all.add(column.clone().eq(value.clone()));
            }
            let (column, value, direction) = &terms[index];
            all = all.add(if ascending_beyond(*direction) {
                column.clone().gt(value.clone())
            } else {
                column.clone().lt(value.clone())
            });
            any = any.add(all);
        }
        any
    }

    /// What a cursor in this order holds, checked: as many values as keys, each of its kind.
    pub fn position(&self, values: Vec<SortValue>, id: Uuid) -> Option<Position> {
        let fits = values.len() == self.keys.len()
            && self
                .keys
                .iter()
                .zip(&values)
                .all(|(key, value)| key.field.is_time() == matches!(value, SortValue::Time(_)));
        fits.then_some(Position { values, id })
    }

    /// Whether key `index` holds timestamps (for decoding a cursor).
    pub fn is_time(&self, index: usize) -> bool {
        self.keys.get(index).is_some_and(|key| key.field.is_time())
    }
}

/// Which side of a position [`Ordering::beyond`] selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Rows that come later in the order.
    After,
    /// Rows that come earlier.
    Before,
}

/// One sort key's value in a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    /// `NAME` (the stored `sort_name`) or `NUMBER` (empty when there is none).
    Text(String),
    /// `CREATED_AT` or `UPDATED_AT`.
    Time(DateTime<Utc>),
}

impl SortValue {
    fn to_expr(&self) -> Expr {
        match self {
            SortValue::Text(text) => Expr::val(text.clone()),
            SortValue::Time(time) => Expr::val(*time),
        }
    }
}

/// A row's place in an order: its sort keys' values and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// One value per key of the order.
    pub values: Vec<SortValue>,
    /// The row's id, the tie-breaker.
    pub id: Uuid,
}

/// The name as sorted: Unicode lowercase. Every write of a name stores it in `sort_name`.
pub fn sort_name(name: &str) -> String {
    name.to_lowercase()
}

/// A row of a sortable table: its sort keys, in memory and in SQL.
pub trait Sortable {
    /// The table.
    type Entity: EntityTrait;
    /// Its number column (`customer_number`...).
    const NUMBER: &'static str;

    /// The primary key.
    fn id(&self) -> Uuid;
    /// The stored key of `NAME`.
    fn sort_name(&self) -> &str;
    /// The number, if any.
    fn number(&self) -> Option<&str>;
    /// Creation time.
    fn created_at(&self) -> DateTime<Utc>;
    /// Time of the last change.
    fn updated_at(&self) -> DateTime<Utc>;

    /// The table's `id` column.
    fn id_expr() -> Expr;
    /// A column by name, qualified by its table.
    fn column(name: &'static str) -> Expr;

    /// The SQL a key sorts by: exactly the expression its index holds, so the planner
    /// matches them (a bound `''` in `COALESCE` would not match the index's literal).
    fn expr(backend: DbBackend, field: SortField) -> Expr {
        match field {
            SortField::Name => Self::column("sort_name"),
            SortField::Number => match backend {
                DbBackend::Postgres => Expr::cust_with_exprs(
                    "(COALESCE($1, '') COLLATE \"C\")",
                    [Self::column(Self::NUMBER)],
                ),
                _ => Expr::cust_with_exprs("COALESCE(?, '')", [Self::column(Self::NUMBER)]),
            },
            SortField::CreatedAt => Self::column("created_at"),
            SortField::UpdatedAt => Self::column("updated_at"),
        }
    }
}

macro_rules! sortable {
    ($module:ident, $table:literal, $number:ident) => {
        impl Sortable for $module::Model {
            type Entity = $module::Entity;
            const NUMBER: &'static str = stringify!($number);

            fn id(&self) -> Uuid {
                self.id
            }
            fn sort_name(&self) -> &str {
                &self.sort_name
            }
            fn number(&self) -> Option<&str> {
                self.$number.as_deref()
            }
            fn created_at(&self) -> DateTime<Utc> {
                self.created_at
            }
            fn updated_at(&self) -> DateTime<Utc> {
                self.updated_at
            }
            fn id_expr() -> Expr {
                Self::column("id")
            }
            fn column(name: &'static str) -> Expr {
                Expr::col(($table, name))
            }
        }
    };
}

sortable!(customer, "customer", customer_number);
sortable!(account, "account", account_number);
sortable!(contact, "contact", contact_number);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: SortField, direction: Direction) -> SortKey {
        SortKey { field, direction }
    }

    #[test]
    fn an_order_names_each_field_once_and_at_most_four_keys() {
        let name = key(SortField::Name, Direction::Asc);
        assert!(Ordering::new(vec![name, key(SortField::Name, Direction::Desc)]).is_err());
        assert!(Ordering::new(vec![name; 5]).is_err());
        let all = [
            SortField::Name,
            SortField::Number,
            SortField::CreatedAt,
            SortField::UpdatedAt,
        ]
        .map(|field| key(field, Direction::Desc));
        let ordering = Ordering::new(all.to_vec()).expect("four distinct keys");
        assert_eq!(ordering.tie_direction(), Direction::Desc);
        assert_eq!(ordering.reversed().tie_direction(), Direction::Asc);
    }
}
