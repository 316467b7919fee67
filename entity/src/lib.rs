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
                        $(Column::$variant => {
                            model.$field = $crate::ColumnValue::get(row, index)?;
                        })+
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

/// A column value decoded by index from a row Kith's own select wrote.
///
/// On PostgreSQL the value is decoded without sqlx's per-value type check: the select names
/// the table's columns, whose types the migrations fix and whose Rust types the models fix,
/// so the check could only fail on a schema Kith did not write. It cost 5–6% of Kith's CPU on
/// a nested page (a `PgTypeInfo` cloned and compared against every type a `String` accepts,
/// for each of thousands of values). Other backends go through SeaORM as before.
pub trait ColumnValue: Sized {
    /// The value at `index` of `row`.
    fn get(row: &sea_orm::QueryResult, index: usize) -> Result<Self, sea_orm::DbErr>;
}

macro_rules! column_value {
    ($($type:ty),+ $(,)?) => {$(
        impl ColumnValue for $type {
            fn get(row: &sea_orm::QueryResult, index: usize) -> Result<Self, sea_orm::DbErr> {
                use sea_orm::sqlx::Row as _;
                match row.try_as_pg_row() {
                    Some(row) => row.try_get_unchecked::<$type, _>(index).map_err(|error| {
                        sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(error.into()))
                    }),
                    None => row.try_get_by_index(index),
                }
            }
        }
    )+};
}

column_value!(
    String,
    Option<String>,
    uuid::Uuid,
    Option<uuid::Uuid>,
    sea_orm::prelude::DateTimeUtc,
    i32,
    i64,
    bool,
    Option<f64>,
);

pub mod account;
pub mod address;
pub mod change_party;
pub mod change_record;
pub mod contact;
pub mod contact_address;
pub mod contact_point;
pub mod customer;
pub mod shared_contact_link;
