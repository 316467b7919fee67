//! The command line (API.md, "Process"): `serve`, `migrate`, `token`, `schema`, `seed`.

use std::io::Write;
use std::time::Duration;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::app::App;
use crate::auth::jwt::parse_ttl;
use crate::auth::{JwtKeys, Role, UNMASK_TAX_ID_PERMISSION};
use crate::config::Settings;
use crate::error::{AppError, Result};
use crate::metrics::Metrics;
use crate::{db, schema, seed};

/// Kith: a GraphQL server for the customer / account / contact graph.
#[derive(Debug, Parser)]
#[command(name = "kith", version, about)]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve GraphQL (the default).
    Serve {
        /// Load a small demo data set when the database is empty, and print a first query.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print a signed JWT for the configured `JWT_SECRET`.
    Token {
        /// Role to grant (repeatable): ADMIN, SERVICE, CUSTOMER, DELEGATE, INTERMEDIARY, AGENCY.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// Customer the caller acts for (repeatable).
        #[arg(long = "customer")]
        customers: Vec<Uuid>,
        /// Permission to grant (repeatable): `restunmasktaxid` (taxId and bank details unmasked).
        #[arg(long = "permission", value_parser = parse_permission)]
        permissions: Vec<String>,
        /// Lifetime, e.g. 90s, 15m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: Duration,
        /// Subject (`sub`).
        #[arg(long = "sub", default_value = "kith-cli")]
        subject: String,
    },
    /// Print the GraphQL schema (SDL), identical to `schema.graphql`.
    Schema,
    /// Insert deterministic synthetic data (for demos and benchmarks).
    Seed {
        /// How many customers to create.
        #[arg(long)]
        customers: usize,
        /// Random seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// A role on the command line: any case is accepted here, and the token carries the
/// canonical spelling (tokens themselves must spell roles exactly).
fn parse_role(text: &str) -> std::result::Result<Role, String> {
    Role::parse(&text.to_ascii_uppercase()).ok_or_else(|| {
        format!("unknown role `{text}` (ADMIN, SERVICE, CUSTOMER, DELEGATE, INTERMEDIARY, AGENCY)")
    })
}

/// The permissions Kith checks: a token carrying any other would grant nothing, so a typo
/// on the command line is an error rather than a token that silently does less.
const PERMISSIONS: [&str; 1] = [UNMASK_TAX_ID_PERMISSION];

/// A permission on the command line, in any case; the token carries the canonical spelling.
fn parse_permission(text: &str) -> std::result::Result<String, String> {
    PERMISSIONS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(text.trim()))
        .map(|known| (*known).to_owned())
        .ok_or_else(|| {
            format!(
                "unknown permission `{text}` (known: {})",
                PERMISSIONS.join(", ")
            )
        })
}

/// Log to stderr in the configured format (`KITH_LOG_FORMAT`), `RUST_LOG` overriding the
/// default level, and export traces when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Keep the
/// guard until the process ends: dropping it sends the last spans.
pub fn init_tracing(cli: &Cli) -> crate::telemetry::Telemetry {
    crate::telemetry::init(cli.settings.log_format)
}

/// Run the chosen subcommand.
pub async fn run(cli: Cli) -> Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => {
            let (_, applied) = db::connect_reporting(
                &settings.database_url,
                1,
                settings.db_acquire_timeout,
                Default::default(),
            )
            .await?;
            if applied.is_empty() {
                println!("no pending migrations: the database is up to date");
            } else {
                println!("applied {} migration(s):", applied.len());
                for name in applied {
                    println!("  {name}");
                }
            }
            Ok(())
        }
        Command::Token {
            roles,
            customers,
            permissions,
            ttl,
            subject,
        } => {
            if settings.jwt_secret.is_none() {
                return Err(AppError::BadUserInput(
                    "JWT_SECRET is not set: `kith token` signs with the server's HS256 key".into(),
                ));
            }
            let keys = JwtKeys::from_settings(&settings, None)?;
            let customers = (!customers.is_empty()).then_some(customers);
            let claims = keys.claims(&subject, &roles, customers, permissions, ttl);
            println!("{}", keys.sign(&claims)?);
            Ok(())
        }
        Command::Schema => {
            print!("{}", schema::sdl());
            Ok(())
        }
        Command::Seed { customers, seed } => {
            let db = db::connect(
                &settings.database_url,
                4,
                settings.db_acquire_timeout,
                Default::default(),
            )
            .await?;
            refuse_a_second_seed(&db, seed).await?;
            let started = std::time::Instant::now();
            let counts = seed::seed(&db, customers, seed).await?;
            println!("{counts} in {:.1}s", started.elapsed().as_secs_f64());
            Ok(())
        }
    }
}

/// `kith seed` twice with one seed would insert the same customer numbers again and fail
/// on the database's UNIQUE constraint half-way through: say so before writing anything.
/// (The seed's first customer is numbered `C{seed}-0000000`.)
async fn refuse_a_second_seed(db: &sea_orm::DatabaseConnection, seed: u64) -> Result<()> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let first = format!("C{seed}-{:07}", 0);
    let seeded = entity::customer::Entity::find()
        .filter(entity::customer::Column::CustomerNumber.eq(first.as_str()))
        .count(db)
        .await?;
    if seeded > 0 {
        return Err(AppError::BadUserInput(format!(
            "this database was already seeded with --seed {seed} (customer {first} exists): \
             seed a fresh database, or pass another --seed to add different data"
        )));
    }
    Ok(())
}

async fn serve(settings: Settings, demo: bool) -> Result<()> {
    // Before the database is touched: a server that must not start should not migrate.
    App::check_settings(&settings)?;
    let metrics = std::sync::Arc::new(Metrics::default());
    let db = db::connect(
        &settings.database_url,
        settings.db_max_connections,
        settings.db_acquire_timeout,
        metrics.clone(),
    )
    .await?;
    if demo {
        match seed::load_demo(&db).await? {
            Some(counts) => tracing::info!(%counts, "demo data loaded"),
            None => tracing::info!("database not empty: demo data not loaded"),
        }
    }
    let app = App::build_with(settings, db, metrics).await?;
    let base = format!("http://{}", app.local_addr_display());
    tracing::info!("GraphiQL on {base}/  ·  GraphQL on {base}/graphql");
    if let Some(token) = app.dev_token() {
        tracing::warn!(
            "JWT_SECRET is not set: signing with a random key that dies with this process \
             (development only). ADMIN token below; GraphiQL already sends it."
        );
        // One write, errors ignored: a server must not die because nobody reads its stdout
        // (`println!` panics on a closed pipe).
        let banner = format!(
            "\nADMIN token (valid 12h):\n{token}\n\nTry:\n  curl -s {base}/graphql -H 'Authorization: Bearer {token}' \
             -H 'Content-Type: application/json' \
             -d '{{\"query\":\"{{ customers(page: {{pageSize: 3}}) {{ totalCount items {{ name accounts {{ name }} }} }} }}\"}}'\n\n"
        );
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(banner.as_bytes())
            .and_then(|()| stdout.flush());
    }
    app.run_until_stopped()
        .await
        .map_err(|error| AppError::internal_from("server error", error))
}
