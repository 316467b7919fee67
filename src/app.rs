//! Building and running the server: `App::build` checks the keys and binds,
//! `run_until_stopped` serves until SIGINT or SIGTERM and then drains in-flight requests.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::jwt::{check_secret, random_secret};
use crate::auth::{JwtKeys, Role};
use crate::config::Settings;
use crate::db;
use crate::error::{AppError, Result};
use crate::http::server::{self, HEADER_READ_TIMEOUT, ServerLimits};
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::schema;

/// Lifetime of the ADMIN token printed by a development server.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    cors: tower_http::cors::CorsLayer,
    state: AppState,
    dev_token: Option<String>,
    limits: ServerLimits,
}

impl App {
    /// Connect (applying migrations), build the schema and bind the listener.
    ///
    /// Without `JWT_SECRET` or `JWT_PUBLIC_KEY_FILE` the server makes up a random signing key
    /// and an ADMIN token for it (see [`App::dev_token`]): convenient in development, useless
    /// to anyone else, gone at restart. Only on a loopback bind: see [`App::check_settings`].
    pub async fn build(settings: Settings) -> Result<App> {
        let metrics = Arc::new(Metrics::default());
        let db = db::connect(
            &settings.database_url,
            settings.db_max_connections,
            settings.db_acquire_timeout,
            metrics.clone(),
        )
        .await?;
        Self::build_with(settings, db, metrics).await
    }

    /// As [`App::build`], over an open connection whose statements `metrics` counts.
    pub async fn build_with(
        settings: Settings,
        db: DatabaseConnection,
        metrics: Arc<Metrics>,
    ) -> Result<App> {
        Self::check_settings(&settings)?;
        let development = settings.jwt_secret.is_none() && settings.jwt_public_key_file.is_none();
        let dev_secret = development.then(random_secret);
        let keys = JwtKeys::from_settings(&settings, dev_secret.as_deref())?;
        let dev_token = match dev_secret {
            Some(_) => {
                let claims =
                    keys.claims("kith-dev", &[Role::Admin], None, Vec::new(), DEV_TOKEN_TTL);
                Some(keys.sign(&claims)?)
            }
            None => None,
        };
        let listener = TcpListener::bind(settings.bind).await.map_err(|error| {
            AppError::internal_from(format!("cannot bind {}", settings.bind), error)
        })?;
        let max_connections = max_connections(&settings);
        let limits = ServerLimits {
            max_connections,
            // Time for a request that started just before the signal to finish or hit its own
            // timeout, and for its response to be written.
            drain_timeout: settings.request_timeout + HEADER_READ_TIMEOUT,
        };
        let cors = http::cors(&settings);
        let settings = Arc::new(settings);
        let state = AppState {
            schema: schema::build(
                settings.clone(),
                db.clone(),
                Arc::new(crate::history::feed::Feed::start(&db).await),
            ),
            guard: Arc::new(http::RequestGuard::new(&settings, &schema::sdl())),
            persisted: Arc::new(http::persisted::Persisted::new(
                settings.trusted_documents.as_deref(),
            )?),
            settings: settings.clone(),
            db,
            keys: Arc::new(keys),
            metrics,
            ws_connections: Arc::default(),
            // An upgraded connection leaves the accept loop's count: WebSockets have their own.
            ws_slots: Arc::new(tokio::sync::Semaphore::new(max_connections)),
            playground_token: dev_token.clone(),
        };
        Ok(App {
            listener,
            cors,
            state,
            dev_token,
            limits,
        })
    }

    /// Refuse settings the server must not start with: a `JWT_SECRET` shorter than 32 bytes
    /// (empty included), or no key at all on a bind other than loopback, where the development
    /// mode would hand an ADMIN token to whoever asks for `GET /`.
    pub fn check_settings(settings: &Settings) -> Result<()> {
        if let Some(secret) = &settings.jwt_secret {
            return check_secret(secret);
        }
        if settings.jwt_public_key_file.is_none()
            && !settings.bind.ip().to_canonical().is_loopback()
        {
            return Err(AppError::internal(format!(
                "neither JWT_SECRET nor JWT_PUBLIC_KEY_FILE is set, and {} is not a loopback \
                 address: the development mode (a random key and a printed ADMIN token) only \
                 runs on loopback. Set JWT_SECRET (at least 32 bytes, e.g. `openssl rand -hex \
                 32`) or JWT_PUBLIC_KEY_FILE",
                settings.bind
            )));
        }
        Ok(())
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// `host:port` as bound, for messages.
    pub fn local_addr_display(&self) -> String {
        self.listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// The ADMIN token of a development server that made up its own key.
    pub fn dev_token(&self) -> Option<&str> {
        self.dev_token.as_deref()
    }

    /// Serve until SIGINT or SIGTERM, then finish in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serve until `shutdown` completes, then finish in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let db = self.state.db.clone();
        let router = http::router(self.state, self.cors);
        // Give memory back two seconds into a pause (src/memory.rs).
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        let idle = tokio::spawn(crate::memory::watch_idle(Duration::from_secs(2), workers));
        let served = server::serve(self.listener, router, self.limits, shutdown).await;
        idle.abort();
        served?;
        if let Err(error) = db.close().await {
            tracing::warn!(%error, "closing the database pool failed");
        }
        Ok(())
    }
}

/// `KITH_MAX_CONNECTIONS`, or the default derived from the open-file limit.
fn max_connections(settings: &Settings) -> usize {
    if let Some(cap) = settings.max_connections {
        return cap;
    }
    let (cap, limit) = server::default_max_connections(settings.db_max_connections);
    match limit {
        Some(limit) => tracing::info!(
            max_connections = cap,
            open_file_limit = limit,
            "connection cap derived from the open-file limit (set KITH_MAX_CONNECTIONS to change)"
        ),
        None => tracing::info!(
            max_connections = cap,
            "open-file limit unknown or unlimited: default connection cap"
        ),
    }
    cap
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
