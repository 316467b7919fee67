//! `GET` and `POST /graphql`: read the body within its limit, authenticate, parse each
//! operation once, cost it before validation, shed load, execute within the request timeout,
//! and stamp the response with its tracking id.
//!
//! Everything async-graphql's extensions could do here happens before execution, on the parsed
//! document: the schema has no `Extension`, so no field pays for one.
//!
//! GraphQL over HTTP (<https://graphql.github.io/graphql-over-http/draft/>), as graphql-http's
//! audit checks it (`tests/conformance/`): the response's media type is negotiated from
//! `Accept` (`application/json` when it is missing or says `*/*`; 406 when it names neither
//! type); a POST must be `application/json` (415 otherwise); malformed parameters are 400. A
//! request error (the document does not parse or validate, or its variables do not coerce)
//! has no `data` entry and is 400 in `application/graphql-response+json`, 200 in
//! `application/json`, as the spec asks of each.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{BatchRequest, Request, Response as GqlResponse, ServerError, Variables};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::AppState;
use super::access::TrackingId;
use super::body::{self, BodyError, UnsupportedMediaType};
use super::codes::{coded, with_codes};
use super::guard::{Busy, LIGHT_COMPLEXITY};
use crate::auth::Principal;
use crate::batch;
use crate::cost::{self, Budget, CostError};
use crate::error::AppError;
use crate::graphql_context::Caller;
use crate::loaders::{LoaderContext, RowBudget};
use crate::schema;

/// Seconds a shed client is asked to wait before retrying.
const RETRY_AFTER_SECONDS: &str = "1";

/// The media type of a response, negotiated from the request's `Accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MediaType {
    /// `application/graphql-response+json`: HTTP statuses say what went wrong.
    GraphqlResponse,
    /// `application/json`: 200 for every well-formed request, whatever its GraphQL errors.
    Json,
}

impl MediaType {
    const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
    const JSON: &str = "application/json";

    fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => Self::GRAPHQL_RESPONSE,
            MediaType::Json => Self::JSON,
        }
    }

    /// The type `Accept` prefers; `None` when it accepts neither. No header, or a tie that a
    /// wildcard decides (`*/*`, `application/*`), is `application/json`, which every client
    /// understands; a tie between the two named outright goes to the newer type.
    fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
        let mut values = headers.get_all(header::ACCEPT).iter().peekable();
        if values.peek().is_none() {
            return Some(MediaType::Json);
        }
        // Per candidate: (specificity of the best matching range, its q); the most specific
        // range decides, as RFC 9110 §12.5.1 says.
        let mut graphql = (0u8, 0f32);
        let mut json = (0u8, 0f32);
        for range in values
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
        {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim();
            if essence.is_empty() {
                continue;
            }
            let q = parts
                .filter_map(|parameter| parameter.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, value)| value.trim().parse::<f32>().ok())
                .map_or(1.0, |q| q.clamp(0.0, 1.0));
            for (candidate, best) in [
                (Self::GRAPHQL_RESPONSE, &mut graphql),
                (Self::JSON, &mut json),
            ] {
                let specificity = Self::specificity(essence, candidate);
                if specificity > best.0 {
                    *best = (specificity, q);
                }
            }
        }
        if graphql.1 <= 0.0 && json.1 <= 0.0 {
            return None;
        }
        let graphql_wins = graphql.1 > json.1 || (graphql.1 == json.1 && graphql.0 == 3);
        Some(if graphql_wins {
            MediaType::GraphqlResponse
        } else {
            MediaType::Json
        })
    }

    /// How closely `range` names `media`: 3 exactly, 2 by `type/*`, 1 by `*/*`, 0 not at all.
    fn specificity(range: &str, media: &str) -> u8 {
        if range.eq_ignore_ascii_case(media) {
            return 3;
        }
        match range.split_once('/') {
            Some(("*", "*")) => 1,
            Some((kind, "*")) if media.split('/').next() == Some(&*kind.to_ascii_lowercase()) => 2,
            _ => 0,
        }
    }
}

/// A request refused before execution: its HTTP status and one GraphQL error.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    fn into_response(self, media: MediaType, tracking_id: TrackingId) -> Response {
        crate::metrics::record_error(self.code);
        let body = serde_json::json!({
            "errors": [{ "message": self.message, "extensions": { "code": self.code } }],
            "extensions": { "trackingId": tracking_id.to_string() },
        });
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, media.as_str())],
            body.to_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            StatusCode::METHOD_NOT_ALLOWED => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            _ => {}
        }
        response
    }
}

/// Serve one GraphQL request (or a batch).
pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // The access layer chose the tracking id (stored back into `x-request-id`), opened the
    // request's span with it, and puts it on the response's headers: only the body needs it here.
    let tracking_id = TrackingId::from_headers(&headers);
    let guard = state.guard.clone();
    let accept = MediaType::negotiate(&headers);
    // Refusals, even the 406 for an `Accept` that names neither type, are JSON.
    let media = accept.unwrap_or(MediaType::Json);
    let work = serve(state, method, uri, headers, body, accept, tracking_id);
    match tokio::time::timeout(guard.request_timeout, work).await {
        Ok(Ok(response)) => response,
        Ok(Err(refusal)) => refusal.into_response(media, tracking_id),
        Err(_) => {
            tracing::warn!(timeout = ?guard.request_timeout, "request timed out and was cancelled");
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                format!(
                    "the request ran longer than {:?} and was cancelled",
                    guard.request_timeout
                ),
            )
            .into_response(media, tracking_id)
        }
    }
}

async fn serve(
    state: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    accept: Option<MediaType>,
    tracking_id: TrackingId,
) -> Result<Response, Refusal> {
    let guard = &state.guard;
    // The body limit comes first: an oversized body is refused before any other work.
    let batch = read_batch(&method, &uri, &headers, body, guard.max_body_bytes).await?;
    let media = accept.ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "BAD_REQUEST",
            format!(
                "responses are `{}` or `{}`: the Accept header allows neither",
                MediaType::GRAPHQL_RESPONSE,
                MediaType::JSON
            ),
        )
    })?;
    let caller = authenticate(&state, &headers, tracking_id).map_err(|error| {
        tracing::info!(reason = %error, "rejected credentials");
        match error {
            AppError::BadUserInput(message) => {
                Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
            }
            other => Refusal::new(StatusCode::UNAUTHORIZED, other.code(), other.to_string()),
        }
    })?;
    crate::metrics::note_subject(
        caller
            .0
            .as_ref()
            .and_then(|principal| principal.subject.as_deref()),
    );
    let requests = match batch {
        BatchRequest::Single(request) => vec![request],
        BatchRequest::Batch(requests) => {
            if guard.max_batch == 0 {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "batched requests are disabled on this server",
                ));
            }
            if requests.len() > guard.max_batch {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "QUERY_TOO_COMPLEX",
                    format!(
                        "a batch of {} operations exceeds the limit of {}",
                        requests.len(),
                        guard.max_batch
                    ),
                ));
            }
            if requests.is_empty() {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "an empty batch has nothing to run",
                ));
            }
            return run_batch(&state, &method, caller, requests, tracking_id)
                .await
                .map(|outcomes| respond(media, outcomes, true));
        }
    };
    run_batch(&state, &method, caller, requests, tracking_id)
        .await
        .map(|outcomes| respond(media, outcomes, false))
}

/// One operation's result: executed by async-graphql, or written by the compiled read path
/// (`crate::read`) as the whole response object.
enum Outcome {
    Executed(GqlResponse),
    Written(Vec<u8>),
}

/// Parse, cost and execute every operation of a request; the limits apply to their sum.
async fn run_batch(
    state: &AppState,
    method: &Method,
    caller: Caller,
    requests: Vec<Request>,
    tracking_id: TrackingId,
) -> Result<Vec<Outcome>, Refusal> {
    let guard = &state.guard;
    let mut budget = Budget::new(guard.limits);
    let mut prepared = Vec::with_capacity(requests.len());
    let mut needs_database = false;
    for mut request in requests {
        if let Err(error) = state.persisted.resolve(&mut request) {
            let message = error.message();
            prepared.push(Err(coded(ServerError::new(message, None), error.code())));
            continue;
        }
        if let Err(error) = cost::check_text(&request.query, guard.limits.max_fields) {
            if let CostError::TooComplex(message) = error {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "QUERY_TOO_COMPLEX",
                    message,
                ));
            }
            let error = ServerError::new(error.to_string(), None);
            prepared.push(Err(coded(error, "GRAPHQL_PARSE_FAILED")));
            continue;
        }
        // Borrowed beside the parsed document, then put back for execution.
        let variables = std::mem::take(&mut request.variables);
        let operation_name = request.operation_name.take();
        let document = match request.parsed_query() {
            Ok(document) => document,
            Err(error) => {
                prepared.push(Err(coded(error, "GRAPHQL_PARSE_FAILED")));
                continue;
            }
        };
        match budget.charge(&guard.cost_model, document, &variables) {
            Ok(_) => {}
            Err(CostError::FragmentCycle(name)) => {
                prepared.push(Err(coded(
                    ServerError::new(format!("fragment `{name}` spreads itself"), None),
                    "GRAPHQL_VALIDATION_FAILED",
                )));
                continue;
            }
            Err(error) => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "QUERY_TOO_COMPLEX",
                    error.to_string(),
                ));
            }
        }
        if *method == Method::GET && cost::is_mutation(document, operation_name.as_deref()) {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_REQUEST",
                "mutations must be sent with POST: a GET must be safe to repeat",
            ));
        }
        if let Some(error) = uncoerced_variable(document, operation_name.as_deref(), &variables) {
            prepared.push(Err(error));
            continue;
        }
        needs_database |= cost::needs_database(document);
        request.variables = variables;
        request.operation_name = operation_name;
        crate::metrics::note_operation(request.operation_name.as_deref(), &request.query);
        prepared.push(Ok(request));
    }
    let lane = if budget.spent().complexity <= LIGHT_COMPLEXITY {
        &guard.light_lane
    } else {
        &guard.heavy_lane
    };
    let _turn = if needs_database {
        Some(lane.enter().await.map_err(|Busy| {
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "the server is busy; retry shortly",
            )
        })?)
    } else {
        None
    };
    let scope = caller
        .0
        .as_ref()
        .map(|principal| principal.scope.clone())
        .unwrap_or_default();
    let rows = Arc::new(RowBudget::new(guard.max_rows));
    let mut responses = Vec::with_capacity(prepared.len());
    for request in prepared {
        let response = match request {
            Ok(mut request) => {
                match compiled_read(state, &caller, &rows, &mut request, tracking_id).await {
                    Some(Ok(written)) => {
                        crate::metrics::record_executor(true);
                        responses.push(Outcome::Written(written));
                        continue;
                    }
                    Some(Err(invalid)) => GqlResponse::from_errors(invalid),
                    None => {
                        let (spawner, batches) = batch::batch_runner();
                        let request = schema::attach_loaders(
                            request.data(caller.clone()),
                            LoaderContext {
                                db: state.db.clone(),
                                scope: scope.clone(),
                                spawner,
                                rows: rows.clone(),
                            },
                        );
                        crate::metrics::record_executor(false);
                        batches.run_alongside(state.schema.execute(request)).await
                    }
                }
            }
            Err(error) => GqlResponse::from_errors(vec![error]),
        };
        let response = with_codes(response);
        super::access::count_errors(&response);
        responses.push(Outcome::Executed(response.extension(
            "trackingId",
            async_graphql::Value::String(tracking_id.to_string()),
        )));
    }
    Ok(responses)
}

/// Validate `request` and, when the compiled read path can run it, its whole response;
/// `Some(Err(..))` when it does not validate (async-graphql would refuse it the same way),
/// `None` when async-graphql must execute it.
async fn compiled_read(
    state: &AppState,
    caller: &Caller,
    rows: &RowBudget,
    request: &mut Request,
    tracking_id: TrackingId,
) -> Option<Result<Vec<u8>, Vec<ServerError>>> {
    let principal = caller.0.as_ref()?;
    if !state.settings.compiled_reads {
        return None;
    }
    let variables = std::mem::take(&mut request.variables);
    let operation_name = request.operation_name.take();
    let cx = crate::read::ReadContext::new(&state.db, principal, &state.settings, rows);
    let written = match request.parsed_query() {
        Ok(document) => {
            match crate::read::compile(&cx, document, operation_name.as_deref(), &variables) {
                None => None,
                Some(compiled) => {
                    match state
                        .schema
                        .validate(document, &variables, operation_name.as_deref())
                    {
                        Ok(()) => match compiled.run(&cx).await {
                            crate::read::Outcome::Written(data) => {
                                Some(Ok(with_tracking_id(data, tracking_id)))
                            }
                            crate::read::Outcome::Fallback => None,
                            crate::read::Outcome::Unavailable { error, field } => {
                                Some(Err(vec![unavailable(&error, field)]))
                            }
                        },
                        Err(errors) => Some(Err(errors)),
                    }
                }
            }
        }
        Err(_) => None,
    };
    request.variables = variables;
    request.operation_name = operation_name;
    written
}

/// The error of a root field the database could not serve, as its resolver would report it.
fn unavailable(error: &AppError, field: String) -> ServerError {
    use async_graphql::ErrorExtensions;
    let extended = error.extend();
    let mut server_error = ServerError::new(extended.message, None);
    server_error.extensions = extended.extensions;
    server_error.path = vec![async_graphql::PathSegment::Field(field)];
    server_error
}

/// Close a response the compiled read path opened (`{"data":…`) with its tracking id:
/// `{"data":…,"extensions":{"trackingId":…}}`, written in place rather than copied into a
/// new buffer (the copy was 2% of Kith's CPU on a 280 KB page).
fn with_tracking_id(mut body: Vec<u8>, tracking_id: TrackingId) -> Vec<u8> {
    body.extend_from_slice(b",\"extensions\":{\"trackingId\":");
    // A tracking id is a JSON string that needs no escaping, but quote it properly anyway.
    let _ = serde_json::to_writer(&mut body, &tracking_id.to_string());
    body.extend_from_slice(b"}}");
    body
}

/// The request's operations: from the query string of a GET, or a POST's JSON body read no
/// further than the body limit.
async fn read_batch(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    max_body_bytes: usize,
) -> Result<BatchRequest, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body exceeds the limit of {max_body_bytes} bytes"),
        )
    };
    if *method == Method::GET {
        return body::parse_get(uri)
            .map(BatchRequest::Single)
            .map_err(|message| Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    let bytes = body::read(body, declared, max_body_bytes)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => too_large(),
            BodyError::Unreadable => Refusal::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the request body could not be read",
            ),
        })?;
    // Read (within the limit) before it is refused, so that the client reads the answer
    // instead of a connection reset.
    body::check_media_type(headers).map_err(|UnsupportedMediaType(message)| {
        Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST", message)
    })?;
    body::parse_post(&bytes)
        .map_err(|message| Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message))
}

/// The spec's CoerceVariableValues for what async-graphql leaves to execution: a non-null
/// variable given null, or neither given nor defaulted, is a request error (400 in
/// `application/graphql-response+json`), not a field error after execution has begun. Values
/// of the wrong type are caught by async-graphql's validation.
fn uncoerced_variable(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<ServerError> {
    let mut operations = document.operations.iter();
    let operation = match operation_name {
        Some(wanted) => {
            operations.find(|(name, _)| name.is_some_and(|name| name.as_str() == wanted))
        }
        // Several operations and no name: async-graphql says so.
        None => operations
            .next()
            .filter(|_| document.operations.iter().count() == 1),
    }?;
    operation
        .1
        .node
        .variable_definitions
        .iter()
        .find_map(|definition| {
            let definition = &definition.node;
            if definition.var_type.node.nullable {
                return None;
            }
            let name = &definition.name.node;
            let message = match variables.get(name) {
                Some(async_graphql::Value::Null) => "must not be null",
                Some(_) => return None,
                None if definition.default_value.is_some() => return None,
                None => "was not provided",
            };
            let error = ServerError::new(
                format!(
                    "variable `${name}` of required type `{}` {message}",
                    definition.var_type.node
                ),
                Some(definition.name.pos),
            );
            Some(coded(error, "BAD_USER_INPUT"))
        })
}

/// No `Authorization` header: an anonymous caller, who may introspect but reads no data.
/// A header that is present must carry one valid bearer token; two headers are ambiguous.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    tracking_id: TrackingId,
) -> Result<Caller, AppError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(Caller(None));
    };
    if values.next().is_some() {
        return Err(AppError::BadUserInput(
            "send one Authorization header, not several".into(),
        ));
    }
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    let claims = state.keys.verify(token)?;
    let mut principal = Principal::from_claims(claims);
    principal.tracking_id = Some(tracking_id.to_string());
    tracing::debug!(subject = ?principal.subject, "authenticated");
    Ok(Caller(Some(principal)))
}

/// The HTTP response: 503 when the database was unavailable; a single request error 400 in
/// `application/graphql-response+json`; else 200 (a batch has no one status for its parts).
fn respond(media: MediaType, outcomes: Vec<Outcome>, batch: bool) -> Response {
    let executed = || {
        outcomes.iter().filter_map(|outcome| match outcome {
            Outcome::Executed(response) => Some(response),
            Outcome::Written(_) => None,
        })
    };
    let unavailable = executed().any(is_unavailable);
    let request_error = !batch && executed().any(is_request_error);
    let mut body = Vec::new();
    if batch {
        body.push(b'[');
    }
    for (index, outcome) in outcomes.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        match outcome {
            Outcome::Written(written) => body.extend_from_slice(written),
            Outcome::Executed(response) => {
                if let Err(error) = serde_json::to_writer(&mut body, &Outgoing(response)) {
                    tracing::error!(%error, "cannot serialise a response");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
    }
    if batch {
        body.push(b']');
    }
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if request_error && media == MediaType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut http = (status, [(header::CONTENT_TYPE, media.as_str())], body).into_response();
    if unavailable {
        http.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    http
}

/// An error raised before execution began (parsing, validation, variable coercion): no data,
/// and no error with a path, which every error of a resolver has.
fn is_request_error(response: &GqlResponse) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// One response as sent: async-graphql's fields, but no `data` entry after a request error
/// (GraphQL spec §7.1.2: "If an error was raised before execution begins, the data entry
/// should not be present").
struct Outgoing<'a>(&'a GqlResponse);

impl Serialize for Outgoing<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let response = self.0;
        let mut map = serializer.serialize_map(None)?;
        if !is_request_error(response) {
            map.serialize_entry("data", &response.data)?;
        }
        if !response.extensions.is_empty() {
            map.serialize_entry("extensions", &response.extensions)?;
        }
        if !response.errors.is_empty() {
            map.serialize_entry("errors", &response.errors)?;
        }
        map.end()
    }
}

fn is_unavailable(response: &GqlResponse) -> bool {
    response.errors.iter().any(|error| {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .is_some_and(|code| {
                matches!(code, async_graphql::Value::String(code) if code == "SERVICE_UNAVAILABLE")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(accept: &[&str]) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(header::ACCEPT, value.parse().expect("a header value"));
        }
        MediaType::negotiate(&headers)
    }

    #[test]
    fn accept_decides_the_media_type() {
        use MediaType::{GraphqlResponse, Json};
        for (accept, expected) in [
            (&[][..], Some(Json)),
            (&["application/json"], Some(Json)),
            (&["*/*"], Some(Json)),
            (&["application/*"], Some(Json)),
            (
                &["application/graphql-response+json"],
                Some(GraphqlResponse),
            ),
            (
                &["Application/GraphQL-Response+JSON; charset=utf-8"],
                Some(GraphqlResponse),
            ),
            (
                &["application/graphql-response+json, application/json"],
                Some(GraphqlResponse),
            ),
            (
                &["application/json, application/graphql-response+json"],
                Some(GraphqlResponse),
            ),
            (
                &["application/graphql-response+json;q=0.5, application/json"],
                Some(Json),
            ),
            (
                &[
                    "application/json;q=0.9",
                    "application/graphql-response+json",
                ],
                Some(GraphqlResponse),
            ),
            (
                &["application/graphql-response+json, */*;q=0.1"],
                Some(GraphqlResponse),
            ),
            (&["text/html,application/xhtml+xml,*/*;q=0.8"], Some(Json)),
            (&["*/*, application/json;q=0"], Some(GraphqlResponse)),
            (&["text/html"], None),
            (&["application/json;q=0"], None),
            (&["application/xml, text/*"], None),
        ] {
            assert_eq!(negotiate(accept), expected, "{accept:?}");
        }
    }
}
