//! Where logs and traces go: log lines on stderr, as text or JSON (`KITH_LOG_FORMAT`), and,
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, OpenTelemetry traces over OTLP/HTTP (protobuf):
//! one span per request, named after its GraphQL operation, with a child span per SQL
//! statement, continuing the caller's W3C `traceparent`.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;

/// The levels logged when `RUST_LOG` is unset: Kith's own at INFO (one access line per
/// request under the `kith::access` target), the database libraries only when they warn.
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// The spans exported as traces, whatever `RUST_LOG` says of log lines: Kith's request and
/// GraphQL spans (SQL statements are exported by `db` directly, timed by the driver).
const TRACE_FILTER: &str = "warn,kith=info";

/// The variable that turns tracing on (the exporter reads it, and its `_TRACES_` variant).
const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Keeps the trace exporter alive; dropping it sends the spans still buffered.
#[must_use = "dropping the guard shuts the trace exporter down"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("kith: sending the last traces failed: {error}");
        }
    }
}

/// Log to stderr in `format`; `RUST_LOG` overrides the default levels. Text is coloured only
/// when stderr is a terminal (and `NO_COLOR` is unset), so files and pipes get no ANSI codes.
/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported over OTLP/HTTP.
pub fn init(format: LogFormat) -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Text => fmt.with_ansi(colour()).boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    }
    .with_filter(filter);
    let (provider, problem) = match tracer_provider() {
        Ok(provider) => (provider, None),
        Err(problem) => (None, Some(problem)),
    };
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("kith"))
            .with_filter(EnvFilter::new(TRACE_FILTER))
    });
    // A second initialisation (tests in one process) keeps the first subscriber.
    let _ = Registry::default().with(logs).with(traces).try_init();
    if let Some(problem) = problem {
        tracing::error!("{OTLP_ENDPOINT} is set but traces cannot be exported: {problem}");
    }
    if let Some(provider) = &provider {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracing::info!("exporting traces over OTLP/HTTP");
    }
    Telemetry { provider }
}

/// The OTLP/HTTP tracer provider, when an endpoint is configured.
fn tracer_provider() -> Result<Option<SdkTracerProvider>, String> {
    let configured = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if !configured(OTLP_ENDPOINT) && !configured("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Ok(None);
    }
    // The exporter is built without TLS (no second TLS stack for one client): traces go to a
    // collector or agent next to the server, which forwards them over TLS if it must.
    let https = [OTLP_ENDPOINT, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .filter_map(std::env::var_os)
        .any(|endpoint| endpoint.to_string_lossy().starts_with("https:"));
    if https {
        return Err(
            "https endpoints are not supported: send traces to a local collector \
                    over http (e.g. http://127.0.0.1:4318)"
                .into(),
        );
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|error| error.to_string())?;
    let mut resource = Resource::builder();
    if !configured("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name("kith");
    }
    Ok(Some(
        SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build(),
    ))
}

fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
