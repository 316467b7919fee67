//! patchContact: ordered, all-or-nothing operations on a contact and its children.

use kith::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::addresses::attach_row;
use crate::mutations::contacts::with_fields;
use crate::support::TestApp;
use crate::support::fixtures::{self, World};

const PATCH: &str = "mutation($id: ID!, $patch: ContactPatchInput!, $v: Int) {
  patchContact(id: $id, patch: $patch, expectedVersion: $v) {
    contact { id version position contactPoints { id kind formatted isPrimary } addresses { id city isPrimary } }
    results { patchClientId entity action id }
    userErrors { field message code }
  }
}";

/// `PATCH` with every field of the contact, for a snapshot of the whole payload.
const PATCH_WHOLE: &str = "mutation($id: ID!, $patch: ContactPatchInput!, $v: Int) {
  patchContact(id: $id, patch: $patch, expectedVersion: $v) {
    contact { ...ContactFields }
    results { patchClientId entity action id }
    userErrors { field message code }
  }
}";

const CHILDREN: &str = "query($id: ID!) {
  contact(id: $id) { version position contactPoints { id kind formatted } addresses { id city isPrimary } }
}";

/// Rows in the child tables, to prove a rejected patch wrote nothing.
async fn row_counts(app: &TestApp) -> [u64; 4] {
    [
        entity::contact_point::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        entity::address::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        entity::contact_address::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        entity::contact::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
    ]
}

async fn children(app: &TestApp, id: uuid::Uuid) -> Value {
    app.query(&app.admin(), CHILDREN, json!({ "id": id })).await["contact"].clone()
}

backend_tests! {
    async fn a_patch_of_every_kind_as_a_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let contact = world.a_direct;
        let phone = children(&app, contact).await["contactPoints"][0]["id"].clone();
        let home = children(&app, contact).await["addresses"][0]["id"].clone();
        let second_phone = fixtures::phone(&app.db, contact).await;
        let old_address = fixtures::address(&app.db, contact, "Bristol", false).await;
        // An address shared with another contact, to detach, and one of a third, to attach.
        let borrowed = children(&app, world.a_account_contact).await["addresses"][0]["id"].clone();
        let borrowed = Uuid::parse_str(borrowed.as_str().expect("id")).expect("uuid");
        attach_row(&app.db, contact, borrowed).await;
        let to_attach = children(&app, world.shared_ab).await["addresses"][0]["id"].clone();

        let response = app
            .graphql(
                Some(&app.admin()),
                &with_fields(PATCH_WHOLE),
                json!({
                    "id": contact,
                    "v": 1,
                    "patch": {
                        "contact": { "title": "Countess", "position": "CTO" },
                        "contactPoints": [
                            { "patchType": "UPDATE", "patchClientId": "1", "id": phone, "number": "5550000" },
                            { "patchType": "CREATE", "patchClientId": "2", "kind": "EMAIL", "value": "ada@Example.com" },
                            { "patchType": "DELETE", "patchClientId": "3", "id": second_phone },
                        ],
                        "addresses": [
                            { "patchType": "CREATE", "patchClientId": "4", "line1": "9 New Rd", "city": "York",
                              "state": "NYK", "postalCode": "YO1 7HH", "isPrimary": true },
                            { "patchType": "UPDATE", "patchClientId": "5", "id": home, "city": "Leeds" },
                            { "patchType": "DELETE", "patchClientId": "6", "id": old_address },
                            { "patchType": "ATTACH", "patchClientId": "7", "id": to_attach },
                            { "patchType": "DETACH", "patchClientId": "borrowed", "id": borrowed },
                        ],
                    },
                }),
            )
            .await;

        assert_eq!(response.data()["patchContact"]["userErrors"], json!([]));
        assert_response_snapshot!("patch_contact", response.body);
    }

    async fn applies_every_kind_of_item_in_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = children(&app, world.a_direct).await;
        let phone = before["contactPoints"][0]["id"].clone();
        let home = before["addresses"][0]["id"].clone();
        // An address of another contact the admin may change, to attach.
        let other = children(&app, world.a_account_contact).await["addresses"][0]["id"].clone();

        let data = app
            .query(
                &app.admin(),
                PATCH,
                json!({
                    "id": world.a_direct,
                    "patch": {
                        "contact": { "position": "CTO" },
                        "contactPoints": [
                            { "patchType": "UPDATE", "patchClientId": "phone", "id": phone, "number": "5550000" },
                            { "patchType": "CREATE", "patchClientId": "mail", "kind": "EMAIL", "value": "ada@Example.com" },
                        ],
                        "addresses": [
                            { "patchType": "CREATE", "patchClientId": "york", "line1": "9 New Rd", "city": "York",
                              "state": "NYK", "postalCode": "YO1 7HH", "isPrimary": true },
                            { "patchType": "UPDATE", "patchClientId": "home", "id": home, "city": "Leeds" },
                            { "patchType": "ATTACH", "patchClientId": "shared-home", "id": other },
                        ],
                    },
                }),
            )
            .await;
        let payload = &data["patchContact"];
        assert_eq!(payload["userErrors"], json!([]));
        let results = payload["results"].as_array().expect("results");
        let summary: Vec<(Value, Value, Value)> = results
            .iter()
            .map(|r| (r["patchClientId"].clone(), r["entity"].clone(), r["action"].clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Value::Null, json!("CONTACT"), json!("UPDATED")),
                (json!("phone"), json!("CONTACT_POINT"), json!("UPDATED")),
                (json!("mail"), json!("CONTACT_POINT"), json!("CREATED")),
                (json!("york"), json!("ADDRESS"), json!("CREATED")),
                (json!("home"), json!("ADDRESS"), json!("UPDATED")),
                (json!("shared-home"), json!("ADDRESS"), json!("ATTACHED")),
            ]
        );
        let after = children(&app, world.a_direct).await;
        assert_eq!(after["position"], "CTO");
        assert_eq!(after["version"], 2);
        assert_eq!(after["contactPoints"][0]["formatted"], "+44 20 5550000");
        assert_eq!(after["contactPoints"][1]["formatted"], "ada@example.com");
        assert_eq!(results[2]["id"], after["contactPoints"][1]["id"]);
        let cities: Vec<(&str, bool)> = after["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .map(|a| (a["city"].as_str().expect("city"), a["isPrimary"].as_bool().expect("flag")))
            .collect();
        // The new primary address replaced the old one as primary; the attached one is shared.
        assert_eq!(cities, vec![("Leeds", false), ("London", false), ("York", true)]);

        // DELETE and DETACH.
        let york = results[3]["id"].clone();
        let data = app
            .query(
                &app.admin(),
                PATCH,
                json!({
                    "id": world.a_direct,
                    "v": 2,
                    "patch": {
                        "contactPoints": [{ "patchType": "DELETE", "patchClientId": "p", "id": phone }],
                        "addresses": [
                            { "patchType": "DELETE", "patchClientId": "a", "id": york },
                            { "patchType": "DETACH", "patchClientId": "b", "id": other },
                        ],
                    },
                }),
            )
            .await;
        assert_eq!(data["patchContact"]["userErrors"], json!([]));
        let after = children(&app, world.a_direct).await;
        assert_eq!(after["contactPoints"].as_array().expect("points").len(), 1);
        assert_eq!(after["addresses"].as_array().expect("addresses").len(), 1);
        // The detached address still serves the contact it came from.
        let other_contact = children(&app, world.a_account_contact).await;
        assert_eq!(other_contact["addresses"][0]["id"], other);
    }

    async fn a_failing_last_item_leaves_no_trace(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before_rows = row_counts(&app).await;
        let before = children(&app, world.a_direct).await;
        let phone = before["contactPoints"][0]["id"].clone();
        let response = app
            .graphql(
                Some(&app.admin()),
                PATCH,
                json!({
                    "id": world.a_direct,
                    "patch": {
                        "contact": { "position": "CEO" },
                        "contactPoints": [
                            { "patchType": "CREATE", "patchClientId": "new", "kind": "EMAIL", "value": "x@y.example" },
                            { "patchType": "DELETE", "patchClientId": "first", "id": phone },
                        ],
                        "addresses": [
                            { "patchType": "CREATE", "patchClientId": "addr", "line1": "1 A St", "city": "Bath",
                              "state": "SOM", "postalCode": "BA1 1AA" },
                            // Valid in shape, but no such address: fails at run time, last.
                            { "patchType": "DETACH", "patchClientId": "missing", "id": uuid::Uuid::now_v7() },
                        ],
                    },
                }),
            )
            .await;
        let payload = &response.data()["patchContact"];
        assert_eq!(payload["contact"], Value::Null);
        assert_eq!(payload["results"], json!([]));
        assert_eq!(payload["userErrors"][0]["field"], json!(["patch", "addresses", "1", "id"]));
        assert_eq!(payload["userErrors"][0]["code"], "NOT_FOUND");
        assert_eq!(row_counts(&app).await, before_rows);
        assert_eq!(children(&app, world.a_direct).await, before);
    }

    async fn validation_errors_point_at_items_and_come_together(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before_rows = row_counts(&app).await;
        let response = app
            .graphql(
                Some(&app.admin()),
                PATCH,
                json!({
                    "id": world.a_direct,
                    "patch": {
                        // Lists belong in the patch's own items, not in its contact fields.
                        "contact": { "emailAddress": "not-an-email", "contactPoints": [] },
                        "contactPoints": [
                            { "patchType": "CREATE", "patchClientId": "x", "kind": "PHONE", "number": "12ab" },
                            { "patchType": "UPDATE", "patchClientId": "x" },
                            { "patchType": "ATTACH", "patchClientId": "y", "id": uuid::Uuid::now_v7() },
                        ],
                        "addresses": [
                            { "patchType": "CREATE", "patchClientId": "z", "line1": "1 A St", "country": "UK" },
                        ],
                    },
                }),
            )
            .await;
        let payload = &response.data()["patchContact"];
        let mut fields: Vec<String> = payload["userErrors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_array().expect("field").iter().map(|s| s.as_str().expect("str")).collect::<Vec<_>>().join("."))
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "patch.addresses.0.city",
                "patch.addresses.0.country",
                "patch.addresses.0.postalCode",
                "patch.addresses.0.state",
                "patch.contact.contactPoints",
                "patch.contact.emailAddress",
                "patch.contactPoints.0.number",
                "patch.contactPoints.1.id",
                "patch.contactPoints.1.patchClientId",
                "patch.contactPoints.2.patchType",
            ]
        );
        assert_eq!(row_counts(&app).await, before_rows);
    }

    async fn version_conflicts_and_scope(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let patch = json!({ "contact": { "position": "X" } });
        let stale = app
            .query(&app.admin(), PATCH, json!({ "id": world.a_direct, "patch": patch, "v": 7 }))
            .await;
        assert_eq!(stale["patchContact"]["userErrors"][0]["code"], "CONFLICT");
        assert_eq!(stale["patchContact"]["userErrors"][0]["field"], json!(["expectedVersion"]));

        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let other = app
            .query(&customer_a, PATCH, json!({ "id": world.b_direct, "patch": patch }))
            .await;
        assert_eq!(other["patchContact"]["userErrors"][0]["code"], "NOT_FOUND");
        assert_eq!(other["patchContact"]["userErrors"][0]["field"], json!(["id"]));

        // A contact point of another contact cannot be reached through this one.
        let b_phone = children(&app, world.b_direct).await["contactPoints"][0]["id"].clone();
        let sneaky = app
            .query(
                &app.admin(),
                PATCH,
                json!({ "id": world.a_direct, "patch": {
                    "contactPoints": [{ "patchType": "DELETE", "patchClientId": "p", "id": b_phone }]
                }}),
            )
            .await;
        assert_eq!(sneaky["patchContact"]["userErrors"][0]["code"], "NOT_FOUND");
        assert_eq!(children(&app, world.b_direct).await["contactPoints"][0]["id"], b_phone);

        let agency = app.token(&[Role::Agency], Some(vec![world.a]), &[]);
        let ok = app
            .query(&agency, PATCH, json!({ "id": world.a_account_contact, "patch": patch }))
            .await;
        assert_eq!(ok["patchContact"]["userErrors"], json!([]));
        // AGENCY may not turn an account-level contact into a direct one.
        let promote = app
            .graphql(
                Some(&agency),
                PATCH,
                json!({ "id": world.a_account_contact, "patch": { "contact": { "accountId": null } } }),
            )
            .await;
        assert_eq!(promote.error_code(), "FORBIDDEN");
    }
}
