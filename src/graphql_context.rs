//! What every resolver reads from the request context: the caller, the settings, the database
//! and the request's DataLoaders, behind one extension trait so no resolver unwraps.

use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ErrorExtensions, ID};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::{Principal, Scope};
use crate::config::Settings;
use crate::error::AppError;

/// The caller of one request: `None` when no bearer token was sent.
#[derive(Clone, Debug)]
pub struct Caller(pub Option<Principal>);

/// Typed access to request data.
pub trait ContextExt {
    /// The authenticated caller, or `UNAUTHENTICATED`.
    fn principal(&self) -> async_graphql::Result<&Principal>;
    /// The caller's read scope, or `UNAUTHENTICATED`.
    fn scope(&self) -> async_graphql::Result<&Scope> {
        Ok(&self.principal()?.scope)
    }
    /// Server settings.
    fn settings(&self) -> &Settings;
    /// The connection pool.
    fn db(&self) -> async_graphql::Result<&DatabaseConnection>;
    /// This request's loader of type `L`.
    fn loader<L: Loader<Uuid>>(&self) -> async_graphql::Result<&DataLoader<L>>;
}

fn missing(what: &str) -> async_graphql::Error {
    AppError::internal(format!("{what} missing from the request context")).extend()
}

impl ContextExt for Context<'_> {
    fn principal(&self) -> async_graphql::Result<&Principal> {
        match self.data_opt::<Caller>() {
            Some(Caller(Some(principal))) => Ok(principal),
            _ => Err(AppError::Unauthenticated(
                "authentication required: send `Authorization: Bearer <token>`".into(),
            )
            .extend()),
        }
    }

    fn settings(&self) -> &Settings {
        // Settings are schema data, installed once by `schema::build`; the default only
        // stands in for a schema built without them (`kith schema`).
        static DEFAULTS: std::sync::LazyLock<Settings> =
            std::sync::LazyLock::new(|| Settings::with_database(""));
        self.data_opt::<Arc<Settings>>()
            .map(Arc::as_ref)
            .unwrap_or(&DEFAULTS)
    }

    fn db(&self) -> async_graphql::Result<&DatabaseConnection> {
        self.data_opt::<DatabaseConnection>()
            .ok_or_else(|| missing("database"))
    }

    fn loader<L: Loader<Uuid>>(&self) -> async_graphql::Result<&DataLoader<L>> {
        self.data_opt::<DataLoader<L>>()
            .ok_or_else(|| missing(std::any::type_name::<L>()))
    }
}

/// Parse a GraphQL `ID` argument as a UUID.
pub fn parse_id(id: &ID, argument: &str) -> async_graphql::Result<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| {
        AppError::BadUserInput(format!("`{argument}` is not a valid id (a UUID)")).extend()
    })
}
