//! Server settings: every knob of API.md's process table, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use clap::builder::BoolishValueParser;

/// Everything `kith` reads from its environment. Flags override variables.
#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// Database to use: `sqlite://FILE?mode=rwc` (embedded) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://kith.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Maximum connections in the database pool.
    #[arg(
        long,
        env = "KITH_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// HS256 signing key for bearer tokens. Unset in `serve`: a random per-process key is made.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// PEM public key (RSA or EC P-256) of an external issuer: RS256 / ES256 tokens are accepted.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE", global = true)]
    pub jwt_public_key_file: Option<PathBuf>,

    /// When set, a token's `iss` must equal it.
    #[arg(long, env = "JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// When set, a token's `aud` must contain it.
    #[arg(long, env = "JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// Return taxId and bankAccountDetails unmasked to every caller.
    #[arg(long, env = "KITH_UNMASK_TAX_ID", default_value_t = false, value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set, global = true)]
    pub unmask_tax_id: bool,

    /// Deepest selection a query may nest.
    #[arg(long, env = "KITH_MAX_DEPTH", default_value_t = 12, global = true)]
    pub max_depth: usize,

    /// Largest complexity (roughly, fields times list sizes) a query may have.
    #[arg(
        long,
        env = "KITH_MAX_COMPLEXITY",
        default_value_t = 20_000,
        global = true
    )]
    pub max_complexity: usize,

    /// Largest `pageSize` a paged list accepts.
    #[arg(long, env = "KITH_MAX_PAGE_SIZE", default_value_t = 100, global = true)]
    pub max_page_size: u64,

    /// Whether the schema can be introspected (GraphiQL's docs need it).
    #[arg(long, env = "KITH_INTROSPECTION", default_value_t = true, value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,

    /// Browser origins allowed to call the API (comma-separated, e.g.
    /// `https://app.example.com`), or `*` for any. Unset: no cross-origin access.
    #[arg(long, env = "KITH_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Address `serve` listens on.
    #[arg(
        long = "bind",
        env = "KITH_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,
}

impl Settings {
    /// Defaults for everything but the database: what tests and tools start from.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Settings {
            database_url: database_url.into(),
            db_max_connections: 16,
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            unmask_tax_id: false,
            max_depth: 12,
            max_complexity: 20_000,
            max_page_size: 100,
            introspection: true,
            cors_origins: Vec::new(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
        }
    }
}
