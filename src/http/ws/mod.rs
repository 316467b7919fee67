//! GraphQL over WebSocket on `/graphql`: the graphql-transport-ws protocol
//! (<https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>), for subscriptions
//! and, as the protocol allows, queries and mutations.
//!
//! Kith speaks it itself rather than through async-graphql's handler, for what that one does
//! not do: the JWT from `connection_init`'s payload (a missing or bad token closes with 4401,
//! and the connection closes with 4401 when the token expires), the protocol's other close
//! codes (4400, 4406, 4408, 4409, 4429), server pings that drop a client gone silent, limits
//! on subscriptions per connection and connections per token, and the same cost checks as
//! HTTP before anything runs. Each operation runs in a task of its own with the loaders and
//! batch runner of an HTTP request (fresh row budget for every event), so an event's nested
//! fields are read in one statement per level as anywhere else.

pub mod connections;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_graphql::{Request, ServerError, Variables};
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use self::connections::Counted;
use super::AppState;
use crate::auth::Principal;
use crate::batch;
use crate::cost::{self, Budget};
use crate::graphql_context::Caller;
use crate::loaders::{LoaderContext, RowBudget};
use crate::schema;

/// The one subprotocol spoken.
const PROTOCOL: &str = "graphql-transport-ws";

/// Initial read buffer of a connection.
const READ_BUFFER: usize = 4 * 1024;

/// How long a client has after the upgrade to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Close codes of the protocol.
mod close {
    pub const INVALID_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    /// Not the protocol's: the client stopped answering pings.
    pub const SILENT: u16 = 4504;
}

/// Whether a request asks to become a WebSocket.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// Upgrade `GET /graphql` to a WebSocket speaking graphql-transport-ws.
pub async fn upgrade(state: AppState, request: axum::extract::Request) -> Response {
    // Held for the socket's life: an upgraded connection no longer counts in the accept loop.
    let Ok(slot) = state.ws_slots.clone().try_acquire_owned() else {
        tracing::warn!("WebSocket refused: KITH_MAX_CONNECTIONS WebSockets are open");
        let body = json!({"errors": [coded_error("too many WebSocket connections; retry shortly".into(), "SERVICE_UNAVAILABLE")]});
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "1")],
            axum::Json(body),
        )
            .into_response();
    };
    let (mut parts, _body) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // tungstenite's 128 KiB buffers would cost each of a thousand idle subscribers that much;
    // messages here are small, and a large one grows the read buffer as it arrives.
    let upgrade = upgrade
        .protocols([PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(state.guard.max_body_bytes)
        .max_frame_size(state.guard.max_body_bytes);
    let spoken = upgrade.selected_protocol().is_some();
    upgrade.on_upgrade(move |mut socket| async move {
        let _slot = slot;
        if spoken {
            Connection::new(state).serve(socket).await;
        } else {
            let _ = socket
                .send(close_message(
                    close::SUBPROTOCOL,
                    "Subprotocol not acceptable: use graphql-transport-ws",
                ))
                .await;
        }
    })
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// A client message.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[expect(dead_code, reason = "the protocol allows a payload; nothing reads it")]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default)]
    operation_name: Option<String>,
}

/// What an operation's task sends back to the connection.
enum Outgoing {
    Text(String),
    /// The operation with this id and serial ended on its own.
    Finished(String, u64),
}

/// Why the connection ends.
struct Closing(u16, String);

struct Connection {
    state: AppState,
    principal: Option<Arc<Principal>>,
    expires: Option<Instant>,
    _counted: Option<Counted>,
    /// Running operations by id, each with a serial so that a late `Finished` of an earlier
    /// operation never removes a later one that reuses its id.
    operations: HashMap<String, (u64, JoinHandle<()>)>,
    serial: u64,
    sender: mpsc::Sender<Outgoing>,
    receiver: mpsc::Receiver<Outgoing>,
}

impl Connection {
    fn new(state: AppState) -> Connection {
        let (sender, receiver) = mpsc::channel(64);
        Connection {
            state,
            principal: None,
            expires: None,
            _counted: None,
            operations: HashMap::new(),
            serial: 0,
            sender,
            receiver,
        }
    }

    async fn serve(mut self, mut socket: WebSocket) {
        let ping_interval = self.state.settings.ws_ping_interval;
        let init_deadline = Instant::now() + INIT_TIMEOUT;
        let mut last_heard = Instant::now();
        let mut next_ping = Instant::now() + ping_interval;
        let closing = loop {
            let deadline = match (self.principal.is_some(), self.expires) {
                (false, _) => init_deadline,
                (true, Some(expires)) => expires.min(next_ping),
                (true, None) => next_ping,
            };
            tokio::select! {
                incoming = socket.recv() => {
                    let Some(Ok(message)) = incoming else { break None };
                    last_heard = Instant::now();
                    let text = match message {
                        Message::Text(text) => text.to_string(),
                        Message::Binary(bytes) => match String::from_utf8(bytes.to_vec()) {
                            Ok(text) => text,
                            Err(_) => break Some(Closing(close::INVALID_MESSAGE, "messages are UTF-8 JSON".into())),
                        },
                        Message::Close(_) => break None,
                        Message::Ping(_) | Message::Pong(_) => continue,
                    };
                    match self.on_message(&text, &mut socket).await {
                        Ok(()) => {}
                        Err(closing) => break Some(closing),
                    }
                }
                Some(outgoing) = self.receiver.recv() => {
                    let text = match outgoing {
                        Outgoing::Text(text) => text,
                        Outgoing::Finished(id, serial) => {
                            if self.operations.get(&id).is_some_and(|(running, _)| *running == serial) {
                                self.operations.remove(&id);
                            }
                            continue;
                        }
                    };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                () = sleep_until(deadline) => {
                    let now = Instant::now();
                    if self.principal.is_none() {
                        break Some(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout".into()));
                    }
                    if self.expires.is_some_and(|expires| now >= expires) {
                        break Some(Closing(close::UNAUTHORIZED, "the token expired".into()));
                    }
                    if now.duration_since(last_heard) >= ping_interval * 2 {
                        break Some(Closing(close::SILENT, "no message or pong for two ping intervals".into()));
                    }
                    next_ping = now + ping_interval;
                    let ping = json!({"type": "ping"}).to_string();
                    if socket.send(Message::Text(ping.into())).await.is_err() {
                        break None;
                    }
                }
            }
        };
        for (_, (_, task)) in self.operations.drain() {
            task.abort();
        }
        if let Some(Closing(code, reason)) = closing {
            let _ = socket.send(close_message(code, &reason)).await;
        }
    }

    async fn on_message(&mut self, text: &str, socket: &mut WebSocket) -> Result<(), Closing> {
        let message: ClientMessage = serde_json::from_str(text).map_err(|error| {
            Closing(close::INVALID_MESSAGE, format!("invalid message: {error}"))
        })?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.principal.is_some() {
                    return Err(Closing(
                        close::TOO_MANY_INITS,
                        "Too many initialisation requests".into(),
                    ));
                }
                self.initialise(payload)?;
                send(socket, json!({"type": "connection_ack"})).await
            }
            ClientMessage::Ping { payload } => {
                let mut pong = json!({"type": "pong"});
                if let Some(payload) = payload {
                    pong["payload"] = payload;
                }
                send(socket, pong).await
            }
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { id, payload } => {
                let Some(principal) = self.principal.clone() else {
                    return Err(Closing(
                        close::UNAUTHORIZED,
                        "Unauthorized: send connection_init first".into(),
                    ));
                };
                if self
                    .operations
                    .get(&id)
                    .is_some_and(|(_, task)| !task.is_finished())
                {
                    return Err(Closing(
                        close::DUPLICATE_ID,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                if self.operations.len() >= self.state.settings.ws_max_subscriptions {
                    let error = coded_error(
                        format!(
                            "this connection already runs {} operations \
                             (KITH_WS_MAX_SUBSCRIPTIONS); complete one first",
                            self.operations.len()
                        ),
                        "TOO_MANY",
                    );
                    return send(
                        socket,
                        json!({"id": id, "type": "error", "payload": [error]}),
                    )
                    .await;
                }
                match self.prepare(payload, &principal) {
                    Ok(request) => {
                        self.serial += 1;
                        let task = tokio::spawn(run(
                            self.state.clone(),
                            principal,
                            (id.clone(), self.serial),
                            request,
                            self.sender.clone(),
                        ));
                        self.operations.insert(id, (self.serial, task));
                        Ok(())
                    }
                    Err(errors) => {
                        send(
                            socket,
                            json!({"id": id, "type": "error", "payload": errors}),
                        )
                        .await
                    }
                }
            }
            ClientMessage::Complete { id } => {
                if let Some((_, task)) = self.operations.remove(&id) {
                    task.abort();
                }
                Ok(())
            }
        }
    }

    /// Authenticate `connection_init`'s payload: `{"Authorization": "Bearer <jwt>"}`.
    fn initialise(&mut self, payload: Option<Value>) -> Result<(), Closing> {
        let unauthorized = |why: &str| Closing(close::UNAUTHORIZED, format!("Unauthorized: {why}"));
        let header = payload
            .as_ref()
            .and_then(|payload| {
                payload
                    .get("Authorization")
                    .or_else(|| payload.get("authorization"))
            })
            .and_then(Value::as_str)
            .ok_or_else(|| {
                unauthorized(
                    "connection_init's payload must carry {\"Authorization\": \"Bearer <token>\"}",
                )
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization value must be `Bearer <token>`"))?;
        let claims = self
            .state
            .keys
            .verify(token)
            .map_err(|error| unauthorized(&error.to_string()))?;
        let counted = self
            .state
            .ws_connections
            .enter(token, self.state.settings.ws_max_connections_per_token)
            .ok_or_else(|| {
                Closing(
                    close::FORBIDDEN,
                    "too many connections with this token (KITH_WS_MAX_CONNECTIONS_PER_TOKEN)"
                        .into(),
                )
            })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs())
            .unwrap_or(0);
        self.expires = Some(Instant::now() + Duration::from_secs(claims.exp.saturating_sub(now)));
        let mut principal = Principal::from_claims(claims);
        principal.tracking_id = Some(uuid::Uuid::new_v4().to_string());
        tracing::debug!(subject = ?principal.subject, "WebSocket authenticated");
        self.principal = Some(Arc::new(principal));
        self._counted = Some(counted);
        Ok(())
    }

    /// The checks HTTP makes before executing: size, tokens and nesting of the text, the
    /// document's cost. Errors as the protocol's `error` payload.
    fn prepare(
        &self,
        payload: SubscribePayload,
        _principal: &Principal,
    ) -> Result<Request, Vec<Value>> {
        let guard = &self.state.guard;
        let mut request = Request::new(payload.query);
        if let Some(variables) = payload.variables {
            request = request.variables(Variables::from_json(variables));
        }
        if let Some(name) = payload.operation_name {
            request = request.operation_name(name);
        }
        if let Err(error) = cost::check_text(&request.query, guard.limits.max_fields) {
            return Err(vec![coded_error(error.to_string(), "QUERY_TOO_COMPLEX")]);
        }
        let variables = std::mem::take(&mut request.variables);
        let document = request
            .parsed_query()
            .map_err(|error| vec![server_error(error, "GRAPHQL_PARSE_FAILED")])?;
        let mut budget = Budget::new(guard.limits);
        if let Err(error) = budget.charge(&guard.cost_model, document, &variables) {
            return Err(vec![coded_error(error.to_string(), "QUERY_TOO_COMPLEX")]);
        }
        request.variables = variables;
        Ok(request)
    }
}

async fn send(socket: &mut WebSocket, message: Value) -> Result<(), Closing> {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .map_err(|_| Closing(1006, String::new()))
}

fn coded_error(message: String, code: &str) -> Value {
    json!({"message": message, "extensions": {"code": code}})
}

fn server_error(error: ServerError, code: &str) -> Value {
    let mut value =
        serde_json::to_value(&error).unwrap_or_else(|_| json!({"message": error.message}));
    value["extensions"]["code"] = json!(code);
    value
}

/// Run one operation: every response is a `next`, then `complete`; a request refused before
/// execution (validation) is one `error`.
async fn run(
    state: AppState,
    principal: Arc<Principal>,
    (id, serial): (String, u64),
    request: Request,
    sender: mpsc::Sender<Outgoing>,
) {
    let (spawner, batches) = batch::batch_runner();
    let rows = Arc::new(RowBudget::new(state.guard.max_rows));
    let request = schema::attach_loaders(
        request.data(Caller(Some(Principal::clone(&principal)))),
        LoaderContext {
            db: state.db.clone(),
            scope: principal.scope.clone(),
            spawner,
            rows: rows.clone(),
        },
    );
    let mut stream = batches.run_stream(state.schema.execute_stream(request));
    let mut first = true;
    loop {
        let next = stream.next().await;
        // Each event is read afresh: the row budget is per event, not per subscription.
        rows.rewind(0);
        let Some(response) = next else {
            let _ = sender
                .send(Outgoing::Text(
                    json!({"id": id, "type": "complete"}).to_string(),
                ))
                .await;
            break;
        };
        let response = super::codes::with_codes(response);
        let refused =
            first && response.data == async_graphql::Value::Null && !response.errors.is_empty();
        first = false;
        let message = if refused {
            json!({"id": id, "type": "error", "payload": response.errors})
        } else {
            json!({"id": id, "type": "next", "payload": response})
        };
        if sender
            .send(Outgoing::Text(message.to_string()))
            .await
            .is_err()
            || refused
        {
            break;
        }
    }
    let _ = sender.send(Outgoing::Finished(id, serial)).await;
}
