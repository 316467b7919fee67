//! Mutation payloads: a write's outcome as the changed object and the `userErrors` that
//! stopped it. Any other failure becomes a GraphQL error with its code.

use async_graphql::{ErrorExtensions, ID, SimpleObject};
use uuid::Uuid;

use crate::error::{AppError, Result, UserError};

/// The outcome of a write as its payload's parts: the changed object, or the user errors
/// that stopped it. Any other failure becomes a GraphQL error with its code.
pub fn payload_parts<T>(result: Result<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(AppError::UserErrors(errors)) => Ok((None, errors)),
        Err(other) => Err(other.extend()),
    }
}

/// Declare the payload of a mutation that returns one object: the object as stored after the
/// change (null when nothing was written) and the user errors that stopped it, with
/// `from_result` to build it from a write's result. The object type converts from what the
/// write returns (`From<M>`).
///
/// ```ignore
/// payload! {
///     /// The result of a customer mutation.
///     CustomerPayload {
///         /// The customer as stored after the change; null when nothing was written.
///         customer: Customer,
///     }
/// }
/// ```
macro_rules! payload {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(#[$field_meta:meta])*
            $field:ident: $object:ty $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            $(#[$field_meta])*
            pub $field: Option<$object>,
            /// Why nothing was written.
            pub user_errors: Vec<$crate::error::UserError>,
        }

        impl $name {
            /// The payload for a write's outcome.
            pub fn from_result<M>(
                result: $crate::error::Result<M>,
            ) -> async_graphql::Result<$name>
            where
                $object: From<M>,
            {
                let ($field, user_errors) = $crate::payload::payload_parts(result)?;
                Ok($name {
                    $field: $field.map(<$object>::from),
                    user_errors,
                })
            }
        }
    };
}

pub(crate) use payload;

/// The payload of every delete.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// Id of the deleted object; null when nothing was deleted.
    pub deleted_id: Option<ID>,
    /// Why nothing was deleted.
    pub user_errors: Vec<UserError>,
}

impl DeletePayload {
    /// The payload for a delete's outcome.
    pub fn from_result(result: Result<Uuid>) -> async_graphql::Result<DeletePayload> {
        let (deleted, user_errors) = payload_parts(result)?;
        Ok(DeletePayload {
            deleted_id: deleted.map(|id| ID(id.to_string())),
            user_errors,
        })
    }
}
