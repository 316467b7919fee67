//! The HTTP surface: GraphQL, GraphiQL, health, readiness and metrics.

mod graphiql;
mod graphql;
mod health;
mod metrics;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;

use crate::auth::JwtKeys;
use crate::metrics::Metrics;
use crate::schema::KithSchema;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema, with settings and the pool as schema data.
    pub schema: KithSchema,
    /// The pool, for readiness checks.
    pub db: DatabaseConnection,
    /// Token verification keys.
    pub keys: Arc<JwtKeys>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// A development token GraphiQL sends by default; only set when the server made up its
    /// own signing key (no `JWT_SECRET`), so it never exposes a real credential.
    pub playground_token: Option<String>,
}

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(graphiql::page))
        .route("/assets/{file}", get(graphiql::asset))
        .route("/graphql", get(graphql::handle).post(graphql::handle))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::render))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .with_state(state)
}
