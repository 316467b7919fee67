//! Every request's tracking id, its metrics and its access-log line.
//!
//! The tracking id is chosen here, before routing: a valid incoming `x-request-id`, or a new
//! UUID. It replaces the request's `x-request-id` header, so the `/graphql` handler (which
//! reads it from there, see [`TrackingId::from_headers`]) stamps its response and its log
//! lines with the same id; every other response gets the header here.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

use crate::metrics::{self, Metrics};

/// Header carrying the tracking id of a request and its response.
pub(super) const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest incoming `x-request-id` accepted as a tracking id.
const MAX_TRACKING_ID_LEN: usize = 128;

/// The id that ties a response to its log lines: an incoming `x-request-id` of 1 to 128
/// characters from `A-Z a-z 0-9 - _ . :` (a UUID, a ULID, a hex id from nginx or a load
/// balancer all qualify; nothing that could forge a log line or a header does), or a new
/// UUID. Kept inline, so it is `Copy` like the `Uuid` it replaces.
#[derive(Clone, Copy)]
pub(super) struct TrackingId {
    len: u8,
    bytes: [u8; MAX_TRACKING_ID_LEN],
}

impl TrackingId {
    /// The request's `x-request-id` if it is a valid tracking id, else a new UUID.
    pub(super) fn from_headers(headers: &HeaderMap) -> TrackingId {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| TrackingId::parse(value.as_bytes()))
            .unwrap_or_else(|| TrackingId::inline(Uuid::new_v4().to_string().as_bytes()))
    }

    fn parse(text: &[u8]) -> Option<TrackingId> {
        let valid = (1..=MAX_TRACKING_ID_LEN).contains(&text.len())
            && text
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        valid.then(|| TrackingId::inline(text))
    }

    /// `text`, already valid.
    fn inline(text: &[u8]) -> TrackingId {
        let len = text.len().min(MAX_TRACKING_ID_LEN);
        let mut bytes = [0; MAX_TRACKING_ID_LEN];
        bytes[..len].copy_from_slice(&text[..len]);
        TrackingId {
            len: u8::try_from(len).unwrap_or(u8::MAX),
            bytes,
        }
    }

    /// The id as text.
    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// The id as a header value.
    pub(super) fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(self.as_str()).ok()
    }
}

impl fmt::Display for TrackingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TrackingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Give the request its tracking id, run it inside a span carrying that id, count and time
/// it under its route template, and log one line for it (target `kith::access`, INFO).
pub(super) async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    crate::memory::note_request();
    let tracking_id = TrackingId::from_headers(request.headers());
    let header = tracking_id.header_value();
    if let Some(value) = header.clone() {
        request.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!("request", tracking_id = %tracking_id);
    if request.headers().contains_key("traceparent") {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&Headers(request.headers()))
        });
        let _ = span.set_parent(parent);
    }
    let (mut response, notes) = metrics::in_request(metrics.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.record_request(method.as_str(), &route, status, elapsed);
    metrics.record_operations(&notes.operations, elapsed);
    if let Some(value) = header {
        response
            .headers_mut()
            .entry(REQUEST_ID_HEADER)
            .or_insert(value);
    }
    // A batch lists its operations' names, an anonymous one as an empty name.
    let operation_name = (!notes.operations.is_empty()).then(|| {
        notes
            .operations
            .iter()
            .map(|name| name.as_deref().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")
    });
    describe_span(
        &span,
        method.as_str(),
        &route,
        status,
        operation_name.as_deref(),
    );
    tracing::info!(
        target: "kith::access",
        method = %method,
        path = %path,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        operation_name = operation_name.as_deref(),
        tracking_id = %tracking_id,
        subject = notes.subject.as_deref(),
        "request"
    );
    response
}

/// Name the request's trace span after its route and GraphQL operation, and give it the
/// HTTP attributes of OpenTelemetry's conventions (no-ops when traces are off).
fn describe_span(
    span: &tracing::Span,
    method: &str,
    route: &str,
    status: u16,
    operation: Option<&str>,
) {
    let name = match operation {
        Some(operation) if !operation.is_empty() => format!("{method} {route} {operation}"),
        _ => format!("{method} {route}"),
    };
    // The tracing span has started by now: rename its OpenTelemetry span directly.
    span.context().span().update_name(name);
    span.set_attribute("http.request.method", method.to_owned());
    span.set_attribute("http.route", route.to_owned());
    span.set_attribute("http.response.status_code", i64::from(status));
    if let Some(operation) = operation {
        span.set_attribute("graphql.operation.name", operation.to_owned());
    }
}

/// Request headers as the W3C trace-context propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// Count a GraphQL response's errors by `extensions.code` (`kith_graphql_errors_total`).
pub(super) fn count_errors(response: &async_graphql::Response) {
    for error in &response.errors {
        let code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"));
        if let Some(async_graphql::Value::String(code)) = code {
            metrics::record_error(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn a_valid_request_id_is_kept_as_sent() {
        for id in [
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "5d41402abc4b2a76b9719d911017c592",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "req_42.a:b",
            &"x".repeat(128),
        ] {
            assert_eq!(TrackingId::from_headers(&with_header(id)).as_str(), id);
        }
    }

    #[test]
    fn an_invalid_request_id_gets_a_new_uuid() {
        for id in ["", "has space", "quote\"d", "semi;colon", &"x".repeat(129)] {
            let tracking = TrackingId::from_headers(&with_header(id));
            assert!(Uuid::parse_str(tracking.as_str()).is_ok(), "{id:?}");
        }
        let fresh = TrackingId::from_headers(&HeaderMap::new());
        assert!(Uuid::parse_str(fresh.as_str()).is_ok());
    }
}
