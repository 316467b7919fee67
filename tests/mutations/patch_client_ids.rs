//! patchContact's `patchClientId` is an `ID`: a number (as seed payloads send it) or a string,
//! echoed in `results` in its string form, and unique within the patch either way.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{Counts, assert_refused, error};
use crate::support::TestApp;
use crate::support::fixtures::World;

const PATCH: &str = "mutation($id: ID!, $patch: ContactPatchInput!) {
  patchContact(id: $id, patch: $patch) {
    contact { id }
    results { patchClientId entity action }
    userErrors { field message code }
  }
}";

/// `(patchClientId, entity, action)` of each result, in order.
fn echoed(payload: &Value) -> Vec<(Value, String, String)> {
    payload["results"]
        .as_array()
        .unwrap_or_else(|| panic!("expected results: {payload}"))
        .iter()
        .map(|r| {
            (
                r["patchClientId"].clone(),
                r["entity"].as_str().expect("entity").to_owned(),
                r["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect()
}

fn result(client_id: &str, entity: &str, action: &str) -> (Value, String, String) {
    (json!(client_id), entity.to_owned(), action.to_owned())
}

async fn patch(app: &TestApp, contact: Uuid, patch: Value) -> Value {
    app.query(
        &app.admin(),
        PATCH,
        json!({ "id": contact, "patch": patch }),
    )
    .await["patchContact"]
        .clone()
}

backend_tests! {
    async fn numbers_and_strings_in_variables_are_echoed_as_ids(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        // As seed 002 sends it: a JSON number.
        let payload = patch(
            &app,
            world.a_direct,
            json!({
                "contactPoints": [
                    { "patchType": "CREATE", "patchClientId": 1, "kind": "EMAIL",
                      "value": "ada@example.com" },
                    { "patchType": "CREATE", "patchClientId": "mail-2", "kind": "WEBSITE",
                      "value": "https://example.com" }
                ],
                "addresses": [
                    { "patchType": "CREATE", "patchClientId": 20, "line1": "1 George St",
                      "city": "Sydney", "state": "New South Wales", "postalCode": "2000" },
                    { "patchType": "CREATE", "patchClientId": "-3", "line1": "2 George St",
                      "city": "Sydney", "state": "NSW", "postalCode": "2000" }
                ]
            }),
        )
        .await;

        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        // ID serialises as a string: the number 1 comes back as "1".
        assert_eq!(
            echoed(&payload),
            vec![
                result("1", "CONTACT_POINT", "CREATED"),
                result("mail-2", "CONTACT_POINT", "CREATED"),
                result("20", "ADDRESS", "CREATED"),
                result("-3", "ADDRESS", "CREATED"),
            ]
        );
    }

    async fn numbers_and_strings_as_inline_literals_are_echoed_as_ids(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let query = format!(
            r#"mutation {{
              patchContact(id: "{id}", patch: {{
                contactPoints: [
                  {{ patchType: CREATE, patchClientId: 7, kind: EMAIL, value: "ada@example.com" }}
                  {{ patchType: CREATE, patchClientId: "seven", kind: OTHER, value: "@ada" }}
                ]
              }}) {{ results {{ patchClientId entity action }} userErrors {{ field code }} }}
            }}"#,
            id = world.a_direct
        );

        let payload = app.query(&app.admin(), &query, json!({})).await["patchContact"].clone();

        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        assert_eq!(
            echoed(&payload),
            vec![
                result("7", "CONTACT_POINT", "CREATED"),
                result("seven", "CONTACT_POINT", "CREATED"),
            ]
        );
    }

    async fn a_number_and_its_string_name_the_same_item(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = patch(
            &app,
            world.a_direct,
            json!({
                "contactPoints": [
                    { "patchType": "CREATE", "patchClientId": 1, "kind": "OTHER", "value": "x" },
                    { "patchType": "CREATE", "patchClientId": "1", "kind": "OTHER", "value": "y" }
                ]
            }),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("INVALID", &["patch", "contactPoints", "1", "patchClientId"])],
        );
        assert_eq!(payload["results"], json!([]));
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn a_fraction_or_a_boolean_is_not_an_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        for bad in [json!(1.5), json!(true), json!({ "n": 1 })] {
            let response = app
                .graphql(
                    Some(&app.admin()),
                    PATCH,
                    json!({
                        "id": world.a_direct,
                        "patch": { "contactPoints": [
                            { "patchType": "CREATE", "patchClientId": bad, "kind": "OTHER",
                              "value": "x" }
                        ] }
                    }),
                )
                .await;

            let message = response.body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("patchClientId"), "{bad}: {}", response.body);
            assert!(
                response.body["data"].is_null()
                    || response.body["data"]["patchContact"].is_null(),
                "{bad}: {}",
                response.body
            );
        }
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }
}
