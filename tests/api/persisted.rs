//! Persisted documents: Apollo's automatic persisted queries over POST and GET, and the
//! trusted-documents mode (`KITH_TRUSTED_DOCUMENTS`), where nothing else runs.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::TestApp;

const QUERY: &str = "query Me { me { subject roles } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(app.admin())
        .json(&body)
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn get(app: &TestApp, extensions: &Value, query: Option<&str>) -> (u16, Value) {
    let mut params = vec![("extensions", extensions.to_string())];
    if let Some(query) = query {
        params.push(("query", query.to_owned()));
    }
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&params)
        .bearer_auth(app.admin())
        .send()
        .await
        .expect("GET /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

backend_tests! {
    async fn an_apq_round_trip_registers_then_runs_by_hash(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let hash = sha256(QUERY);

        // Unknown: the client is told to send the document.
        let (status, body) = post(&app, json!({ "extensions": persisted(&hash) })).await;
        assert_eq!((status, code(&body)), (200, "PERSISTED_QUERY_NOT_FOUND"), "{body}");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        assert!(body.get("data").is_none(), "{body}");

        // The document with its hash: it runs, and is registered.
        let (status, body) =
            post(&app, json!({ "query": QUERY, "extensions": persisted(&hash) })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"]["roles"], json!(["ADMIN"]));

        // By hash alone, over POST and over GET.
        let (_, by_post) = post(&app, json!({ "extensions": persisted(&hash) })).await;
        assert_eq!(by_post["data"], body["data"]);
        let (status, by_get) = get(&app, &persisted(&hash), None).await;
        assert_eq!(status, 200, "{by_get}");
        assert_eq!(by_get["data"], body["data"]);
    }

    async fn a_wrong_hash_or_version_is_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let wrong = "0".repeat(64);
        let (status, body) =
            post(&app, json!({ "query": QUERY, "extensions": persisted(&wrong) })).await;
        assert_eq!((status, code(&body)), (200, "BAD_REQUEST"), "{body}");
        assert!(body.get("data").is_none(), "{body}");
        // Nothing was registered under the wrong hash.
        let (_, body) = post(&app, json!({ "extensions": persisted(&wrong) })).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

        let version_2 = json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256(QUERY) } });
        let (_, body) = post(&app, json!({ "query": QUERY, "extensions": version_2 })).await;
        assert_eq!(code(&body), "BAD_REQUEST", "{body}");
        // Without a query or a persisted document, a request is malformed as before.
        let (status, _) = post(&app, json!({ "variables": {} })).await;
        assert_eq!(status, 400);
    }

    async fn trusted_documents_run_and_nothing_else_does(backend: Backend) {
        let trusted = "query Trusted { me { subject } }";
        let manifest = std::env::temp_dir().join(format!("kith-trusted-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(
            &manifest,
            json!({ format!("sha256:{}", sha256(trusted)): trusted }).to_string(),
        )
        .expect("write manifest");
        let path = manifest.clone();
        let app = TestApp::spawn_with(backend, move |settings| {
            settings.trusted_documents = Some(path);
        })
        .await;

        let (status, body) = post(&app, json!({ "extensions": persisted(&sha256(trusted)) })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"]["subject"], "test-user");
        // Sent whole, a trusted document runs too.
        let (_, body) = post(&app, json!({ "query": trusted })).await;
        assert_eq!(body["data"]["me"]["subject"], "test-user", "{body}");

        // Anything else is refused before it is parsed, and APQ cannot register it.
        let (_, body) = post(&app, json!({ "query": QUERY })).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_TRUSTED", "{body}");
        assert!(body.get("data").is_none(), "{body}");
        let (_, body) =
            post(&app, json!({ "query": QUERY, "extensions": persisted(&sha256(QUERY)) })).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
        let (_, body) = get(&app, &json!({}), Some("{ __schema { queryType { name } } }")).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_TRUSTED", "{body}");
        let _ = std::fs::remove_file(manifest);
    }
}
