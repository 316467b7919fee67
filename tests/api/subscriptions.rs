//! Subscriptions over graphql-transport-ws on `/graphql` (API.md): events scoped and masked
//! for the subscriber, the protocol's close codes, the token's life, the limits.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kith::auth::Role;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::TestApp;
use crate::support::fixtures::World;

/// What the server sent.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    Json(Value),
    Closed(u16, String),
}

/// A graphql-transport-ws client.
pub struct Ws(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    /// Connect to `address` (`http://…`), offering `protocol`.
    pub async fn open_with(address: &str, protocol: Option<&str>) -> Ws {
        let url = format!("{}/graphql", address.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("ws request");
        if let Some(protocol) = protocol {
            request.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(protocol).expect("header"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket handshake");
        Ws(stream)
    }

    /// Connect speaking graphql-transport-ws.
    pub async fn open(address: &str) -> Ws {
        Ws::open_with(address, Some("graphql-transport-ws")).await
    }

    /// Connect and initialise with `token`, expecting the ack.
    pub async fn connected(address: &str, token: &str) -> Ws {
        let mut ws = Ws::open(address).await;
        ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(
            ws.recv().await,
            Incoming::Json(json!({ "type": "connection_ack" }))
        );
        ws
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.0.send(Message::Text(text.into())).await.expect("send");
    }

    /// Subscribe `id` to `query`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next message within 5 s (server pings answered and skipped).
    pub async fn recv(&mut self) -> Incoming {
        self.recv_within(Duration::from_secs(5))
            .await
            .expect("a message within 5 s")
    }

    /// The next message within `wait`, if any.
    pub async fn recv_within(&mut self, wait: Duration) -> Option<Incoming> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .ok()?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Incoming::Json(value));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(match frame {
                        Some(frame) => {
                            Incoming::Closed(frame.code.into(), frame.reason.to_string())
                        }
                        None => Incoming::Closed(1005, String::new()),
                    });
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Some(Incoming::Closed(1006, String::new())),
            }
        }
    }

    /// The close code the server ends with, within `wait`.
    pub async fn closed_with(&mut self, wait: Duration) -> u16 {
        match self.recv_within(wait).await {
            Some(Incoming::Closed(code, _)) => code,
            other => panic!("expected a close, got {other:?}"),
        }
    }

    /// The next `next` payload of subscription `id`.
    pub async fn event(&mut self, id: &str) -> Value {
        match self.recv().await {
            Incoming::Json(message) if message["type"] == "next" && message["id"] == id => {
                message["payload"].clone()
            }
            other => panic!("expected an event for {id}, got {other:?}"),
        }
    }
}

const CUSTOMER_CHANGED: &str = "subscription($id: ID!) { customerChanged(customerId: $id) { \
    change { action objectType objectId customerIds changes { field oldValue newValue } } customer { id name } } }";

const CONTACT_CHANGED: &str = "subscription($c: ID!, $k: ID!) { contactChanged(customerId: $c, contactId: $k) { \
    change { action objectId changes { field oldValue newValue } actor { customers } } contact { id firstName taxId } } }";

async fn update_contact(app: &TestApp, token: &str, id: uuid::Uuid, input: Value) {
    let data = app
        .query(
            token,
            "mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { userErrors { message } } }",
            json!({ "id": id, "input": input }),
        )
        .await;
    assert_eq!(data["updateContact"]["userErrors"], json!([]));
}

backend_tests! {
    async fn events_reach_subscribers_scoped_and_masked_for_them(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let b = app.token(&[Role::Customer], Some(vec![world.b]), &[]);
        let mut watcher_a = Ws::connected(&app.address, &a).await;
        watcher_a.subscribe("c", CUSTOMER_CHANGED, json!({ "id": world.a })).await;
        watcher_a.subscribe("k", CONTACT_CHANGED, json!({ "c": world.a, "k": world.a_direct })).await;
        let mut watcher_b = Ws::connected(&app.address, &b).await;
        watcher_b.subscribe("c", CUSTOMER_CHANGED, json!({ "id": world.b })).await;
        // Subscriptions are registered when the server has read the messages; a round trip
        // through the connection (ping, pong) makes sure it has.
        for watcher in [&mut watcher_a, &mut watcher_b] {
            watcher.send(json!({ "type": "ping" })).await;
            assert_eq!(watcher.recv().await, Incoming::Json(json!({ "type": "pong" })));
        }

        // The writer may unmask; each subscriber sees the change as it may see it.
        let writer = app.token(&[Role::Admin], None, &["restunmasktaxid"]);
        let started = std::time::Instant::now();
        update_contact(&app, &writer, world.a_direct, json!({ "firstName": "Augusta", "taxId": "987-65-4321" })).await;

        let mut events = std::collections::BTreeMap::new();
        for _ in 0..2 {
            match watcher_a.recv().await {
                Incoming::Json(message) if message["type"] == "next" => {
                    events.insert(message["id"].as_str().unwrap_or_default().to_owned(), message["payload"].clone());
                }
                other => panic!("expected an event, got {other:?}"),
            }
        }
        assert!(started.elapsed() < Duration::from_secs(1), "delivered within 1 s: {:?}", started.elapsed());
        let contact_event = &events["k"]["data"]["contactChanged"];
        assert_eq!(contact_event["change"]["action"], "UPDATED");
        assert_eq!(
            contact_event["change"]["changes"],
            json!([
                { "field": "firstName", "oldValue": "Ada", "newValue": "Augusta" },
                { "field": "taxId", "oldValue": "***-**-6789", "newValue": "***-**-4321" }
            ])
        );
        assert_eq!(contact_event["contact"], json!({ "id": world.a_direct, "firstName": "Augusta", "taxId": "***-**-4321" }));
        let customer_event = &events["c"]["data"]["customerChanged"];
        assert_eq!(customer_event["change"]["objectType"], "CONTACT");
        assert_eq!(customer_event["customer"], json!({ "id": world.a, "name": "Alpha Foods" }));

        // B's customer was not touched: B hears nothing.
        assert_eq!(watcher_b.recv_within(Duration::from_secs(1)).await, None);

        // A shared contact linked to both reaches both, each with only its own customer.
        update_contact(&app, &writer, world.shared_ab, json!({ "position": "Auditor" })).await;
        let seen_by_a = watcher_a.event("c").await;
        assert_eq!(seen_by_a["data"]["customerChanged"]["change"]["customerIds"], json!([world.a]));
        let seen_by_b = watcher_b.event("c").await;
        assert_eq!(seen_by_b["data"]["customerChanged"]["change"]["customerIds"], json!([world.b]));

        // `complete` stops a subscription; the other goes on.
        watcher_a.send(json!({ "id": "k", "type": "complete" })).await;
        update_contact(&app, &writer, world.a_direct, json!({ "lastName": "King" })).await;
        let event = watcher_a.event("c").await;
        assert_eq!(event["data"]["customerChanged"]["change"]["objectId"], json!(world.a_direct));
        assert_eq!(watcher_a.recv_within(Duration::from_millis(500)).await, None);
    }

    async fn the_token_comes_in_connection_init_and_bad_ones_close_with_4401(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let wait = Duration::from_secs(5);

        let mut ws = Ws::open(&app.address).await;
        ws.send(json!({ "type": "connection_init" })).await;
        assert_eq!(ws.closed_with(wait).await, 4401, "no token");

        let mut ws = Ws::open(&app.address).await;
        ws.send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not.a.token" } })).await;
        assert_eq!(ws.closed_with(wait).await, 4401, "bad token");

        let mut ws = Ws::open(&app.address).await;
        ws.subscribe("1", CUSTOMER_CHANGED, json!({ "id": world.a })).await;
        assert_eq!(ws.closed_with(wait).await, 4401, "subscribe before connection_init");

        let mut ws = Ws::connected(&app.address, &app.admin()).await;
        ws.send(json!({ "type": "connection_init", "payload": {} })).await;
        assert_eq!(ws.closed_with(wait).await, 4429, "a second connection_init");

        let mut ws = Ws::connected(&app.address, &app.admin()).await;
        ws.send_text("{not json").await;
        assert_eq!(ws.closed_with(wait).await, 4400);

        let mut ws = Ws::connected(&app.address, &app.admin()).await;
        ws.subscribe("same", CUSTOMER_CHANGED, json!({ "id": world.a })).await;
        ws.subscribe("same", CUSTOMER_CHANGED, json!({ "id": world.b })).await;
        assert_eq!(ws.closed_with(wait).await, 4409);

        let mut ws = Ws::open_with(&app.address, None).await;
        assert_eq!(ws.closed_with(wait).await, 4406, "no graphql-transport-ws subprotocol");

        // A token that expires closes the connection when it does.
        let short = app.sign(&{
            let mut claims = app.claims(&[Role::Admin], None, &[]);
            claims.exp = u64::try_from(chrono::Utc::now().timestamp()).expect("time") + 2;
            claims
        });
        let mut ws = Ws::connected(&app.address, &short).await;
        ws.subscribe("1", CUSTOMER_CHANGED, json!({ "id": world.a })).await;
        assert_eq!(ws.closed_with(Duration::from_secs(5)).await, 4401, "expired");

        // A subscription out of the caller's reach fails like a missing object.
        let a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let mut ws = Ws::connected(&app.address, &a).await;
        ws.subscribe("1", CUSTOMER_CHANGED, json!({ "id": world.b })).await;
        match ws.recv().await {
            Incoming::Json(message) => {
                assert_eq!(message["type"], "error", "{message}");
                assert_eq!(message["payload"][0]["extensions"]["code"], "NOT_FOUND");
            }
            other => panic!("{other:?}"),
        }
        ws.subscribe("2", CONTACT_CHANGED, json!({ "c": world.b, "k": world.b_direct })).await;
        match ws.recv().await {
            Incoming::Json(message) => assert_eq!(message["payload"][0]["extensions"]["code"], "NOT_FOUND"),
            other => panic!("{other:?}"),
        }
    }

    async fn connections_and_subscriptions_are_limited_and_silent_clients_dropped(backend: Backend) {
        let app = TestApp::spawn_with(backend, |settings| {
            settings.ws_max_subscriptions = 2;
            settings.ws_max_connections_per_token = 1;
            settings.ws_ping_interval = Duration::from_secs(1);
        })
        .await;
        let world = World::create(&app.db).await;
        let token = app.admin();
        let mut ws = Ws::connected(&app.address, &token).await;
        ws.subscribe("1", CUSTOMER_CHANGED, json!({ "id": world.a })).await;
        ws.subscribe("2", CUSTOMER_CHANGED, json!({ "id": world.b })).await;
        ws.subscribe("3", CUSTOMER_CHANGED, json!({ "id": world.b })).await;
        match ws.recv().await {
            Incoming::Json(message) => {
                assert_eq!(message["id"], "3");
                assert_eq!(message["type"], "error");
                assert_eq!(message["payload"][0]["extensions"]["code"], "TOO_MANY");
            }
            other => panic!("{other:?}"),
        }

        let mut second = Ws::open(&app.address).await;
        second.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
        assert_eq!(second.closed_with(Duration::from_secs(5)).await, 4403, "one connection per token here");

        // The server pings; `recv` answers, so this connection lives on past two intervals.
        assert_eq!(ws.recv_within(Duration::from_millis(2500)).await, None);
        update_contact(&app, &token, world.a_direct, json!({ "position": "Still here" })).await;
        assert_eq!(ws.event("1").await["data"]["customerChanged"]["change"]["action"], "UPDATED");

        // A client that never answers is dropped after two intervals; its token is free again.
        drop(ws);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut silent = Ws::connected(&app.address, &token).await;
        let raw = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match silent.0.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        })
        .await
        .expect("closed within 5 s");
        assert_eq!(raw, Some(4504));
    }
}
