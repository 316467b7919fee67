//! The one application error type, and its single mapping onto GraphQL errors.
//!
//! Every resolver turns an [`AppError`] into a GraphQL error through [`ErrorExtensions`], which
//! attaches a stable `extensions.code`. Internal failures are logged here with their cause
//! chain and reach the client only as an opaque message: no SQL, no driver text.
//!
//! The core of the crate: it imports no resource and no input parsing. The user errors that
//! mutation payloads carry ([`UserError`]) are defined here for that reason.

use std::borrow::Cow;
use std::error::Error as StdError;

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

mod user_error;

pub use user_error::{FieldPath, UserError, UserErrorCode};

/// Result of anything in Kith that can fail.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The cause of an internal failure, kept for the log.
pub type BoxError = Box<dyn StdError + Send + Sync>;

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
    UserErrors(Vec<UserError>),
    /// The database cannot serve right now (unreachable, busy past the acquire timeout,
    /// read-only, its file gone): the client may retry later. The message says which, in
    /// words fit for a client; the driver's text is logged, never sent.
    #[error("{0}")]
    Unavailable(String),
    /// A database failure. The message is deliberately opaque; the cause is logged.
    #[error("internal error")]
    Database(#[source] DbErr),
    /// Any other failure the client cannot fix. The message is opaque; the context and the
    /// cause chain are logged (see [`AppError::detail`]).
    #[error("internal error")]
    Internal {
        /// What Kith was doing, or which invariant broke, for the operator.
        context: Cow<'static, str>,
        /// The failure underneath, when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

impl AppError {
    /// An internal failure with no error underneath: a broken invariant, or a setting the
    /// server refuses to start with. `context` says what, for the operator.
    pub fn internal(context: impl Into<Cow<'static, str>>) -> AppError {
        AppError::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// An internal failure caused by `source` while Kith was doing `context`.
    pub fn internal_from(
        context: impl Into<Cow<'static, str>>,
        source: impl StdError + Send + Sync + 'static,
    ) -> AppError {
        AppError::Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The stable `extensions.code` clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::BadUserInput(_) | AppError::UserErrors(_) => "BAD_USER_INPUT",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::Database(_) | AppError::Internal { .. } => "INTERNAL",
        }
    }

    /// The full message, causes included: for the operator (logs, the CLI), never a client.
    pub fn detail(&self) -> String {
        match self {
            AppError::Database(cause) => format!("database error: {}", chain(cause)),
            AppError::Internal {
                context,
                source: Some(source),
            } => format!("{context}: {}", chain(source.as_ref())),
            AppError::Internal {
                context,
                source: None,
            } => context.clone().into_owned(),
            other => other.to_string(),
        }
    }

    /// Log an internal failure with its cause chain; client mistakes are not logged here.
    pub fn log_if_internal(&self) {
        match self {
            AppError::Database(cause) => tracing::error!(error = %chain(cause), "database error"),
            AppError::Internal { .. } => tracing::error!(error = %self.detail(), "internal error"),
            _ => {}
        }
    }
}

/// `error` and its causes, `: `-separated, each said once: many errors (sqlx's, SeaORM's)
/// already print their cause in their own message, so a cause whose text is already there is
/// skipped.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let said = error.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = error.source();
    }
    text
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

    use async_graphql::Value;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlxError};

    use super::{AppError, FieldPath, UserError};

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

    /// One error of every variant, with the code a client sees and the message it reads.
    fn one_of_each() -> Vec<(AppError, &'static str, &'static str)> {
        let disk = || std::io::Error::other("disk gone at /var/lib/kith");
        vec![
            (
                AppError::Unauthenticated("invalid token: expired".into()),
                "UNAUTHENTICATED",
                "invalid token: expired",
            ),
            (
                AppError::Forbidden("viewers cannot write".into()),
                "FORBIDDEN",
                "viewers cannot write",
            ),
            (
                AppError::BadUserInput("`id` is not a valid id".into()),
                "BAD_USER_INPUT",
                "`id` is not a valid id",
            ),
            (
                AppError::UserErrors(vec![UserError::invalid(
                    &FieldPath::root("input").field("email"),
                    "is not an email address",
                )]),
                "BAD_USER_INPUT",
                "is not an email address",
            ),
            (
                AppError::UserErrors(Vec::new()),
                "BAD_USER_INPUT",
                "invalid input",
            ),
            (
                AppError::NotFound("contact"),
                "NOT_FOUND",
                "contact not found",
            ),
            (
                AppError::QueryTooComplex("too deep".into()),
                "QUERY_TOO_COMPLEX",
                "too deep",
            ),
            (
                AppError::Unavailable("the database is busy".into()),
                "SERVICE_UNAVAILABLE",
                "the database is busy",
            ),
            (
                AppError::Database(DbErr::Custom("SELECT secret FROM t".into())),
                "INTERNAL",
                "internal error",
            ),
            (
                AppError::internal("unknown ContactRole `x` in the database"),
                "INTERNAL",
                "internal error",
            ),
            (
                AppError::internal_from("password hashing failed", disk()),
                "INTERNAL",
                "internal error",
            ),
        ]
    }

    #[test]
    fn every_variant_maps_to_its_code_and_message() {
        // A new variant fails to compile here until `one_of_each` has a case for it.
        let _covered = |error: &AppError| match error {
            AppError::Unauthenticated(_)
            | AppError::Forbidden(_)
            | AppError::BadUserInput(_)
            | AppError::NotFound(_)
            | AppError::QueryTooComplex(_)
            | AppError::UserErrors(_)
            | AppError::Unavailable(_)
            | AppError::Database(_)
            | AppError::Internal { .. } => (),
        };
        for (error, code, message) in one_of_each() {
            assert_eq!(error.code(), code, "{error:?}");
            let graphql = error.to_graphql();
            assert_eq!(graphql.message, message, "{error:?}");
            let extensions = graphql.extensions.as_ref();
            assert_eq!(
                extensions.and_then(|extensions| extensions.get("code")),
                Some(&Value::from(code)),
                "{error:?}"
            );
        }
    }

    #[test]
    fn internal_failures_tell_the_client_nothing_and_the_operator_everything() {
        for (error, code, _) in one_of_each() {
            if code != "INTERNAL" {
                continue;
            }
            assert_eq!(error.to_string(), "internal error");
            let detail = error.detail();
            assert_ne!(detail, "internal error");
            for secret in ["SELECT", "ContactRole", "password", "/var/lib/kith"] {
                assert!(!error.to_string().contains(secret), "{error}");
            }
            assert!(
                [
                    "SELECT secret",
                    "ContactRole `x`",
                    "password hashing failed: disk gone"
                ]
                .iter()
                .any(|cause| detail.contains(cause)),
                "{detail}"
            );
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("migration failed: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("migration failed")]
    struct Hides(#[source] std::io::Error);

    #[test]
    fn the_cause_chain_is_kept_and_said_once() {
        let disk = || std::io::Error::other("disk full");
        let repeats = AppError::internal_from("starting", Repeats(disk()));
        assert_eq!(repeats.detail(), "starting: migration failed: disk full");
        let hides = AppError::internal_from("starting", Hides(disk()));
        assert_eq!(hides.detail(), "starting: migration failed: disk full");
        let source = std::error::Error::source(&hides).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("migration failed"));
        assert_eq!(AppError::internal("no key").detail(), "no key");
        let database = AppError::Database(sqlx(SqlxError::Protocol("garbled".into())));
        let detail = database.detail();
        assert!(detail.starts_with("database error: "), "{detail}");
        assert_eq!(detail.matches("garbled").count(), 1, "{detail}");
    }
}
