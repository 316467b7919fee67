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
    /// The database cannot serve right now (unreachable, busy past the acquire timeout,
    /// read-only, its file gone): the client may retry later. The message says which, in
    /// words fit for a client; the driver's text is logged, never sent.
    #[error("{0}")]
    Unavailable(String),
    /// A database failure. The message is deliberately opaque; the cause is logged.
    #[error("internal error")]
    Database(DbErr),
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
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
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

    /// Log an internal failure with its cause; client mistakes are not logged here.
    pub fn log_if_internal(&self) {
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
        self.to_graphql()
    }
}

impl AppError {
    /// The GraphQL error a client sees, without logging (for errors logged where they arose).
    pub fn to_graphql(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
        })
    }
}

impl From<DbErr> for AppError {
    /// Sort a database failure by what the client can do about it: retry later
    /// ([`AppError::Unavailable`]) or nothing ([`AppError::Database`]).
    fn from(error: DbErr) -> Self {
        if is_unstorable_text(&error) {
            return AppError::BadUserInput(
                "text must not contain a NUL character (U+0000): the database cannot store it"
                    .into(),
            );
        }
        match unavailable_reason(&error) {
            Some(reason) => {
                // Logged here, once per failed statement, because the variant keeps only the
                // client's message. WARN: an outage is the operator's business, not a bug.
                tracing::warn!(error = %error, reason, "database unavailable");
                AppError::Unavailable(reason.to_owned())
            }
            None => AppError::Database(error),
        }
    }
}

/// PostgreSQL refused text in a statement: a NUL, which no PostgreSQL text can hold
/// (`character_not_in_repertoire`, `untranslatable_character`). Inputs are checked before
/// SQL where it matters; this keeps any text that slips through a client mistake rather
/// than an `INTERNAL` error logged at ERROR.
fn is_unstorable_text(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, SqlxError};
    let (DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause))) =
        error
    else {
        return false;
    };
    let SqlxError::Database(database) = cause.as_ref() else {
        return false;
    };
    database
        .try_downcast_ref::<sea_orm::SqlxPostgresError>()
        .is_some()
        && matches!(database.code().as_deref(), Some("22021" | "22P05"))
}

/// Why `error` means the database cannot serve at the moment, in words for a client; `None`
/// for failures that are bugs or data problems (they stay `INTERNAL`).
pub fn unavailable_reason(error: &DbErr) -> Option<&'static str> {
    use sea_orm::{ConnAcquireErr, RuntimeErr};
    match error {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => Some(BUSY),
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => Some(UNREACHABLE),
        DbErr::Conn(RuntimeErr::SqlxError(cause))
        | DbErr::Exec(RuntimeErr::SqlxError(cause))
        | DbErr::Query(RuntimeErr::SqlxError(cause)) => sqlx_unavailable_reason(cause),
        _ => None,
    }
}

const BUSY: &str = "the database is busy or unreachable; try again shortly";
const UNREACHABLE: &str = "the database is unreachable; try again shortly";
const READ_ONLY: &str = "the database is read-only: writes are refused until an operator fixes it";
const STORAGE: &str =
    "the database's storage failed (file missing, unreadable or full); an operator must fix it";

fn sqlx_unavailable_reason(error: &sea_orm::SqlxError) -> Option<&'static str> {
    use sea_orm::SqlxError;
    match error {
        SqlxError::PoolTimedOut => Some(BUSY),
        SqlxError::PoolClosed | SqlxError::Io(_) | SqlxError::Tls(_) | SqlxError::WorkerCrashed => {
            Some(UNREACHABLE)
        }
        SqlxError::Database(database) => {
            if let Some(sqlite) = database.try_downcast_ref::<sea_orm::SqlxSqliteError>() {
                sqlite_unavailable_reason(sqlite)
            } else {
                postgres_unavailable_reason(database.code()?.as_ref())
            }
        }
        _ => None,
    }
}

/// SQLite's primary result codes (the low byte of the extended code sqlx reports).
fn sqlite_unavailable_reason(error: &sea_orm::SqlxSqliteError) -> Option<&'static str> {
    use sea_orm::sqlx::error::DatabaseError;
    let code: i32 = error.code()?.parse().ok()?;
    match code & 0xff {
        // SQLITE_BUSY: the write lock stayed taken past the busy timeout.
        5 => Some(BUSY),
        // SQLITE_READONLY, READONLY_DBMOVED included.
        8 => Some(READ_ONLY),
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB.
        10 | 13 | 14 | 26 => Some(STORAGE),
        _ => None,
    }
}

/// PostgreSQL SQLSTATEs that mean "not now" rather than "wrong".
fn postgres_unavailable_reason(sqlstate: &str) -> Option<&'static str> {
    match sqlstate {
        // Class 08: connection exceptions.
        code if code.starts_with("08") => Some(UNREACHABLE),
        // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
        "57P01" | "57P02" | "57P03" | "53300" => Some(UNREACHABLE),
        // read_only_sql_transaction: a standby, or default_transaction_read_only.
        "25006" => Some(READ_ONLY),
        // disk_full, out_of_memory.
        "53100" | "53200" => Some(STORAGE),
        _ => None,
    }
}

/// DataLoader errors must be `Clone`; loaders share one failure between every waiting field.
pub type SharedError = std::sync::Arc<AppError>;

/// Convert a loader result into a GraphQL result with the error's code attached. Not logged:
/// the loader logged the failed batch once (`LoaderContext::finish`), however many fields
/// waited on it.
pub fn from_loader<T>(result: Result<T, SharedError>) -> async_graphql::Result<T> {
    result.map_err(|error| error.as_ref().to_graphql())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlxError};

    use super::AppError;

    fn sqlx(error: SqlxError) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
    }

    #[test]
    fn outages_are_service_unavailable_and_say_nothing_of_the_driver() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for error in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            sqlx(SqlxError::PoolTimedOut),
            sqlx(SqlxError::Io(refused)),
        ] {
            let error = AppError::from(error);
            assert_eq!(error.code(), "SERVICE_UNAVAILABLE", "{error:?}");
            assert!(!error.to_string().contains("os error"), "{error}");
        }
    }

    #[test]
    fn other_database_errors_stay_internal() {
        for error in [
            sqlx(SqlxError::RowNotFound),
            sqlx(SqlxError::Protocol("garbled".into())),
            DbErr::Custom("bug".into()),
        ] {
            let error = AppError::from(error);
            assert_eq!(error.code(), "INTERNAL", "{error:?}");
            assert_eq!(error.to_string(), "internal error");
        }
    }
}
