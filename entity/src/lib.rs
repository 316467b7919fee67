//! SeaORM models of Kith's tables, and nothing else.
//!
//! These are rows, not API types: the GraphQL layer maps them into its own objects so that a
//! column change never silently changes the public schema.

/// `Model::ALL_COLUMNS` and `Model::from_columns`: decode a row that holds some of the
/// table's columns, in a given order, by index. Reads that need a few columns select only
/// those (the others keep their default values), and decoding by index skips the name lookup
/// and the name SeaORM formats for every value. Every column must be listed: the `match` is
/// exhaustive.
macro_rules! from_columns {
    ($($variant:ident => $field:ident),+ $(,)?) => {
        impl Model {
            /// Every column, in declaration order.
            pub const ALL_COLUMNS: &'static [Column] = &[$(Column::$variant),+];

            /// The row `row`, whose values are `columns` in that order; fields of columns not
            /// read keep their default values.
            pub fn from_columns(
                row: &sea_orm::QueryResult,
                columns: &[Column],
            ) -> Result<Model, sea_orm::DbErr> {
                let mut model = Model::default();
                for (index, column) in columns.iter().enumerate() {
                    match column {
                        $(Column::$variant => model.$field = row.try_get_by_index(index)?,)+
                    }
                }
                Ok(model)
            }
        }

        impl $crate::FromColumns for Model {
            type Column = Column;

            fn from_columns(
                row: &sea_orm::QueryResult,
                columns: &[Column],
            ) -> Result<Model, sea_orm::DbErr> {
                Model::from_columns(row, columns)
            }
        }
    };
}

/// A row type that can be decoded from some of its table's columns (see `from_columns!`),
/// for code generic over the table.
pub trait FromColumns: Sized {
    /// The table's column type.
    type Column: Copy;

    /// The row, whose values are `columns` in that order; the others keep their defaults.
    fn from_columns(
        row: &sea_orm::QueryResult,
        columns: &[Self::Column],
    ) -> Result<Self, sea_orm::DbErr>;
}

pub mod account;
pub mod address;
pub mod change_party;
pub mod change_record;
pub mod contact;
pub mod contact_address;
pub mod contact_point;
pub mod customer;
pub mod shared_contact_link;
