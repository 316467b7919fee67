//! The change history (API.md: `history(page)`, `changes(filter, page)`): what each mutation
//! records, in its own transaction, and what each reader sees of it.

use kith::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;
use crate::support::fixtures::World;

const CHANGE: &str = "id at action objectType objectId trackingId customerIds \
    actor { subject roles customers } changes { field oldValue newValue }";

/// POST a GraphQL request with an `x-request-id`, returning the body.
async fn post(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
    request_id: &str,
) -> Value {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON body")
}

/// `history` of a contact as `token` sees it.
async fn contact_history(app: &TestApp, token: &str, id: Uuid) -> Vec<Value> {
    let query = format!(
        "query($id: ID!) {{ contact(id: $id) {{ history(page: {{pageSize: 100}}) {{ totalCount items {{ {CHANGE} }} }} }} }}"
    );
    let data = app.query(token, &query, json!({ "id": id })).await;
    let history = &data["contact"]["history"];
    let items = history["items"].as_array().expect("items").clone();
    assert_eq!(history["totalCount"], json!(items.len()), "{history}");
    items
}

/// Every change, as ADMIN reads them through `changes`.
async fn all_changes(app: &TestApp, filter: Value) -> Vec<Value> {
    let query = format!(
        "query($filter: ChangeFilterInput) {{ changes(filter: $filter, page: {{pageSize: 100}}) {{ items {{ {CHANGE} }} }} }}"
    );
    let data = app
        .query(&app.admin(), &query, json!({ "filter": filter }))
        .await;
    data["changes"]["items"].as_array().expect("items").clone()
}

fn fields(change: &Value) -> Vec<(String, Value, Value)> {
    change["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["field"].as_str().expect("field").to_owned(),
                c["oldValue"].clone(),
                c["newValue"].clone(),
            )
        })
        .collect()
}

backend_tests! {
    async fn an_update_records_old_and_new_values_its_actor_and_tracking_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let delegate = app.token(&[Role::Delegate], Some(vec![world.a]), &[]);
        let body = post(
            &app,
            &delegate,
            "mutation($id: ID!) { updateContact(id: $id, input: {firstName: \"Augusta\", taxId: \"987-65-4321\"}) { contact { id } userErrors { message } } }",
            json!({ "id": world.a_direct }),
            "audit-trail-1",
        )
        .await;
        assert_eq!(body["data"]["updateContact"]["userErrors"], json!([]), "{body}");

        let history = contact_history(&app, &app.admin(), world.a_direct).await;
        assert_eq!(history.len(), 1, "fixtures record nothing; one update, one record: {history:?}");
        let change = &history[0];
        assert_eq!(change["action"], "UPDATED");
        assert_eq!(change["objectType"], "CONTACT");
        assert_eq!(change["objectId"], json!(world.a_direct));
        assert_eq!(change["trackingId"], "audit-trail-1");
        assert_eq!(change["customerIds"], json!([world.a]));
        assert_eq!(
            change["actor"],
            json!({ "subject": "test-user", "roles": ["DELEGATE"], "customers": [world.a] })
        );
        assert_eq!(
            fields(change),
            [
                ("firstName".to_owned(), json!("Ada"), json!("Augusta")),
                ("taxId".to_owned(), json!("***-**-6789"), json!("***-**-4321")),
            ],
            "only what changed, the tax id masked for a reader without the permission"
        );

        let unmasking = app.token(&[Role::Admin], None, &["restunmasktaxid"]);
        let history = contact_history(&app, &unmasking, world.a_direct).await;
        assert_eq!(
            fields(&history[0])[1],
            ("taxId".to_owned(), json!("123-45-6789"), json!("987-65-4321"))
        );
    }

    async fn a_password_is_recorded_only_as_changed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let data = app
            .query(
                &admin,
                "mutation($id: ID!) { updateContact(id: $id, input: {accountPassword: \"correct horse battery\"}) { userErrors { message } } }",
                json!({ "id": world.a_direct }),
            )
            .await;
        assert_eq!(data["updateContact"]["userErrors"], json!([]));
        let history = contact_history(&app, &admin, world.a_direct).await;
        assert_eq!(fields(&history[0]), [("accountPassword".to_owned(), json!(null), json!("changed"))]);
        // Not the password, not its hash: nothing of it is stored in the history.
        let stored: Vec<String> = {
            use sea_orm::EntityTrait;
            entity::change_record::Entity::find()
                .all(&app.db)
                .await
                .expect("records")
                .into_iter()
                .map(|row| row.changes)
                .collect()
        };
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].contains("horse") && !stored[0].contains("argon2"), "{stored:?}");
    }

    async fn a_patch_is_one_transaction_whose_records_share_its_tracking_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let patch = r#"
mutation($id: ID!, $patch: ContactPatchInput!) {
  patchContact(id: $id, patch: $patch) { results { entity action id } userErrors { field message code } }
}"#;
        let good = json!({
            "contact": { "position": "Engineer" },
            "contactPoints": [
                { "patchType": "CREATE", "patchClientId": 1, "kind": "EMAIL", "value": "ada@example.com" },
                { "patchType": "CREATE", "patchClientId": 2, "kind": "WEBSITE", "value": "https://example.com" }
            ],
            "addresses": [
                { "patchType": "CREATE", "patchClientId": 3, "addressType": "POSTAL", "line1": "1 Main St", "city": "Sydney", "state": "NSW", "postalCode": "2000", "country": "AU" }
            ]
        });
        let body = post(&app, &admin, patch, json!({ "id": world.a_direct, "patch": good }), "patch-42").await;
        assert_eq!(body["data"]["patchContact"]["userErrors"], json!([]), "{body}");
        let history = contact_history(&app, &admin, world.a_direct).await;
        let kinds: Vec<(&str, &str)> = history
            .iter()
            .map(|c| (c["objectType"].as_str().unwrap_or(""), c["action"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(
            kinds,
            [("CONTACT", "UPDATED"), ("CONTACT_POINT", "CREATED"), ("CONTACT_POINT", "CREATED"), ("ADDRESS", "CREATED")]
        );
        assert!(history.iter().all(|c| c["trackingId"] == "patch-42"), "{history:?}");
        let ids: Vec<u64> = history.iter().map(|c| c["id"].as_str().and_then(|id| id.parse().ok()).expect("numeric id")).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "newest last: {ids:?}");
        assert!(fields(&history[1]).contains(&("value".to_owned(), json!(null), json!("ada@example.com"))));

        // A patch refused by one bad item writes nothing, so records nothing.
        let bad = json!({
            "contact": { "position": "Manager" },
            "contactPoints": [{ "patchType": "UPDATE", "patchClientId": 9, "id": Uuid::now_v7(), "value": "x@example.com" }]
        });
        let body = post(&app, &admin, patch, json!({ "id": world.a_direct, "patch": bad }), "patch-43").await;
        assert_ne!(body["data"]["patchContact"]["userErrors"], json!([]), "{body}");
        assert_eq!(contact_history(&app, &admin, world.a_direct).await.len(), 4);
    }

    async fn shared_contacts_show_each_reader_only_its_own_customers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let unlink = "mutation($c: ID!, $k: ID!) { removeSharedContact(customerId: $c, contactId: $k) { userErrors { message } } }";
        let link = "mutation($c: ID!, $k: ID!) { addSharedContact(customerId: $c, contactId: $k) { userErrors { message } } }";
        app.query(&admin, unlink, json!({ "c": world.a, "k": world.shared_ab })).await;
        app.query(&admin, link, json!({ "c": world.a, "k": world.shared_ab })).await;
        // A delegate of both customers changes the shared contact.
        let both = app.token(&[Role::Delegate], Some(vec![world.a, world.b]), &[]);
        let data = app
            .query(&both, "mutation($id: ID!) { updateContact(id: $id, input: {position: \"Auditor\"}) { userErrors { message } } }", json!({ "id": world.shared_ab }))
            .await;
        assert_eq!(data["updateContact"]["userErrors"], json!([]));

        let everything = contact_history(&app, &admin, world.shared_ab).await;
        let actions: Vec<&str> = everything.iter().map(|c| c["action"].as_str().unwrap_or("")).collect();
        assert_eq!(actions, ["UNLINKED", "LINKED", "UPDATED"]);
        assert_eq!(fields(&everything[0]), [("linkedCustomers".to_owned(), json!(world.a), json!(null))]);
        assert_eq!(everything[2]["customerIds"].as_array().map(Vec::len), Some(2));

        // B sees the contact, the update and none of A's links; A sees its links.
        let b = app.token(&[Role::Customer], Some(vec![world.b]), &[]);
        let seen_by_b = contact_history(&app, &b, world.shared_ab).await;
        assert_eq!(seen_by_b.len(), 1, "{seen_by_b:?}");
        assert_eq!(seen_by_b[0]["action"], "UPDATED");
        assert_eq!(seen_by_b[0]["customerIds"], json!([world.b]), "other customers are left out");
        assert_eq!(seen_by_b[0]["actor"]["customers"], json!([world.b]));
        let a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        assert_eq!(contact_history(&app, &a, world.shared_ab).await.len(), 3);

        // Outside the reader's scope the history is as absent as the contact.
        let data = app
            .query(&a, "query($id: ID!) { contact(id: $id) { history { totalCount } } }", json!({ "id": world.shared_b }))
            .await;
        assert_eq!(data["contact"], json!(null));
    }

    async fn conversions_deletes_and_cascades_record_every_object(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let data = app
            .query(&admin, "mutation($id: ID!) { convertToSharedContact(id: $id) { userErrors { message } } }", json!({ "id": world.a_direct }))
            .await;
        assert_eq!(data["convertToSharedContact"]["userErrors"], json!([]));
        let history = contact_history(&app, &admin, world.a_direct).await;
        let actions: Vec<&str> = history.iter().map(|c| c["action"].as_str().unwrap_or("")).collect();
        assert_eq!(actions, ["CONVERTED", "LINKED"]);
        assert_eq!(fields(&history[0]), [("customerId".to_owned(), json!(world.a), json!(null))]);

        let data = app
            .query(&admin, "mutation($id: ID!) { deleteCustomer(id: $id) { deletedId userErrors { message } } }", json!({ "id": world.b }))
            .await;
        assert_eq!(data["deleteCustomer"]["userErrors"], json!([]));
        let deleted = all_changes(&app, json!({ "since": null })).await;
        let summary: Vec<(String, String, String)> = deleted
            .iter()
            .skip(2)
            .map(|c| {
                (
                    c["action"].as_str().unwrap_or("").to_owned(),
                    c["objectType"].as_str().unwrap_or("").to_owned(),
                    c["objectId"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let has = |action: &str, object: &str, id: Uuid| {
            summary.contains(&(action.to_owned(), object.to_owned(), id.to_string()))
        };
        assert!(has("DELETED", "CUSTOMER", world.b), "{summary:?}");
        assert!(has("DELETED", "ACCOUNT", world.b_account));
        assert!(has("DELETED", "CONTACT", world.b_direct));
        assert!(has("DELETED", "CONTACT", world.b_account_contact));
        assert!(has("UNLINKED", "CONTACT", world.shared_ab));
        assert!(has("UNLINKED", "CONTACT", world.shared_b));
        assert!(!has("DELETED", "CONTACT", world.shared_ab), "shared contacts survive");
        assert!(summary.iter().any(|(a, o, _)| a == "DELETED" && o == "CONTACT_POINT"), "their contact points go too");
        let deleted_customer = deleted.iter().find(|c| c["objectId"] == json!(world.b)).expect("the customer's record");
        assert!(fields(deleted_customer).contains(&("name".to_owned(), json!("Beta Energy"), json!(null))));
    }

    async fn customers_and_accounts_have_histories_scoped_like_them(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        app.query(&admin, "mutation($id: ID!) { updateCustomer(id: $id, input: {name: \"Alpha Foods Ltd\"}) { userErrors { message } } }", json!({ "id": world.a })).await;
        app.query(&admin, "mutation($id: ID!) { updateAccount(id: $id, input: {name: \"Alpha Billing EU\"}) { userErrors { message } } }", json!({ "id": world.a_account })).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let data = app
            .query(&customer, &format!("query($id: ID!) {{ customer(id: $id) {{ history {{ items {{ {CHANGE} }} }} accounts {{ history {{ items {{ {CHANGE} }} }} }} }} }}"), json!({ "id": world.a }))
            .await;
        let items = &data["customer"]["history"]["items"];
        assert_eq!(items.as_array().map(Vec::len), Some(1));
        assert_eq!(fields(&items[0]), [("name".to_owned(), json!("Alpha Foods"), json!("Alpha Foods Ltd"))]);
        let account_items = &data["customer"]["accounts"][0]["history"]["items"];
        assert_eq!(fields(&account_items[0]), [("name".to_owned(), json!("Alpha Billing"), json!("Alpha Billing EU"))]);

        // AGENCY sees accounts, so their history, and no customer row.
        let agency = app.token(&[Role::Agency], Some(vec![world.a]), &[]);
        let data = app
            .query(&agency, "query($id: ID!) { account(id: $id) { history { totalCount items { action } } } }", json!({ "id": world.a_account }))
            .await;
        assert_eq!(data["account"]["history"]["totalCount"], 1);
    }

    async fn the_change_list_is_for_admin_and_service_and_filters(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let service = app.sign(&{
            let mut claims = app.claims(&[Role::Service], None, &[]);
            claims.sub = Some("billing-sync".to_owned());
            claims
        });
        let before = chrono::Utc::now() - chrono::Duration::seconds(1);
        app.query(&service, "mutation($id: ID!) { updateAccount(id: $id, input: {status: SUSPENDED}) { userErrors { message } } }", json!({ "id": world.b_account })).await;
        app.query(&app.admin(), "mutation($id: ID!) { updateContact(id: $id, input: {position: \"CFO\"}) { userErrors { message } } }", json!({ "id": world.b_direct })).await;

        let by_service = all_changes(&app, json!({ "actorSubject": "billing-sync" })).await;
        assert_eq!(by_service.len(), 1);
        assert_eq!(by_service[0]["objectType"], "ACCOUNT");
        assert_eq!(by_service[0]["actor"]["roles"], json!(["SERVICE"]));
        let contacts = all_changes(&app, json!({ "objectType": "CONTACT", "since": before.to_rfc3339() })).await;
        assert_eq!(contacts.len(), 1);
        let later = all_changes(&app, json!({ "since": (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc3339() })).await;
        assert_eq!(later, Vec::<Value>::new());

        let customer = app.token(&[Role::Customer], Some(vec![world.b]), &[]);
        let response = app.graphql(Some(&customer), "{ changes { totalCount } }", json!({})).await;
        assert_eq!(response.error_code(), "FORBIDDEN");
    }
}
