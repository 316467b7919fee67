//! What a compiled read needs of its request, and how it gives up.

use sea_orm::{DatabaseConnection, DbBackend};

use crate::auth::{Principal, Scope, UNMASK_TAX_ID_PERMISSION};
use crate::config::Settings;
use crate::error::AppError;
use crate::loaders::RowBudget;

/// Why a compiled read stopped.
#[derive(Debug)]
pub enum Fallback {
    /// Outside the compiled path, or a failure async-graphql reports as the schema defines
    /// it (bad arguments, the row budget...): async-graphql runs the operation instead.
    Unsupported,
    /// The database cannot serve: answered at once, since async-graphql would only wait out
    /// the same acquire timeout again.
    Unavailable(AppError),
}

impl From<AppError> for Fallback {
    fn from(error: AppError) -> Fallback {
        match error {
            AppError::Unavailable(_) => Fallback::Unavailable(error),
            _ => Fallback::Unsupported,
        }
    }
}

/// What a compiled read needs of the request.
pub struct ReadContext<'r> {
    /// The connection pool.
    pub db: &'r DatabaseConnection,
    /// The caller's read scope.
    pub scope: &'r Scope,
    /// Whether the caller sees `taxId` and `bankAccountDetails` whole.
    pub unmask: bool,
    /// The largest page a list may ask for.
    pub max_page_size: u64,
    /// The request's row budget.
    pub rows: &'r RowBudget,
    /// Whether PostgreSQL writes the JSON of objects with nested lists (`super::sql`).
    pub postgres_json: bool,
}

impl<'r> ReadContext<'r> {
    /// The context of `principal`'s request.
    pub fn new(
        db: &'r DatabaseConnection,
        principal: &'r Principal,
        settings: &Settings,
        rows: &'r RowBudget,
    ) -> ReadContext<'r> {
        ReadContext {
            db,
            scope: &principal.scope,
            unmask: settings.unmask_tax_id || principal.has_permission(UNMASK_TAX_ID_PERMISSION),
            max_page_size: settings.max_page_size,
            rows,
            postgres_json: settings.postgres_json_reads
                && db.get_database_backend() == DbBackend::Postgres,
        }
    }
}
