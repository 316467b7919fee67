//! The HTTP surface: health, readiness, metrics, GraphiQL, tracking ids, GET, query limits.

use serde_json::json;

use crate::support::TestApp;

backend_tests! {
    async fn health_readiness_and_metrics(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
        assert_eq!(app.get("/readyz").await, (200, "ready".to_owned()));
        app.query(&app.admin(), "{ customers { totalCount } }", json!({})).await;
        let (status, metrics) = app.get("/metrics").await;
        assert_eq!(status, 200);
        assert!(metrics.contains("# TYPE kith_db_queries counter"));
        assert!(metrics.contains(
            "kith_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"} 1"
        ));
        assert!(metrics.contains("kith_http_request_duration_seconds_bucket{le=\"+Inf\",method=\"POST\",route=\"/graphql\",status=\"200\"} 1"));
        assert!(app.db_queries().await >= 2);
    }

    async fn readiness_queries_the_database(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let before = app.db_queries().await;
        assert_eq!(app.get("/readyz").await.0, 200);
        assert!(app.db_queries().await > before, "readyz must touch the database");
    }

    async fn graphiql_is_served_offline(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (status, page) = app.get("/").await;
        assert_eq!(status, 200);
        assert!(page.contains("GraphiQL"));
        assert!(!page.contains("https://"), "no CDN assets");
        for asset in [
            "/assets/graphiql-3.8.3.min.js",
            "/assets/graphiql-3.8.3.min.css",
            "/assets/react-18.3.1.production.min.js",
            "/assets/react-dom-18.3.1.production.min.js",
        ] {
            assert!(page.contains(asset), "{asset} referenced");
            let (status, body) = app.get(asset).await;
            assert_eq!(status, 200, "{asset}");
            assert!(body.len() > 1000, "{asset} decoded");
        }
        assert_eq!(app.get("/assets/nope.js").await.0, 404);
    }

    async fn every_response_carries_its_tracking_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ok = app.graphql(Some(&app.admin()), "{ me { subject } }", json!({})).await;
        let failed = app.graphql(None, "{ me { subject } }", json!({})).await;
        let rejected = app.graphql(Some("garbage"), "{ me { subject } }", json!({})).await;
        let mut seen = std::collections::HashSet::new();
        for response in [ok, failed, rejected] {
            let tracking = response.body["extensions"]["trackingId"].as_str().expect("trackingId");
            assert!(uuid::Uuid::parse_str(tracking).is_ok());
            assert_eq!(response.headers["x-request-id"], tracking);
            assert!(seen.insert(tracking.to_owned()), "tracking ids are unique");
        }
    }

    async fn queries_may_be_sent_with_get(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let response = app
            .client
            .get(format!("{}/graphql", app.address))
            .query(&[("query", "{ me { roles } }")])
            .bearer_auth(app.admin())
            .send()
            .await
            .expect("GET /graphql");
        assert_eq!(response.status().as_u16(), 200);
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["data"]["me"]["roles"], json!(["ADMIN"]));

        // A GET must be safe to repeat: mutations are refused, and nothing is written.
        let mutation = "mutation { createCustomer(input: { name: \"Via GET\" }) { customer { id } } }";
        let response = app
            .client
            .get(format!("{}/graphql", app.address))
            .query(&[("query", mutation)])
            .bearer_auth(app.admin())
            .send()
            .await
            .expect("GET /graphql");
        assert_eq!(response.status().as_u16(), 405);
        assert_eq!(response.headers()["allow"], "POST");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
        let count = app.query(&app.admin(), "{ customers { totalCount } }", json!({})).await;
        assert_eq!(count["customers"]["totalCount"], 0);
    }

    async fn depth_and_complexity_limits(backend: Backend) {
        let shallow = TestApp::spawn_with(backend.clone(), |s| s.max_depth = 4).await;
        let deep = "{ customers(page: { pageSize: 1 }) { items { accounts { contacts { contactPoints { kind } } } } } }";
        let response = shallow.graphql(Some(&shallow.admin()), deep, json!({})).await;
        assert_eq!(response.error_code(), "QUERY_TOO_COMPLEX");
        assert!(response.body["errors"][0]["message"].as_str().expect("message").contains("depth"));

        let app = TestApp::spawn_with(backend, |s| s.max_complexity = 30).await;
        let wide = "{ customers(page: { pageSize: 10 }) { items { id name customerNumber taxId dealerCode } } }";
        let response = app.graphql(Some(&app.admin()), wide, json!({})).await;
        assert_eq!(response.error_code(), "QUERY_TOO_COMPLEX");
        assert!(response.body["errors"][0]["message"].as_str().expect("message").contains("complexity"));

        let small = "{ customers(page: { pageSize: 2 }) { items { id } } }";
        app.query(&app.admin(), small, json!({})).await;
    }

    async fn malformed_queries_get_codes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.graphql(Some(&app.admin()), "{ customers { ", json!({})).await;
        assert_eq!(response.error_code(), "GRAPHQL_PARSE_FAILED");
        let response = app.graphql(Some(&app.admin()), "{ nothingHere }", json!({})).await;
        assert_eq!(response.error_code(), "GRAPHQL_VALIDATION_FAILED");
    }

    async fn introspection_can_be_switched_off(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.introspection = false).await;
        let response = app
            .graphql(Some(&app.admin()), "{ __schema { queryType { name } } }", json!({}))
            .await;
        assert_eq!(response.body["data"]["__schema"], serde_json::Value::Null, "{}", response.body);
        app.query(&app.admin(), "{ me { subject } }", json!({})).await;
    }

    async fn shutdown_finishes_cleanly(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let address = app.address.clone();
        app.stop().await;
        let refused = reqwest::Client::new()
            .get(format!("{address}/healthz"))
            .send()
            .await;
        assert!(refused.is_err(), "the listener is closed after shutdown");
    }

    async fn cross_origin_access_only_for_configured_origins(backend: Backend) {
        let preflight = |app: &TestApp, origin: &'static str| {
            app.client
                .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type")
                .send()
        };
        let closed = TestApp::spawn(backend.clone()).await;
        let response = preflight(&closed, "https://app.example").await.expect("preflight");
        assert!(response.headers().get("access-control-allow-origin").is_none());

        let open = TestApp::spawn_with(backend, |s| {
            s.cors_origins = vec!["https://app.example".into()];
        })
        .await;
        let response = preflight(&open, "https://app.example").await.expect("preflight");
        assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example");
        let response = preflight(&open, "https://evil.example").await.expect("preflight");
        assert!(response.headers().get("access-control-allow-origin").is_none());
    }
}
