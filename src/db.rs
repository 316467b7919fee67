//! Connecting to SQLite or PostgreSQL, counting every statement, applying migrations, and
//! telling whether the database can serve (readiness) and take writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, IntoColumnRef};
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use uuid::Uuid;

use crate::error::{AppError, Result, unavailable_reason};
use crate::metrics::Metrics;

/// `column IN (keys)`, for the batched reads of loaders. On PostgreSQL it is written
/// `column = ANY($1)` with the keys in one array parameter: one statement text whatever the
/// number of keys, so the server plans it once per connection and reuses the plan, where an
/// `IN` list of n parameters is a new statement for every n and is planned again at every
/// execution (measured in BENCHMARKS.md). SQLite has no arrays: there it is the `IN` list.
pub fn any_of(backend: DbBackend, column: impl IntoColumnRef, keys: &[Uuid]) -> Expr {
    match backend {
        DbBackend::Postgres => sea_orm::sea_query::ExprTrait::eq(
            Expr::col(column),
            PgFunc::any(Expr::val(keys.to_vec())),
        ),
        _ => sea_orm::sea_query::ExprTrait::is_in(Expr::col(column), keys.iter().copied()),
    }
}

/// The columns a read selects: `wanted`, then each of `required` it lacks (the keys the read
/// itself sorts and groups by).
pub fn columns_with<C: Copy + sea_orm::IdenStatic>(wanted: &[C], required: &[C]) -> Vec<C> {
    let mut columns = wanted.to_vec();
    add_columns(&mut columns, required);
    columns
}

/// Run `select`, whose values are `columns` in that order, and decode each row by index.
pub async fn rows_of<M: entity::FromColumns>(
    db: &impl ConnectionTrait,
    select: &sea_orm::sea_query::SelectStatement,
    columns: &[M::Column],
) -> Result<Vec<M>, sea_orm::DbErr> {
    decode_rows(&db.query_all(select).await?, columns)
}

/// Decode `rows`, whose values are `columns` in that order, by index.
pub fn decode_rows<M: entity::FromColumns>(
    rows: &[sea_orm::QueryResult],
    columns: &[M::Column],
) -> Result<Vec<M>, sea_orm::DbErr> {
    // Sized once: collecting through `Result` grows the vector by doubling, moving every
    // decoded row again each time (models are a few hundred bytes).
    let mut models = Vec::with_capacity(rows.len());
    for row in rows {
        models.push(M::from_columns(row, columns)?);
    }
    Ok(models)
}

/// Add each of `more` that `columns` lacks (SeaORM's columns compare by name).
pub fn add_columns<C: Copy + sea_orm::IdenStatic>(columns: &mut Vec<C>, more: &[C]) {
    for column in more {
        if !columns.iter().any(|have| have.as_str() == column.as_str()) {
            columns.push(*column);
        }
    }
}

/// How long a SQLite writer waits for the lock before giving up with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a PostgreSQL connection may sit unused in the pool before it is closed.
const POSTGRES_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The smallest PostgreSQL pool that can migrate (see [`migrate`]).
const MIN_POSTGRES_CONNECTIONS: u32 = 2;

/// The longest start-up waits for the first connection, whatever the acquire timeout: an
/// unreachable database should fail the start quickly and say where it looked.
const STARTUP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The budget of one readiness probe, kept under a second so `/readyz` answers within one
/// even when the pool would wait longer for a connection.
pub const READY_TIMEOUT: Duration = Duration::from_millis(800);

/// Open the pool and apply pending migrations. A request waits at most `acquire_timeout` for
/// a connection (then fails as [`AppError::Unavailable`]). Every statement sent through the
/// returned connection (and the transactions it begins) is counted in `metrics`.
pub async fn connect(
    database_url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    metrics: Arc<Metrics>,
) -> Result<DatabaseConnection> {
    connect_reporting(database_url, max_connections, acquire_timeout, metrics)
        .await
        .map(|(db, _)| db)
}

/// As [`connect`], also naming the migrations it applied, oldest first (none when the
/// database was up to date): what `kith migrate` reports.
pub async fn connect_reporting(
    database_url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    metrics: Arc<Metrics>,
) -> Result<(DatabaseConnection, Vec<String>)> {
    let sqlite = database_url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(database_url);
    // sea-orm turns a connect timeout into the pool's acquire timeout too: set only the one.
    options.sqlx_logging(false).acquire_timeout(acquire_timeout);
    if sqlite {
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
        // A connection idle for half a minute is closed: after a burst, the pool shrinks
        // back, and the server (and PostgreSQL's backends) give their buffers back.
        options
            .max_connections(max_connections.max(MIN_POSTGRES_CONNECTIONS))
            .min_connections(1)
            .idle_timeout(POSTGRES_IDLE_TIMEOUT);
    }
    let budget = acquire_timeout.min(STARTUP_CONNECT_TIMEOUT);
    let mut db = match tokio::time::timeout(budget, Database::connect(options)).await {
        Ok(Ok(db)) => db,
        Ok(Err(error)) => return Err(cannot_connect(database_url, budget, Some(&error))),
        Err(_) => return Err(cannot_connect(database_url, budget, None)),
    };
    remember_sqlite_file(&db);
    let system = if sqlite { "sqlite" } else { "postgresql" };
    db.set_metric_callback(move |info| {
        metrics.record_db_query(info.elapsed, info.failed);
        trace_statement(info, system);
        tracing::trace!(target: "kith::sql", elapsed = ?info.elapsed, sql = %info.statement.sql);
    });
    let applied = migrate(&db).await?;
    Ok((db, applied))
}

/// A span for one SQL statement, a child of the request's trace span and timed by the driver
/// (the callback runs once the statement is done): only while a trace is being recorded,
/// that is when traces are exported (`crate::telemetry`) and the request is sampled.
fn trace_statement(info: &sea_orm::metric::Info<'_>, system: &'static str) {
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer};
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let parent = tracing::Span::current().context();
    if !parent.span().span_context().is_sampled() {
        return;
    }
    let end = std::time::SystemTime::now();
    let start = end.checked_sub(info.elapsed).unwrap_or(end);
    let sql = &info.statement.sql;
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or("SQL")
        .to_ascii_uppercase();
    let tracer = opentelemetry::global::tracer("kith");
    let mut span = tracer
        .span_builder(operation)
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.query.text", sql.clone()),
        ])
        .start_with_context(&tracer, &parent);
    if info.failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

/// A start-up failure that says where Kith looked and what to try: the host and port of a
/// PostgreSQL server, the path of a SQLite file. `error` is `None` when the start-up budget
/// ran out.
fn cannot_connect(database_url: &str, budget: Duration, error: Option<&DbErr>) -> AppError {
    // The driver's error is the cause, unless the budget ran out: then what to check says more.
    let cause = error.filter(|error| !is_timeout(error)).cloned();
    let because = |context: String| match cause {
        Some(cause) => AppError::internal_from(context, cause),
        None => AppError::internal(format!(
            "{context}: no connection within {budget:?} (is the server running, and is the \
             address right?)"
        )),
    };
    if database_url.starts_with("sqlite:") {
        return cannot_open_sqlite(database_url, because);
    }
    match sqlx::postgres::PgConnectOptions::from_str(database_url) {
        Ok(options) => because(format!(
            "cannot connect to PostgreSQL at {}:{}",
            options.get_host(),
            options.get_port()
        )),
        Err(parse) => AppError::internal_from("DATABASE_URL is not a usable PostgreSQL URL", parse),
    }
}

fn is_timeout(error: &DbErr) -> bool {
    matches!(
        error,
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)
    ) || matches!(error, DbErr::Conn(sea_orm::RuntimeErr::SqlxError(cause))
        if matches!(**cause, sqlx::Error::PoolTimedOut))
}

/// Why a SQLite file would not open, with the likely fix; `because` adds the cause to a
/// failure that has no likelier explanation.
fn cannot_open_sqlite(database_url: &str, because: impl FnOnce(String) -> AppError) -> AppError {
    let Ok(options) = SqliteConnectOptions::from_str(database_url) else {
        return because("DATABASE_URL is not a usable SQLite URL".into());
    };
    let path = options.get_filename();
    let shown = path.display();
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    if let Some(directory) = directory.filter(|directory| !directory.is_dir()) {
        return AppError::internal(format!(
            "cannot open the SQLite database {shown}: the directory {} does not exist",
            directory.display()
        ));
    }
    if !path.exists() && !database_url.contains("mode=rwc") {
        return AppError::internal(format!(
            "cannot open the SQLite database {shown}: the file does not exist; to create it, \
             add `?mode=rwc` to the URL (sqlite://{shown}?mode=rwc)"
        ));
    }
    because(format!("cannot open the SQLite database {shown}"))
}

/// Key of the PostgreSQL advisory lock that serialises migrations across instances.
const MIGRATION_LOCK_KEY: i64 = 0x006b_6974_686d_6967; // "kithmig" in ASCII

/// Apply pending migrations. On PostgreSQL, several instances may start at once against one
/// database: a session-level advisory lock lets exactly one migrate while the others wait,
/// then find nothing left to do. Returns the names of the migrations applied.
async fn migrate(db: &DatabaseConnection) -> Result<Vec<String>> {
    let failed = |error: DbErr| AppError::internal_from("migration failed", error);
    // Listed where they run (under the lock on PostgreSQL), so an instance that waited for
    // another one's migrations does not claim them.
    let up = || async {
        let pending: Vec<String> = Migrator::get_pending_migrations(db)
            .await?
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect();
        Migrator::up(db, None).await?;
        if !pending.is_empty() {
            tracing::info!(migrations = ?pending, "migrations applied");
        }
        Ok::<_, DbErr>(pending)
    };
    if db.get_database_backend() != DbBackend::Postgres {
        return up().await.map_err(failed);
    }
    let pool = db.get_postgres_connection_pool();
    let lock_failed = |error: sqlx::Error| AppError::internal_from("migration lock", error);
    let mut lock_holder = pool.acquire().await.map_err(lock_failed)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *lock_holder)
        .await
        .map_err(lock_failed)?;
    let outcome = up().await.map_err(failed);
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *lock_holder)
        .await;
    if let Err(error) = unlocked {
        // The lock dies with the session anyway; make sure this one is not reused.
        tracing::warn!(%error, "releasing the migration lock failed; closing its connection");
        lock_holder.detach();
    }
    let applied = outcome?;
    warn_without_search_index(db).await;
    Ok(applied)
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

/// Whether the server can serve: what `/readyz` reports. Answers within [`READY_TIMEOUT`]
/// whatever the database does. It checks that the database answers a query and takes writes:
/// on PostgreSQL that the session is not read-only (a standby); on SQLite that the file is
/// still the one opened at start-up ([`writable`]) and that a fresh connection can write
/// (a write that changes nothing, rolled back). Costs one pooled query, plus on SQLite one
/// `stat` and one short-lived connection (about a millisecond).
pub async fn ready(db: &DatabaseConnection) -> Result<()> {
    match tokio::time::timeout(READY_TIMEOUT, probe(db)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(AppError::Unavailable(format!(
            "the database did not answer within {} ms",
            READY_TIMEOUT.as_millis()
        ))),
    }
}

async fn probe(db: &DatabaseConnection) -> Result<()> {
    // Not `writable`, which logs: probes repeat for as long as the problem lasts.
    if let Some(problem) = sqlite_file_problem(db) {
        return Err(file_changed(problem));
    }
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT current_setting('transaction_read_only') AS read_only",
        _ => "SELECT 'off' AS read_only",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .map_err(probe_failed)?;
    let read_only = row
        .map(|row| row.try_get::<String>("", "read_only"))
        .transpose()
        .map_err(probe_failed)?;
    if read_only.as_deref() == Some("on") {
        return Err(AppError::Unavailable(READ_ONLY.into()));
    }
    if backend == DbBackend::Sqlite {
        sqlite_write_probe(db).await?;
    }
    Ok(())
}

const READ_ONLY: &str = "the database is read-only";

/// A failed probe, without the WARN that a failed request logs: probes repeat every few
/// seconds for as long as the outage lasts.
fn probe_failed(error: DbErr) -> AppError {
    tracing::debug!(%error, "readiness probe failed");
    AppError::Unavailable(
        unavailable_reason(&error)
            .unwrap_or("the database failed the readiness probe")
            .into(),
    )
}

/// Write nothing on a connection of its own ([`write_and_roll_back`]). A pooled
/// connection would not do: it keeps the file handle (and the write access) it had when it
/// opened, and would wait out the busy timeout behind a long write. With no busy timeout,
/// `SQLITE_BUSY` means another connection holds the lock: someone is writing, so the
/// database is writable.
async fn sqlite_write_probe(db: &DatabaseConnection) -> Result<()> {
    use sqlx::{ConnectOptions as _, Connection as _};
    let options = db.get_sqlite_connection_pool().connect_options();
    let options = SqliteConnectOptions::clone(&options)
        .create_if_missing(false)
        .busy_timeout(Duration::ZERO);
    let failed = |error: sqlx::Error| {
        if sqlite_code(&error) == Some(SQLITE_BUSY) {
            return None;
        }
        let error = DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(error)));
        Some(probe_failed(error))
    };
    let mut connection = match options.connect().await {
        Ok(connection) => connection,
        Err(error) => return failed(error).map_or(Ok(()), Err),
    };
    let outcome = write_and_roll_back(&mut connection).await.map_err(failed);
    // Dropping it would close it too, but without waiting.
    let _ = connection.close().await;
    match outcome {
        Ok(()) | Err(None) => Ok(()),
        Err(Some(error)) => Err(error),
    }
}

/// A write that changes nothing: set `user_version` to what it is, then roll back. `BEGIN
/// IMMEDIATE` alone would not do: on a read-only database SQLite quietly begins a read
/// transaction instead.
async fn write_and_roll_back(connection: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    use sqlx::Row as _;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await?;
    let version: i64 = sqlx::query("PRAGMA user_version")
        .fetch_one(&mut *connection)
        .await?
        .try_get(0)?;
    // A PRAGMA takes no bound parameter; `version` is an integer read just now.
    let written = sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA user_version = {version}"
    )))
    .execute(&mut *connection)
    .await;
    sqlx::query("ROLLBACK").execute(&mut *connection).await?;
    written.map(drop)
}

const SQLITE_BUSY: i32 = 5;

/// SQLite's primary result code of `error`, if it is a SQLite error.
fn sqlite_code(error: &sqlx::Error) -> Option<i32> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    let code: i32 = database.code()?.parse().ok()?;
    Some(code & 0xff)
}

/// Refuse to write when the SQLite file this pool opened is no longer the file at its path:
/// deleted or replaced while the server runs. The pool's open handles would keep writing
/// into the old file, and every acknowledged write would be lost at the next start.
/// Call it before beginning a write transaction. Cost: one uncontended mutex and one
/// `stat(2)` on SQLite (a microsecond or two), nothing on PostgreSQL. Fails with
/// [`AppError::Unavailable`] (`SERVICE_UNAVAILABLE`).
pub fn writable(db: &DatabaseConnection) -> Result<()> {
    match sqlite_file_problem(db) {
        None => Ok(()),
        Some(problem) => {
            tracing::warn!(
                problem,
                "write refused: the SQLite file changed under the server"
            );
            Err(file_changed(problem))
        }
    }
}

/// What happened to the file a SQLite pool opened, if anything.
fn sqlite_file_problem(db: &DatabaseConnection) -> Option<&'static str> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    // None: in memory, or not opened through `connect`; nothing to compare with.
    let opened = sqlite_files().get(path).copied()?;
    match FileIdentity::of(path) {
        Ok(current) if current == opened => None,
        Ok(_) => Some("was replaced by another file"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Some("was deleted"),
        Err(_) => Some("cannot be reached"),
    }
}

fn file_changed(problem: &str) -> AppError {
    AppError::Unavailable(format!(
        "the database file {problem} while the server was running; writes are refused so \
         that none is lost (restart the server once the right file is in place)"
    ))
}

/// Which file a path names: device and inode, as `stat(2)` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    fn of(path: &Path) -> std::io::Result<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)?;
        Ok(FileIdentity {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }
}

/// The file each SQLite pool opened, by the path in its options. Process-wide so that
/// [`writable`] needs nothing but the connection, which every write path already holds.
/// A later `connect` to the same path records the file it finds then.
fn sqlite_files() -> std::sync::MutexGuard<'static, HashMap<PathBuf, FileIdentity>> {
    static FILES: LazyLock<Mutex<HashMap<PathBuf, FileIdentity>>> = LazyLock::new(Default::default);
    FILES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Note which file a freshly opened SQLite pool uses, for [`writable`].
fn remember_sqlite_file(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    // In-memory databases have no file to stat: nothing to watch.
    if let Ok(identity) = FileIdentity::of(path) {
        sqlite_files().insert(path.to_owned(), identity);
    }
}
