//! What every write shares: transactions, timestamps, optimistic versioning, unique
//! constraint violations as `CONFLICT`. Turning a write's result into a GraphQL payload is
//! [`crate::payload`]'s business.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{AppError, FieldPath, Result, UserError};

/// The current time at the precision both databases store (PostgreSQL keeps microseconds;
/// milliseconds keep SQLite's text form short and sortable too).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::milliseconds(1))
        .unwrap_or(now)
}

/// A fresh id: UUIDv7, so ids sort in creation order.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Begin a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing when a
/// read lock cannot be upgraded; PostgreSQL ignores the option.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    // A SQLite file deleted or replaced under the server would swallow the write.
    crate::db::writable(db)?;
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?)
}

/// A caller whose roles allow operation `Op`. `Op` is a marker that only the resource's write
/// module can make, in the function that checks the role; the writes that need the role take
/// a `Cleared`. So the check runs once, in the write layer, yet early enough for a resolver to
/// ask before it reads the input: a role that may never do an operation gets `FORBIDDEN`
/// whatever the input (API.md), and learns nothing about inputs it may not send.
#[derive(Clone, Copy, Debug)]
pub struct Cleared<'a, Op> {
    /// The caller.
    pub principal: &'a Principal,
    /// What it was cleared for.
    pub op: Op,
}

/// The unique constraints a write can run into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UniqueKey {
    /// `customer.customer_number`.
    CustomerNumber,
    /// `account.account_number`.
    AccountNumber,
    /// `contact.contact_number`, unique per customer (`ux_contact_number_per_customer`).
    ContactNumber,
    /// One PRIMARY / SECONDARY contact per customer.
    CustomerRole,
    /// One PRIMARY / SECONDARY contact per account.
    AccountRole,
    /// One primary address per contact.
    PrimaryAddress,
    /// Anything else.
    Other,
}

/// Which unique constraint `error` violated, if it is a unique violation. The only place that
/// reads driver messages: PostgreSQL names the constraint, SQLite lists its columns.
pub fn unique_violation(error: &DbErr) -> Option<UniqueKey> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() else {
        return None;
    };
    let key = if message.contains("customer_number") {
        UniqueKey::CustomerNumber
    } else if message.contains("account_number") {
        UniqueKey::AccountNumber
    } else if message.contains("contact_number") {
        UniqueKey::ContactNumber
    } else if message.contains("ux_contact_customer_role")
        || message.contains("contact.customer_id, contact.role")
    {
        UniqueKey::CustomerRole
    } else if message.contains("ux_contact_account_role")
        || message.contains("contact.account_id, contact.role")
    {
        UniqueKey::AccountRole
    } else if message.contains("ux_contact_address_primary")
        || message.ends_with("contact_address.contact_id")
    {
        UniqueKey::PrimaryAddress
    } else {
        UniqueKey::Other
    };
    Some(key)
}

/// Map a unique violation to a `CONFLICT` user error with `describe`, or pass the error on.
pub fn conflict_or_db_error(
    error: DbErr,
    describe: impl FnOnce(UniqueKey) -> Option<UserError>,
) -> AppError {
    match unique_violation(&error).and_then(describe) {
        Some(user_error) => AppError::UserErrors(vec![user_error]),
        None => AppError::from(error),
    }
}

/// A table whose rows carry an id, a version incremented by every change and the time of the
/// last change: what [`update_versioned`] needs.
pub trait Versioned: EntityTrait {
    /// Primary key.
    const ID: Self::Column;
    /// Row version.
    const VERSION: Self::Column;
    /// Last change time.
    const UPDATED_AT: Self::Column;
}

/// Implement [`Versioned`] for entities whose columns are named `id`, `version` and
/// `updated_at`.
macro_rules! versioned {
    ($($entity:ident),+ $(,)?) => {
        $(
            impl Versioned for entity::$entity::Entity {
                const ID: Self::Column = entity::$entity::Column::Id;
                const VERSION: Self::Column = entity::$entity::Column::Version;
                const UPDATED_AT: Self::Column = entity::$entity::Column::UpdatedAt;
            }
        )+
    };
}

versioned!(customer, account, contact, contact_point, address);

/// Apply `changes` to row `id`, whose current version is `current_version`, as one
/// conditional UPDATE that also increments `version` and moves `updated_at`.
///
/// With `expected_version`, the row must still be at that version: a mismatch, before or
/// during the write (another writer got there first), is a `CONFLICT` at `path` and changes
/// nothing. Without it, the increment is still atomic.
pub async fn update_versioned<A>(
    db: &impl ConnectionTrait,
    id: Uuid,
    current_version: i32,
    expected_version: Option<i32>,
    changes: A,
    path: &FieldPath,
) -> Result<()>
where
    A: ActiveModelTrait + Send,
    A::Entity: Versioned,
{
    let version = <A::Entity as Versioned>::VERSION;
    check_version(current_version, expected_version, path)?;
    let mut update = <A::Entity as EntityTrait>::update_many()
        .set(changes)
        .col_expr(version, Expr::col(version).add(1))
        .col_expr(<A::Entity as Versioned>::UPDATED_AT, Expr::value(now()))
        .filter(<A::Entity as Versioned>::ID.eq(id));
    if let Some(expected) = expected_version {
        update = update.filter(version.eq(expected));
    }
    let result = update.exec(db).await?;
    if result.rows_affected == 0 {
        return Err(match expected_version {
            // Another writer changed the row between our read and our write.
            Some(_) => version_conflict(path, current_version + 1),
            // Only the id was matched: another writer deleted the row meanwhile.
            None => AppError::UserErrors(vec![UserError::deleted_meanwhile()]),
        });
    }
    Ok(())
}

fn version_conflict(path: &FieldPath, current: i32) -> AppError {
    AppError::UserErrors(vec![UserError::conflict(
        path,
        format!("the object was changed meanwhile: it is now at version {current} or later"),
    )])
}

/// A `CONFLICT` at `path` when the client expects another version than the stored one.
pub fn check_version(current: i32, expected: Option<i32>, path: &FieldPath) -> Result<()> {
    match expected {
        Some(expected) if expected != current => Err(version_conflict(path, current)),
        _ => Ok(()),
    }
}

/// `NOT_FOUND` for the object named by `argument` (out of scope looks the same as missing).
pub fn not_found(path: &FieldPath, what: &str) -> AppError {
    AppError::UserErrors(vec![UserError::not_found(path, what)])
}

/// `NOT_FOUND` at `path` when a DELETE removed no row: a concurrent delete won between our
/// read and our write (PostgreSQL re-checks the row after waiting for the other writer).
pub fn ensure_deleted(result: sea_orm::DeleteResult, path: &FieldPath, what: &str) -> Result<()> {
    if result.rows_affected == 0 {
        return Err(not_found(path, what));
    }
    Ok(())
}

/// Set an active value only when an update gives one: `None` leaves the column unchanged.
pub fn set_if<T>(value: Option<T>) -> sea_orm::ActiveValue<T>
where
    T: Into<sea_orm::Value>,
{
    match value {
        Some(value) => sea_orm::ActiveValue::Set(value),
        None => sea_orm::ActiveValue::NotSet,
    }
}
