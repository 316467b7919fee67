//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use crate::db;

/// The process is up.
pub async fn live() -> &'static str {
    "ok"
}

/// The process can serve: the database answers and takes writes. Answers within a second
/// whatever the database does; 503 with the reason (no driver text) when not ready.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, String) {
    match db::ready(&state.db).await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {error}"),
        ),
    }
}
