//! GraphQL enums that are stored as text columns.

/// Declare a GraphQL enum stored as its SCREAMING_CASE name, with `as_db` and `from_db`.
macro_rules! db_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every stored spelling, for checks written in SQL.
            pub const DB_VALUES: &'static [&'static str] = &[$($text),+];

            /// The stored spelling.
            pub fn as_db(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Read a stored value. Anything else means the row was written outside Kith.
            pub fn from_db(text: &str) -> async_graphql::Result<$name> {
                use async_graphql::ErrorExtensions;
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::error::AppError::internal(format!(
                        "unknown {} `{other}` in the database",
                        stringify!($name)
                    ))
                    .extend()),
                }
            }
        }
    };
}

pub(crate) use db_enum;
