//! The GraphQL side of sorting: `orderBy: [CustomerOrder!]` (and `AccountOrder`,
//! `ContactOrder`), parsed into an [`Ordering`]. The three inputs have the same shape; each
//! list takes its own, so that a type can later gain a key the others lack. Masked fields
//! (`taxId`, bank details) have no `OrderField`: sorting by them would reveal them.

use async_graphql::{Enum, ErrorExtensions, InputObject};

use super::{Direction, Ordering, SortField, SortKey};

/// What a list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum OrderField {
    /// The name, ignoring case (a contact's display name).
    Name,
    /// The customer, account or contact number; rows without one come first in `ASC`.
    Number,
    /// When the object was created.
    CreatedAt,
    /// When the object last changed.
    UpdatedAt,
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl From<OrderField> for SortField {
    fn from(field: OrderField) -> SortField {
        match field {
            OrderField::Name => SortField::Name,
            OrderField::Number => SortField::Number,
            OrderField::CreatedAt => SortField::CreatedAt,
            OrderField::UpdatedAt => SortField::UpdatedAt,
        }
    }
}

impl From<OrderDirection> for Direction {
    fn from(direction: OrderDirection) -> Direction {
        match direction {
            OrderDirection::Asc => Direction::Asc,
            OrderDirection::Desc => Direction::Desc,
        }
    }
}

macro_rules! order_input {
    ($name:ident, $what:literal) => {
        #[doc = concat!("One key of the order of a list of ", $what, "; ties are broken by id, in the direction of the last key.")]
        #[derive(Clone, Copy, Debug, InputObject)]
        pub struct $name {
            /// What to sort by.
            pub field: OrderField,
            /// Which way.
            #[graphql(default_with = "OrderDirection::Asc")]
            pub direction: OrderDirection,
        }

        impl From<$name> for SortKey {
            fn from(key: $name) -> SortKey {
                SortKey {
                    field: key.field.into(),
                    direction: key.direction.into(),
                }
            }
        }
    };
}

order_input!(CustomerOrder, "customers");
order_input!(AccountOrder, "accounts");
order_input!(ContactOrder, "contacts");

/// Check an `orderBy` argument: absent or empty is the default order (by id).
pub fn ordering<K: Into<SortKey>>(
    order_by: Option<Vec<K>>,
) -> Result<Ordering, crate::error::AppError> {
    Ordering::new(
        order_by
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}

/// [`ordering`] for a resolver: the error carries its code.
pub fn parse_order_by<K: Into<SortKey>>(
    order_by: Option<Vec<K>>,
) -> async_graphql::Result<Ordering> {
    ordering(order_by).map_err(|error| error.extend())
}
