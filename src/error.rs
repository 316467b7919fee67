//! The one application error type, and its single mapping onto GraphQL errors.
//!
//! Every resolver turns an [`AppError`] into a GraphQL error through [`ErrorExtensions`], which
//! attaches a stable `extensions.code`. Internal failures are logged here with their cause
//! chain and reach the client only as an opaque message: no SQL, no driver text.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// Result of anything in Kith that can fail.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// What went wrong, classified by what the client should do about it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role may never perform this operation.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed in a way the client can fix.
    #[error("{0}")]
    BadUserInput(String),
    /// The object does not exist, or lies outside the caller's scope (the two look the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The query is deeper or more complex than the server's limits allow.
    #[error("{0}")]
    QueryTooComplex(String),
    /// Problems with a mutation's input: reported as `userErrors` in its payload.
    #[error("{}", .0.first().map_or("invalid input", |e| e.message.as_str()))]
    UserErrors(Vec<crate::input::UserError>),
    /// A database failure. The message is deliberately opaque; the cause is logged.
    #[error("internal error")]
    Database(#[from] DbErr),
    /// Any other failure the client cannot fix. The message is opaque; the cause is logged.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// The stable `extensions.code` clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::BadUserInput(_) | AppError::UserErrors(_) => "BAD_USER_INPUT",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            AppError::Database(_) | AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The full message, causes included: for the operator (logs, the CLI), never a client.
    pub fn detail(&self) -> String {
        match self {
            AppError::Database(cause) => format!("database error: {cause}"),
            AppError::Internal(cause) => cause.clone(),
            other => other.to_string(),
        }
    }

    fn log_if_internal(&self) {
        match self {
            AppError::Database(cause) => tracing::error!(error = %cause, "database error"),
            AppError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            _ => {}
        }
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log_if_internal();
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
        })
    }
}

/// DataLoader errors must be `Clone`; loaders share one failure between every waiting field.
pub type SharedError = std::sync::Arc<AppError>;

/// Convert a loader result into a GraphQL result with the error's code attached.
pub fn from_loader<T>(result: Result<T, SharedError>) -> async_graphql::Result<T> {
    result.map_err(|error| error.as_ref().extend())
}
