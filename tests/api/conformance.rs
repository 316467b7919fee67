//! GraphQL over HTTP (<https://graphql.github.io/graphql-over-http/draft/>), one test per rule:
//! the media type of the answer from `Accept`, what a request's body and parameters must be,
//! and the status of each kind of error in each media type. `tests/conformance/run.sh` runs
//! graphql-http's own audit against the real binary; these pin the same rules (and a few the
//! audit does not check) in `cargo test`.

use serde_json::{Value, json};

use crate::support::TestApp;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// What came back: status, `Content-Type`, `x-request-id` and the body, which is always JSON.
struct Answer {
    status: u16,
    content_type: String,
    request_id: String,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("an error with a code: {}", self.body))
    }

    /// A refusal or a request error: errors with codes, the tracking id (also in the header),
    /// and no `data` entry at all.
    fn assert_request_error(&self, status: u16, content_type: &str, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.content_type, content_type, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        assert!(
            self.body.get("data").is_none(),
            "no data entry: {}",
            self.body
        );
        assert_eq!(
            self.body["extensions"]["trackingId"], self.request_id,
            "{}",
            self.body
        );
    }
}

/// POST `body` with these headers (and the ADMIN token).
async fn post(app: &TestApp, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> Answer {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(app.admin())
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request).await
}

/// POST a JSON body as `application/json`, accepting `accept` (none when `None`).
async fn post_json(app: &TestApp, accept: Option<&str>, body: Value) -> Answer {
    let mut headers = vec![("content-type", JSON)];
    if let Some(accept) = accept {
        headers.push(("accept", accept));
    }
    post(app, &headers, body.to_string()).await
}

/// GET `/graphql` with these query parameters.
async fn get(app: &TestApp, accept: Option<&str>, parameters: &[(&str, &str)]) -> Answer {
    let mut request = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(parameters)
        .bearer_auth(app.admin());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    answer(request).await
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    answer_of(request.send().await.expect("a response")).await
}

fn typename() -> Value {
    json!({ "query": "{ __typename }" })
}

backend_tests! {
    async fn accept_application_json_is_answered_in_application_json(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for accept in [Some(JSON), None, Some("*/*"), Some("application/*"), Some("text/html, */*;q=0.8")] {
            let answer = post_json(&app, accept, typename()).await;
            assert_eq!(answer.status, 200, "{accept:?}: {}", answer.body);
            assert_eq!(answer.content_type, JSON, "{accept:?}");
            assert!(answer.body["data"]["__typename"].is_string(), "{accept:?}: {}", answer.body);
        }
    }

    async fn accept_graphql_response_json_is_answered_in_kind(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for accept in [
            GRAPHQL_RESPONSE,
            "application/graphql-response+json, application/json;q=0.9",
            "application/json, application/graphql-response+json",
        ] {
            let answer = post_json(&app, Some(accept), typename()).await;
            assert_eq!(answer.status, 200, "{accept}: {}", answer.body);
            assert_eq!(answer.content_type, GRAPHQL_RESPONSE, "{accept}");
            assert!(answer.body["data"]["__typename"].is_string(), "{}", answer.body);
        }
        // The client's preference decides.
        let answer = post_json(&app, Some("application/graphql-response+json;q=0.5, application/json"), typename()).await;
        assert_eq!(answer.content_type, JSON);
    }

    async fn an_accept_naming_neither_media_type_is_406(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for accept in ["text/html", "application/xml, text/*", "application/json;q=0"] {
            let answer = post_json(&app, Some(accept), typename()).await;
            answer.assert_request_error(406, JSON, "BAD_REQUEST");
        }
    }

    async fn a_post_without_a_content_type_is_415(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let answer = post(&app, &[], typename().to_string()).await;
        answer.assert_request_error(415, JSON, "BAD_REQUEST");
        let answer = post(&app, &[("accept", GRAPHQL_RESPONSE)], typename().to_string()).await;
        answer.assert_request_error(415, GRAPHQL_RESPONSE, "BAD_REQUEST");
    }

    async fn text_and_form_bodies_are_415_and_never_parsed_as_json(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // A browser sends these cross-origin without a preflight: a JSON body in them must
        // not run.
        let mutation = json!({ "query": "mutation { createCustomer(input: { name: \"Simple request\" }) { customer { id } } }" }).to_string();
        for content_type in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/graphql",
            "application/json; charset=latin1",
        ] {
            let answer = post(&app, &[("content-type", content_type)], mutation.clone()).await;
            answer.assert_request_error(415, JSON, "BAD_REQUEST");
            assert!(answer.body["errors"][0]["message"].as_str().expect("message").contains("application/json"));
        }
        let form = "query=%7B+__typename+%7D";
        let answer = post(&app, &[("content-type", "application/x-www-form-urlencoded")], form).await;
        answer.assert_request_error(415, JSON, "BAD_REQUEST");
        let count = app.query(&app.admin(), "{ customers { totalCount } }", json!({})).await;
        assert_eq!(count["customers"]["totalCount"], 0, "nothing was written");

        let answer = post(&app, &[("content-type", "application/json; charset=utf-8")], typename().to_string()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    async fn malformed_json_is_400_with_a_code_and_tracking_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for (accept, content_type) in [(JSON, JSON), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE)] {
            for body in ["{ \"not a JSON", "", "[1, 2", "{\"query\": \"{ __typename }\"} trailing"] {
                let answer = post(&app, &[("content-type", JSON), ("accept", accept)], body).await;
                answer.assert_request_error(400, content_type, "BAD_REQUEST");
            }
        }
    }

    async fn invalid_utf8_is_400_with_a_code_and_tracking_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for body in [&b"{\"query\":\"{ __typename \xff }\"}"[..], b"\xfe\xff{}"] {
            let answer = post(&app, &[("content-type", JSON)], body.to_vec()).await;
            answer.assert_request_error(400, JSON, "BAD_REQUEST");
        }
    }

    async fn a_missing_query_is_400(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for body in [json!({ "notquery": "{ __typename }" }), json!({ "qeury": "{ __typename }" }), json!({})] {
            for accept in [JSON, GRAPHQL_RESPONSE] {
                let answer = post_json(&app, Some(accept), body.clone()).await;
                answer.assert_request_error(400, accept, "BAD_REQUEST");
            }
        }
        let answer = get(&app, None, &[]).await;
        answer.assert_request_error(400, JSON, "BAD_REQUEST");
        let answer = get(&app, None, &[("operationName", "A")]).await;
        answer.assert_request_error(400, JSON, "BAD_REQUEST");
    }

    async fn parameters_of_the_wrong_type_are_400_and_null_means_absent(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let wrong = [json!({ "obj": "ect" }), json!(0), json!(false), json!(["array"]), json!("string")];
        for parameter in ["query", "operationName", "variables", "extensions"] {
            for value in &wrong {
                let valid_here = match parameter {
                    "query" | "operationName" => value.is_string(),
                    _ => value.is_object(),
                };
                if valid_here {
                    continue;
                }
                let mut body = typename();
                body[parameter] = value.clone();
                let answer = post_json(&app, None, body).await;
                answer.assert_request_error(400, JSON, "BAD_REQUEST");
            }
            if parameter != "query" {
                let mut body = typename();
                body[parameter] = Value::Null;
                let answer = post_json(&app, Some(GRAPHQL_RESPONSE), body).await;
                assert_eq!(answer.status, 200, "null {parameter}: {}", answer.body);
                assert!(answer.body.get("errors").is_none(), "{}", answer.body);
            }
        }
        let answer = post_json(&app, None, json!({ "query": null })).await;
        answer.assert_request_error(400, JSON, "BAD_REQUEST");
        let answer = post_json(&app, Some(JSON), json!({
            "query": "query Type($name: String!) { __type(name: $name) { name } }",
            "operationName": "Type",
            "variables": { "name": "String" },
            "extensions": { "some": "value" },
        })).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["data"]["__type"]["name"], "String");
    }

    async fn get_parameters_follow_the_same_rules(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let query = "query Type($name: String!) { __type(name: $name) { name } }";
        for accept in [JSON, GRAPHQL_RESPONSE] {
            let answer = get(&app, Some(accept), &[("query", query), ("variables", "{\"name\":\"String\"}")]).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            assert_eq!(answer.content_type, accept);
            assert_eq!(answer.body["data"]["__type"]["name"], "String");
        }
        let answer = get(&app, None, &[("query", "query A { __typename } query B { me { subject } }"), ("operationName", "B")]).await;
        assert_eq!(answer.body["data"]["me"]["subject"], "test-user", "{}", answer.body);
        for (name, value) in [("variables", "[1]"), ("variables", "not json"), ("extensions", "0")] {
            let answer = get(&app, None, &[("query", "{ __typename }"), (name, value)]).await;
            answer.assert_request_error(400, JSON, "BAD_REQUEST");
        }
    }

    async fn a_mutation_over_get_is_405_with_allow(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for accept in [JSON, GRAPHQL_RESPONSE] {
            let answer = get(&app, Some(accept), &[("query", "mutation { __typename }")]).await;
            answer.assert_request_error(405, accept, "BAD_REQUEST");
        }
        let response = app
            .client
            .get(format!("{}/graphql", app.address))
            .query(&[("query", "mutation { __typename }")])
            .send()
            .await
            .expect("GET");
        assert_eq!(response.headers()["allow"], "POST");
    }

    async fn parse_failures_are_400_in_graphql_response_json_and_200_in_json(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // The audit's "missing field" starts with a digit, so it never gets past the parser.
        for query in ["{", "{ 8f31403dfe404bccbb0e835f2629c6a7 }", ""] {
            post_json(&app, Some(GRAPHQL_RESPONSE), json!({ "query": query }))
                .await
                .assert_request_error(400, GRAPHQL_RESPONSE, "GRAPHQL_PARSE_FAILED");
            post_json(&app, Some(JSON), json!({ "query": query }))
                .await
                .assert_request_error(200, JSON, "GRAPHQL_PARSE_FAILED");
        }
    }

    async fn validation_failures_are_400_in_graphql_response_json_and_200_in_json(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for query in [
            "{ nothingHere }",
            "query A { __typename } query B { __typename }",
            "{ me { ...A } } fragment A on Me { ...B } fragment B on Me { subject ...A }",
        ] {
            post_json(&app, Some(GRAPHQL_RESPONSE), json!({ "query": query }))
                .await
                .assert_request_error(400, GRAPHQL_RESPONSE, "GRAPHQL_VALIDATION_FAILED");
            post_json(&app, Some(JSON), json!({ "query": query }))
                .await
                .assert_request_error(200, JSON, "GRAPHQL_VALIDATION_FAILED");
        }
        let answer = post_json(&app, Some(GRAPHQL_RESPONSE), json!({ "query": "{ __typename }", "operationName": "Nope" })).await;
        answer.assert_request_error(400, GRAPHQL_RESPONSE, "GRAPHQL_VALIDATION_FAILED");
    }

    async fn variable_coercion_failures_are_400_in_graphql_response_json_and_200_in_json(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let page = "query Page($n: Int!) { customers(page: { pageSize: $n }) { totalCount } }";
        for (body, code) in [
            // The audit's case: an unused variable is also a validation error.
            (json!({ "query": "query CoerceFailure($id: ID!) { __typename }", "variables": { "id": null } }), "BAD_USER_INPUT"),
            (json!({ "query": page, "variables": {} }), "BAD_USER_INPUT"),
            (json!({ "query": page, "variables": { "n": null } }), "BAD_USER_INPUT"),
            (json!({ "query": page }), "BAD_USER_INPUT"),
            (json!({ "query": page, "variables": { "n": "ten" } }), "GRAPHQL_VALIDATION_FAILED"),
        ] {
            let answer = post_json(&app, Some(GRAPHQL_RESPONSE), body.clone()).await;
            answer.assert_request_error(400, GRAPHQL_RESPONSE, code);
            let answer = post_json(&app, Some(JSON), body.clone()).await;
            answer.assert_request_error(200, JSON, code);
        }
        // A default stands in for a missing value; a nullable variable may be left out.
        let defaulted = "query Page($n: Int! = 5) { customers(page: { pageSize: $n }) { totalCount } }";
        let answer = post_json(&app, Some(GRAPHQL_RESPONSE), json!({ "query": defaulted })).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["data"]["customers"]["totalCount"], 0);
        let optional = "query Page($page: PageInput) { customers(page: $page) { totalCount } }";
        let answer = post_json(&app, Some(GRAPHQL_RESPONSE), json!({ "query": optional })).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    async fn field_errors_keep_200_and_the_data_entry(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Execution began: the data entry stays (null here, the root field being non-null),
        // and the status is 2xx in both media types.
        for accept in [JSON, GRAPHQL_RESPONSE] {
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .header("accept", accept)
                .json(&json!({ "query": "{ me { subject } }" }))
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(response.headers()["content-type"], accept);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
            assert_eq!(body["errors"][0]["path"], json!(["me"]), "{body}");
            assert!(body.get("data").is_some(), "data entry present: {body}");
        }
        let answer = post_json(&app, Some(GRAPHQL_RESPONSE), json!({
            "query": "{ customer(id: \"not-a-uuid\") { id } }",
        })).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.get("data").is_some(), "{}", answer.body);
        assert_eq!(answer.code(), "BAD_USER_INPUT");
    }

    async fn refusals_take_the_negotiated_media_type(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for accept in [JSON, GRAPHQL_RESPONSE] {
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .header("accept", accept)
                .bearer_auth("not-a-token")
                .json(&typename())
                .send()
                .await
                .expect("POST");
            let answer = answer_of(response).await;
            answer.assert_request_error(401, accept, "UNAUTHENTICATED");
        }
    }

    async fn a_batch_answers_each_request_and_keeps_200(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let batch = json!([{ "query": "{ __typename }" }, { "query": "{" }, { "query": "{ nothingHere }" }]);
        let answer = post_json(&app, Some(GRAPHQL_RESPONSE), batch).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answers = answer.body.as_array().expect("an array");
        assert!(answers[0]["data"]["__typename"].is_string(), "{}", answer.body);
        assert!(answers[1].get("data").is_none(), "{}", answer.body);
        assert_eq!(answers[1]["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
        assert!(answers[2].get("data").is_none(), "{}", answer.body);
        assert_eq!(answers[2]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        let answer = post_json(&app, None, json!([{ "query": "{ __typename }" }, { "qeury": "{ __typename }" }])).await;
        answer.assert_request_error(400, JSON, "BAD_REQUEST");
    }
}

/// An [`Answer`] from a response already sent.
async fn answer_of(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ASCII").to_owned())
            .unwrap_or_default()
    };
    let content_type = header("content-type");
    let request_id = header("x-request-id");
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("a JSON body ({error}), got {status}: {text}"));
    Answer {
        status,
        content_type,
        request_id,
        body,
    }
}
