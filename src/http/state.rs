//! What every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::guard::RequestGuard;
use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::schema::KithSchema;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema, with settings and the pool as schema data.
    pub schema: KithSchema,
    /// The server's settings.
    pub settings: Arc<Settings>,
    /// The APQ cache, or the trusted documents.
    pub persisted: Arc<super::persisted::Persisted>,
    /// The limits and load shedding of `/graphql`.
    pub guard: Arc<RequestGuard>,
    /// The pool, for readiness checks.
    pub db: DatabaseConnection,
    /// Token verification keys.
    pub keys: Arc<JwtKeys>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Open WebSocket connections per token.
    pub ws_connections: Arc<super::ws::connections::Connections>,
    /// WebSocket connections the server still takes (`KITH_MAX_CONNECTIONS` of them).
    pub ws_slots: Arc<tokio::sync::Semaphore>,
    /// A development token GraphiQL sends by default; only set when the server made up its
    /// own signing key (no `JWT_SECRET`), so it never exposes a real credential.
    pub playground_token: Option<String>,
}
