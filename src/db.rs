//! Connecting to SQLite or PostgreSQL, counting every statement, applying migrations.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::error::{AppError, Result};
use crate::metrics::Metrics;

/// How long a SQLite writer waits for the lock before giving up with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Open the pool and apply pending migrations. Every statement sent through the returned
/// connection (and the transactions it begins) is counted in `metrics`.
pub async fn connect(
    database_url: &str,
    max_connections: u32,
    metrics: Arc<Metrics>,
) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(database_url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if database_url.starts_with("sqlite:") {
        // WAL lets readers proceed while one writer commits; the busy timeout queues writers
        // instead of failing them. One connection per core is plenty for SQLite.
        options
            .max_connections(max_connections.clamp(1, 8))
            .map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
            });
    } else {
        options.max_connections(max_connections).min_connections(1);
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |info| {
        metrics.record_db_query(info.elapsed, info.failed);
        tracing::trace!(target: "kith::sql", elapsed = ?info.elapsed, sql = %info.statement.sql);
    });
    Migrator::up(&db, None)
        .await
        .map_err(|error| AppError::Internal(format!("migration failed: {error}")))?;
    Ok(db)
}

/// Whether the database answers a query: what `/readyz` reports.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    let probe = Statement::from_string(db.get_database_backend(), "SELECT 1");
    db.query_one_raw(probe).await.is_ok()
}
