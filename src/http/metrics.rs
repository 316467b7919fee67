//! `GET /metrics`: the server's metrics, with the pool and load-shedding gauges read at
//! scrape time.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use sea_orm::{DatabaseConnection, DbBackend};

use super::AppState;
use crate::metrics::CONTENT_TYPE;

/// The OpenMetrics text exposition (Prometheus scrapes it as is).
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let metrics = &state.metrics;
    let (size, idle) = pool_size(&state.db);
    metrics.set_pool(size.saturating_sub(idle), idle);
    metrics.set_waiting("light", state.guard.light_lane.waiting());
    metrics.set_waiting("heavy", state.guard.heavy_lane.waiting());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render())
}

/// Connections the pool holds, and how many of them are idle.
fn pool_size(db: &DatabaseConnection) -> (usize, usize) {
    let size = |size: u32| usize::try_from(size).unwrap_or(usize::MAX);
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (size(pool.size()), pool.num_idle())
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (size(pool.size()), pool.num_idle())
        }
        _ => (0, 0),
    }
}
