//! `GET` and `POST /graphql`: authenticate, attach per-request loaders, execute, and stamp the
//! response with its tracking id.

use async_graphql::{BatchRequest, BatchResponse, Request, Response as GqlResponse, Value};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use uuid::Uuid;

use super::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::graphql_context::Caller;
use crate::loaders::{self, LoaderContext};
use crate::schema::ArrivedByGet;

/// Header carrying the tracking id of a response.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// Serve one GraphQL request (or a batch).
pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    request: GraphQLBatchRequest,
) -> Response {
    let tracking_id = Uuid::new_v4();
    let span = tracing::info_span!("graphql", tracking_id = %tracking_id);
    async move {
        let caller = match authenticate(&state, &headers) {
            Ok(caller) => caller,
            Err(error) => {
                tracing::info!(reason = %error, "rejected credentials");
                return unauthenticated(error, tracking_id);
            }
        };
        let scope = caller
            .0
            .as_ref()
            .map(|p| p.scope.clone())
            .unwrap_or_default();
        let (spawner, batches) = loaders::batch_runner();
        let prepare = |request: Request| {
            let request = request.data(caller.clone());
            let request = if method == Method::GET {
                request.data(ArrivedByGet)
            } else {
                request
            };
            loaders::attach(
                request,
                LoaderContext {
                    db: state.db.clone(),
                    scope: scope.clone(),
                    spawner: spawner.clone(),
                },
            )
        };
        let batch = match request.into_inner() {
            BatchRequest::Single(request) => BatchRequest::Single(prepare(request)),
            BatchRequest::Batch(requests) => {
                BatchRequest::Batch(requests.into_iter().map(prepare).collect())
            }
        };
        let response = match batches
            .run_alongside(state.schema.execute_batch(batch))
            .await
        {
            BatchResponse::Single(response) => {
                BatchResponse::Single(with_tracking_id(response, tracking_id))
            }
            BatchResponse::Batch(responses) => BatchResponse::Batch(
                responses
                    .into_iter()
                    .map(|response| with_tracking_id(response, tracking_id))
                    .collect(),
            ),
        };
        let mut http = GraphQLResponse::from(response).into_response();
        set_request_id(&mut http, tracking_id);
        http
    }
    .instrument(span)
    .await
}

/// No `Authorization` header: an anonymous caller, who may introspect but reads no data.
/// A header that is present must carry a valid bearer token.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller(None));
    };
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

fn with_tracking_id(response: GqlResponse, tracking_id: Uuid) -> GqlResponse {
    response.extension("trackingId", Value::String(tracking_id.to_string()))
}

fn set_request_id(response: &mut Response, tracking_id: Uuid) {
    if let Ok(value) = HeaderValue::from_str(&tracking_id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
}

/// A GraphQL-shaped 401, so clients parse it like any other error.
fn unauthenticated(error: AppError, tracking_id: Uuid) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": error.to_string(),
            "extensions": { "code": error.code() },
        }],
        "extensions": { "trackingId": tracking_id.to_string() },
    });
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        axum::Json(body),
    )
        .into_response();
    set_request_id(&mut response, tracking_id);
    response
}
