//! The HTTP surface: GraphQL, GraphiQL, health, readiness and metrics.

mod body;
mod graphiql;
mod graphql;
mod guard;
pub use guard::RequestGuard;
mod health;
mod metrics;
pub mod server;
mod state;
pub use state::AppState;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Cross-origin access for browser apps served from other origins: none unless configured.
fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(600));
    if origins.iter().any(|origin| origin == "*") {
        return layer.allow_origin(AllowOrigin::any());
    }
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin.trim()).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(allowed))
}

/// All routes.
pub fn router(state: AppState, cors_origins: &[String]) -> Router {
    Router::new()
        .route("/", get(graphiql::page))
        .route("/assets/{file}", get(graphiql::asset))
        .route("/graphql", get(graphql::handle).post(graphql::handle))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::render))
        .layer(CompressionLayer::new())
        .layer(cors(cors_origins))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .with_state(state)
}
