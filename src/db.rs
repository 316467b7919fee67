//! Connecting to SQLite or PostgreSQL, counting every statement, applying migrations.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

use crate::error::{AppError, Result};
use crate::metrics::Metrics;

/// How long a SQLite writer waits for the lock before giving up with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The smallest PostgreSQL pool that can migrate (see [`migrate`]).
const MIN_POSTGRES_CONNECTIONS: u32 = 2;

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
        // Migrating holds one connection for the advisory lock while the migrations run on
        // another: a pool of one would wait for itself.
        options
            .max_connections(max_connections.max(MIN_POSTGRES_CONNECTIONS))
            .min_connections(1);
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |info| {
        metrics.record_db_query(info.elapsed, info.failed);
        tracing::trace!(target: "kith::sql", elapsed = ?info.elapsed, sql = %info.statement.sql);
    });
    migrate(&db).await?;
    Ok(db)
}

/// Key of the PostgreSQL advisory lock that serialises migrations across instances.
const MIGRATION_LOCK_KEY: i64 = 0x006b_6974_686d_6967; // "kithmig" in ASCII

/// Apply pending migrations. On PostgreSQL, several instances may start at once against one
/// database: a session-level advisory lock lets exactly one migrate while the others wait,
/// then find nothing left to do.
async fn migrate(db: &DatabaseConnection) -> Result<()> {
    let failed = |error: DbErr| AppError::Internal(format!("migration failed: {error}"));
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await.map_err(failed);
    }
    let pool = db.get_postgres_connection_pool();
    let lock_failed = |error: sqlx::Error| AppError::Internal(format!("migration lock: {error}"));
    let mut lock_holder = pool.acquire().await.map_err(lock_failed)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *lock_holder)
        .await
        .map_err(lock_failed)?;
    let outcome = Migrator::up(db, None).await.map_err(failed);
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *lock_holder)
        .await;
    if let Err(error) = unlocked {
        // The lock dies with the session anyway; make sure this one is not reused.
        tracing::warn!(%error, "releasing the migration lock failed; closing its connection");
        lock_holder.detach();
    }
    outcome?;
    warn_without_search_index(db).await;
    Ok(())
}

/// Tell the operator when contact search has no trigram index: the migration skips it where
/// the `pg_trgm` extension cannot be installed, and search then scans every contact.
async fn warn_without_search_index(db: &DatabaseConnection) {
    let probe = Statement::from_string(
        DbBackend::Postgres,
        "SELECT 1 AS present FROM pg_indexes WHERE indexname = 'ix_contact_search'",
    );
    if let Ok(None) = db.query_one_raw(probe).await {
        tracing::warn!(
            "contact search has no index because the pg_trgm extension could not be \
             installed; search works, but scans (README, PostgreSQL, says how to add it)"
        );
    }
}

/// Whether the database answers a query: what `/readyz` reports.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    let probe = Statement::from_string(db.get_database_backend(), "SELECT 1");
    db.query_one_raw(probe).await.is_ok()
}
