//! `GET` and `POST /graphql`: read the body within its limit, authenticate, parse each
//! operation once, cost it before validation, shed load, execute within the request timeout,
//! and stamp the response with its tracking id.
//!
//! Everything async-graphql's extensions could do here happens before execution, on the parsed
//! document: the schema has no `Extension`, so no field pays for one.

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Request, Response as GqlResponse, ServerError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use uuid::Uuid;

use super::AppState;
use super::body::{self, BodyError};
use super::guard::{Busy, LIGHT_COMPLEXITY};
use crate::auth::Principal;
use crate::batch;
use crate::cost::{self, Budget, CostError};
use crate::error::AppError;
use crate::graphql_context::Caller;
use crate::loaders::{LoaderContext, RowBudget};
use crate::schema;

/// Header carrying the tracking id of a response.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// Seconds a shed client is asked to wait before retrying.
const RETRY_AFTER_SECONDS: &str = "1";

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

    fn into_response(self, tracking_id: Uuid) -> Response {
        let body = serde_json::json!({
            "errors": [{ "message": self.message, "extensions": { "code": self.code } }],
            "extensions": { "trackingId": tracking_id.to_string() },
        });
        let mut response = (self.status, axum::Json(body)).into_response();
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
        set_request_id(&mut response, tracking_id);
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
    let tracking_id = Uuid::new_v4();
    let span = tracing::info_span!("graphql", tracking_id = %tracking_id);
    let guard = state.guard.clone();
    let work = serve(state, method, uri, headers, body, tracking_id);
    match tokio::time::timeout(guard.request_timeout, work)
        .instrument(span)
        .await
    {
        Ok(Ok(response)) => {
            let mut response = response;
            set_request_id(&mut response, tracking_id);
            response
        }
        Ok(Err(refusal)) => refusal.into_response(tracking_id),
        Err(_) => {
            tracing::warn!(%tracking_id, timeout = ?guard.request_timeout, "request timed out and was cancelled");
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                format!(
                    "the request ran longer than {:?} and was cancelled",
                    guard.request_timeout
                ),
            )
            .into_response(tracking_id)
        }
    }
}

async fn serve(
    state: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    tracking_id: Uuid,
) -> Result<Response, Refusal> {
    let guard = &state.guard;
    // The body limit comes first: an oversized body is refused before any other work.
    let batch = read_batch(&method, &uri, &headers, body, guard.max_body_bytes).await?;
    let caller = authenticate(&state, &headers).map_err(|error| {
        tracing::info!(reason = %error, "rejected credentials");
        match error {
            AppError::BadUserInput(message) => {
                Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
            }
            other => Refusal::new(StatusCode::UNAUTHORIZED, other.code(), other.to_string()),
        }
    })?;
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
                .map(|responses| respond(&headers, BatchResponse::Batch(responses)));
        }
    };
    run_batch(&state, &method, caller, requests, tracking_id)
        .await
        .map(|mut responses| {
            let single = responses.pop().unwrap_or_default();
            respond(&headers, BatchResponse::Single(single))
        })
}

/// Parse, cost and execute every operation of a request; the limits apply to their sum.
async fn run_batch(
    state: &AppState,
    method: &Method,
    caller: Caller,
    requests: Vec<Request>,
    tracking_id: Uuid,
) -> Result<Vec<GqlResponse>, Refusal> {
    let guard = &state.guard;
    let mut budget = Budget::new(guard.limits);
    let mut prepared = Vec::with_capacity(requests.len());
    let mut needs_database = false;
    for mut request in requests {
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
        needs_database |= cost::needs_database(document);
        request.variables = variables;
        request.operation_name = operation_name;
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
            Ok(request) => {
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
                batches.run_alongside(state.schema.execute(request)).await
            }
            Err(error) => GqlResponse::from_errors(vec![error]),
        };
        responses.push(with_codes(response).extension(
            "trackingId",
            async_graphql::Value::String(tracking_id.to_string()),
        ));
    }
    Ok(responses)
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
        let query = uri.query().unwrap_or_default();
        return async_graphql::http::parse_query_string(query)
            .map(BatchRequest::Single)
            .map_err(|error| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    format!("invalid GraphQL GET parameters: {error}"),
                )
            });
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
    serde_json::from_slice::<BatchRequest>(&bytes).map_err(|error| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("the body is not a GraphQL request in JSON: {error}"),
        )
    })
}

/// No `Authorization` header: an anonymous caller, who may introspect but reads no data.
/// A header that is present must carry one valid bearer token; two headers are ambiguous.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, AppError> {
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
    let principal = Principal::from_claims(claims);
    tracing::debug!(subject = ?principal.subject, "authenticated");
    Ok(Caller(Some(principal)))
}

fn coded(mut error: ServerError, code: &str) -> ServerError {
    ensure_code(&mut error, code);
    error
}

fn ensure_code(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

/// Every error leaves with an `extensions.code`. Kith's own errors carry one; what lacks one
/// comes from async-graphql: validation (before execution, no path) or the coercion of an
/// argument such as an out-of-range `Int` (during execution, with a path), both the client's.
fn with_codes(mut response: GqlResponse) -> GqlResponse {
    for error in &mut response.errors {
        let code = if error.path.is_empty() {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "BAD_USER_INPUT"
        };
        ensure_code(error, code);
    }
    response
}

/// The HTTP response: 503 when the database was unavailable, JSON in the media type asked for.
fn respond(headers: &HeaderMap, response: BatchResponse) -> Response {
    let unavailable = match &response {
        BatchResponse::Single(single) => is_unavailable(single),
        BatchResponse::Batch(all) => all.iter().any(is_unavailable),
    };
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "cannot serialise a response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let wants_graphql_json = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/graphql-response+json"));
    let content_type = if wants_graphql_json {
        "application/graphql-response+json"
    } else {
        "application/json"
    };
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let mut http = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if unavailable {
        http.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    http
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

fn set_request_id(response: &mut Response, tracking_id: Uuid) {
    if let Ok(value) = HeaderValue::from_str(&tracking_id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
}
