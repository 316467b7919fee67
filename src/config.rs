//! Server settings: every knob of API.md's process table, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection before it gets a 503
    /// (e.g. `3s`, `500ms`).
    #[arg(long, env = "KITH_DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = parse_duration, global = true)]
    pub db_acquire_timeout: Duration,

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

    /// Deepest selection a query may nest (introspection fields do not count).
    #[arg(long, env = "KITH_MAX_DEPTH", default_value_t = 12, value_parser = positive, global = true)]
    pub max_depth: usize,

    /// Most fields one request may select once fragments are expanded (summed over a batch).
    #[arg(long, env = "KITH_MAX_FIELDS", default_value_t = 1000, value_parser = positive, global = true)]
    pub max_fields: usize,

    /// Most operations in one batched request; 0 turns batching off.
    #[arg(long, env = "KITH_MAX_BATCH", default_value_t = 10, global = true)]
    pub max_batch: usize,

    /// Most rows the loaders of one request may read from the database.
    #[arg(long, env = "KITH_MAX_ROWS_PER_REQUEST", default_value_t = 50_000, value_parser = positive, global = true)]
    pub max_rows_per_request: usize,

    /// Largest request body, in bytes (413 beyond).
    #[arg(long, env = "KITH_MAX_BODY_BYTES", default_value_t = 1 << 20, value_parser = positive, global = true)]
    pub max_body_bytes: usize,

    /// How long one request may run before it is cancelled with a 503 (e.g. `30s`).
    #[arg(long, env = "KITH_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Most concurrent client connections; unset: derived from the file-descriptor limit.
    #[arg(long, env = "KITH_MAX_CONNECTIONS", value_parser = positive, global = true)]
    pub max_connections: Option<usize>,

    /// Most subscriptions one WebSocket connection may run at once.
    #[arg(long, env = "KITH_WS_MAX_SUBSCRIPTIONS", default_value_t = 50, value_parser = positive, global = true)]
    pub ws_max_subscriptions: usize,

    /// Most WebSocket connections open at once with one token.
    #[arg(long, env = "KITH_WS_MAX_CONNECTIONS_PER_TOKEN", default_value_t = 10, value_parser = positive, global = true)]
    pub ws_max_connections_per_token: usize,

    /// How often the server pings an idle WebSocket; a client that has sent nothing (not
    /// even a pong) for two of these is disconnected (e.g. `15s`).
    #[arg(long, env = "KITH_WS_PING_INTERVAL", default_value = "15s", value_parser = parse_duration, global = true)]
    pub ws_ping_interval: Duration,

    /// Largest complexity (roughly, fields times list sizes) a query may have.
    #[arg(
        long,
        env = "KITH_MAX_COMPLEXITY",
        default_value_t = 20_000,
        value_parser = positive,
        global = true
    )]
    pub max_complexity: usize,

    /// Largest `pageSize` a paged list accepts.
    #[arg(long, env = "KITH_MAX_PAGE_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_page_size: u64,

    /// Whether the schema can be introspected (GraphiQL's docs need it).
    #[arg(long, env = "KITH_INTROSPECTION", default_value_t = true, value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,

    /// Whether plain reads run on the compiled read path (`src/read/`), which writes JSON
    /// straight from rows; `false` sends every operation through async-graphql's executor.
    /// Both give the same responses; this is a switch for operators to compare or to step
    /// around a fault.
    #[arg(long, env = "KITH_COMPILED_READS", default_value_t = true, value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set, global = true)]
    pub compiled_reads: bool,

    /// Whether, on PostgreSQL, a compiled read whose objects hold nested lists has PostgreSQL
    /// write those objects' JSON, lists and all, in one statement (`src/read/sql.rs`) instead
    /// of one statement per relation; `false` keeps one statement per relation. Both give
    /// the same responses; this is a switch to compare them or to step around a fault.
    #[arg(long, env = "KITH_POSTGRES_JSON_READS", default_value_t = true, value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set, global = true)]
    pub postgres_json_reads: bool,

    /// A JSON manifest `{hash: document}` (GraphQL Code Generator's or the Relay compiler's
    /// persisted documents): when set, only those documents run.
    #[arg(long, env = "KITH_TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,

    /// Browser origins allowed to call the API (comma-separated, e.g.
    /// `https://app.example.com`), or `*` for any. Unset: no cross-origin access.
    #[arg(long, env = "KITH_CORS_ORIGINS", value_delimiter = ',', value_parser = cors_origin, global = true)]
    pub cors_origins: Vec<String>,

    /// Request headers a cross-origin browser app may send (comma-separated).
    #[arg(
        long,
        env = "KITH_CORS_HEADERS",
        value_delimiter = ',',
        value_parser = header_name,
        default_values = DEFAULT_CORS_HEADERS,
        global = true
    )]
    pub cors_headers: Vec<String>,

    /// Address `serve` listens on: `IP:PORT` or `HOST:PORT` (e.g. `localhost:8080`).
    #[arg(
        long = "bind",
        env = "KITH_BIND",
        default_value = "127.0.0.1:8080",
        value_parser = resolve_bind,
        global = true
    )]
    pub bind: SocketAddr,

    /// Log format on stderr: `text` (coloured only on a terminal) or `json` (one object a
    /// line).
    #[arg(long, env = "KITH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How log lines are written (`KITH_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object a line, its fields at the top level.
    Json,
}

impl Settings {
    /// Defaults for everything but the database: what tests and tools start from.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Settings {
            database_url: database_url.into(),
            db_max_connections: 16,
            db_acquire_timeout: Duration::from_secs(3),
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            unmask_tax_id: false,
            compiled_reads: true,
            postgres_json_reads: true,
            trusted_documents: None,
            max_depth: 12,
            max_fields: 1000,
            max_batch: 10,
            max_rows_per_request: 50_000,
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            max_connections: None,
            ws_max_subscriptions: 50,
            ws_max_connections_per_token: 10,
            ws_ping_interval: Duration::from_secs(15),
            max_complexity: 20_000,
            max_page_size: 100,
            introspection: true,
            cors_origins: Vec::new(),
            cors_headers: DEFAULT_CORS_HEADERS.map(String::from).to_vec(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
        }
    }
}

/// A whole number of at least 1: a limit of 0 would refuse everything, so it is a typo.
fn positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(value) => Ok(value),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

// CORS and the listening address (issue 12): checked when parsed, so a typo refuses to start.

/// The request headers browser apps send by default: credentials and JSON, plus request
/// correlation (`x-request-id`, W3C `traceparent`) and the client identification Apollo
/// clients add.
pub const DEFAULT_CORS_HEADERS: [&str; 6] = [
    "authorization",
    "content-type",
    "x-request-id",
    "traceparent",
    "apollographql-client-name",
    "apollographql-client-version",
];

/// One entry of `KITH_CORS_ORIGINS`: `*`, or an origin as browsers send it in `Origin`
/// (`scheme://host[:port]`, no path), normalised to that form: browsers lowercase the scheme
/// and host and leave out a default port, and the comparison is byte for byte.
fn cors_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == "*" {
        return Ok(text.to_owned());
    }
    let refuse = |why: &str| {
        Err(format!(
            "`{text}` is not an origin: {why} (expected `scheme://host[:port]`, e.g. \
             `https://app.example.com`, or `*`)"
        ))
    };
    if text.is_empty() {
        return refuse("it is empty (a stray comma?)");
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return refuse("no scheme");
    };
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return refuse("the scheme is not valid");
    }
    if rest.is_empty() {
        return refuse("no host");
    }
    if rest.contains(['/', '?', '#']) {
        return refuse("an origin has no path, query or fragment (not even a trailing `/`)");
    }
    if rest.contains('@') {
        return refuse("an origin has no user name or password");
    }
    let authority: axum::http::uri::Authority = match rest.parse() {
        Ok(authority) => authority,
        Err(_) => return refuse("the host or port is not valid"),
    };
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return refuse("no host");
    }
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    // What follows the host: nothing, or `:PORT`.
    let port = match &authority.as_str()[authority.host().len()..] {
        "" => None,
        text => match text.strip_prefix(':').map(str::parse::<u16>) {
            Some(Ok(port)) => Some(port),
            _ => return refuse("the port is not a number from 0 to 65535"),
        },
    };
    match port {
        Some(port) if Some(port) != default_port => Ok(format!("{scheme}://{host}:{port}")),
        _ => Ok(format!("{scheme}://{host}")),
    }
}

/// One entry of `KITH_CORS_HEADERS`: a header name, lowercased as HTTP/2 and the
/// `Access-Control-Request-Headers` of browsers spell it.
fn header_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    match axum::http::HeaderName::from_bytes(name.as_bytes()) {
        Ok(_) => Ok(name),
        Err(_) => Err(format!("`{text}` is not a header name")),
    }
}

/// `KITH_BIND`: an `IP:PORT`, or a `HOST:PORT` resolved now. Of several addresses (`localhost`
/// is often both `::1` and `127.0.0.1`) the first IPv4 one is taken, the one an `http://HOST`
/// URL reaches on every client.
fn resolve_bind(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    if text
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        return Err(format!(
            "`{text}` is not HOST:PORT (e.g. 127.0.0.1:8080, localhost:8080 or [::1]:8080)"
        ));
    }
    let addresses: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(text)
        .map_err(|error| format!("cannot resolve `{text}`: {error}"))?
        .collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| format!("`{text}` resolves to no address"))
}

/// A duration such as `500ms`, `30s`, `15m`, `1h`, `7d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 500ms, 30s, 15m, 1h or 7d"))?;
    let millis: u64 = match unit {
        "ms" => 1,
        "s" | "" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}` (use ms, s, m, h or d)"
            ));
        }
    };
    if amount == 0 {
        return Err("a duration must be positive".into());
    }
    amount
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn origins_are_checked_and_normalised() {
        assert_eq!(cors_origin("*"), Ok("*".into()));
        assert_eq!(
            cors_origin(" https://App.Example.com "),
            Ok("https://app.example.com".into())
        );
        assert_eq!(
            cors_origin("https://app.example.com:443"),
            Ok("https://app.example.com".into())
        );
        assert_eq!(
            cors_origin("http://localhost:3000"),
            Ok("http://localhost:3000".into())
        );
        assert_eq!(
            cors_origin("http://[::1]:3000"),
            Ok("http://[::1]:3000".into())
        );
        for bad in [
            "",
            "app.example.com",
            "https://",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://user@app.example.com",
            "https://app.example.com:99999",
            "https://app.example.com:",
            "https://app example.com",
            "1http://app.example.com",
        ] {
            assert!(cors_origin(bad).is_err(), "{bad:?} is not an origin");
        }
    }

    #[test]
    fn bind_addresses_resolve_host_names() {
        assert_eq!(
            resolve_bind("127.0.0.1:0"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 0)))
        );
        let local = resolve_bind("localhost:8080").expect("localhost resolves");
        assert!(local.ip().is_loopback());
        assert_eq!(local.port(), 8080);
        assert!(resolve_bind("localhost").is_err(), "a port is required");
        assert!(resolve_bind("localhost:http").is_err());
    }

    #[test]
    fn limits_must_be_positive() {
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").is_err());
        assert!(positive("-1").is_err());
    }
}
