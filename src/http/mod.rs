//! The HTTP surface: GraphQL, GraphiQL, health, readiness and metrics.

mod access;
mod body;
mod codes;
mod graphiql;
mod graphql;
mod guard;
pub use guard::RequestGuard;
mod health;
mod metrics;
pub mod persisted;
pub mod server;
mod state;
pub use state::AppState;
mod ws;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Settings;

/// Cross-origin access for browser apps served from other origins: none unless
/// `KITH_CORS_ORIGINS` names some. The origins and request headers were checked when the
/// settings were parsed ([`Settings`]), so nothing is dropped here in silence.
pub fn cors(settings: &Settings) -> CorsLayer {
    let headers: Vec<HeaderName> = settings
        .cors_headers
        .iter()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .collect();
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(headers)
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(600));
    if settings.cors_origins.iter().any(|origin| origin == "*") {
        return layer.allow_origin(AllowOrigin::any());
    }
    let allowed: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(allowed))
}

/// `GET /graphql`: a WebSocket upgrade (graphql-transport-ws), or a query over HTTP.
async fn get_graphql(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    if ws::is_upgrade(request.headers()) {
        return ws::upgrade(state, request).await;
    }
    let (parts, body) = request.into_parts();
    graphql::handle(
        axum::extract::State(state),
        parts.method,
        parts.uri,
        parts.headers,
        body,
    )
    .await
}

/// All routes.
pub fn router(state: AppState, cors: CorsLayer) -> Router {
    Router::new()
        .route("/", get(graphiql::page))
        .route("/assets/{file}", get(graphiql::asset))
        .route("/graphql", get(get_graphql).post(graphql::handle))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::render))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            access::observe,
        ))
        .with_state(state)
}
