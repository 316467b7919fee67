//! Customer mutations: create, update, delete with its cascade, versions, and who may do what.

use entity::{account, contact, customer, shared_contact_link};
use kith::auth::Role;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::contacts::{Counts, assert_ok, assert_refused, error, mutate};
use crate::fixtures::World;
use crate::helpers::{TestApp, ids};

const CREATE: &str = "mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id name customerNumber taxId dealerCode version createdAt updatedAt }
    userErrors { field message code }
  }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateCustomerInput!, $v: Int) {
  updateCustomer(id: $id, input: $input, expectedVersion: $v) {
    customer { id name customerNumber taxId dealerCode version createdAt updatedAt }
    userErrors { field message code }
  }
}";

const DELETE: &str = "mutation($id: ID!) {
  deleteCustomer(id: $id) { deletedId userErrors { field message code } }
}";

async fn customers(app: &TestApp) -> u64 {
    customer::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

async fn create(app: &TestApp, input: Value) -> Value {
    mutate(
        app,
        &app.admin(),
        CREATE,
        json!({ "input": input }),
        "createCustomer",
    )
    .await
}

async fn update(app: &TestApp, token: &str, id: Uuid, input: Value, version: Option<i32>) -> Value {
    let vars = json!({ "id": id, "input": input, "v": version });
    mutate(app, token, UPDATE, vars, "updateCustomer").await
}

backend_tests! {
    async fn create_customer_and_read_it_back(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let payload = create(
            &app,
            json!({ "name": "  Northwind  ", "customerNumber": "NW-1", "taxId": "123-45-6789", "dealerCode": "D7" }),
        )
        .await;
        assert_ok(&payload);
        let created = &payload["customer"];
        assert_eq!(created["name"], "Northwind");
        assert_eq!(created["version"], 1);
        assert_eq!(created["taxId"], "***-**-6789");
        let read = app
            .query(&app.admin(), "query($id: ID!) { customer(id: $id) { name customerNumber dealerCode } }",
                json!({ "id": created["id"] }))
            .await;
        assert_eq!(read["customer"], json!({ "name": "Northwind", "customerNumber": "NW-1", "dealerCode": "D7" }));
        let stored = customer::Entity::find().one(&app.db).await.expect("read").expect("row");
        assert_eq!(stored.tax_id.as_deref(), Some("123-45-6789"), "stored whole, masked on the way out");
    }

    async fn invalid_input_is_reported_whole_and_writes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let blank = create(&app, json!({ "name": "   " })).await;
        assert_refused(&blank, "customer", &[error("REQUIRED", &["input", "name"])]);
        let many = create(
            &app,
            json!({ "name": "x".repeat(201), "customerNumber": "n".repeat(65), "taxId": "12", "dealerCode": "bad\u{7}" }),
        )
        .await;
        assert_refused(
            &many,
            "customer",
            &[
                error("TOO_LONG", &["input", "name"]),
                error("TOO_LONG", &["input", "customerNumber"]),
                error("INVALID", &["input", "taxId"]),
                error("INVALID", &["input", "dealerCode"]),
            ],
        );
        assert_eq!(customers(&app).await, 0);
    }

    async fn a_taken_customer_number_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        assert_ok(&create(&app, json!({ "name": "One", "customerNumber": "C-1" })).await);
        let second = create(&app, json!({ "name": "Two", "customerNumber": "C-1" })).await;
        assert_refused(&second, "customer", &[error("CONFLICT", &["input", "customerNumber"])]);
        assert_eq!(customers(&app).await, 1);
    }

    async fn update_is_partial_and_versioned(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = create(&app, json!({ "name": "Acme", "taxId": "123-45-6789", "dealerCode": "D1" })).await;
        let id: Uuid = created["customer"]["id"].as_str().expect("id").parse().expect("uuid");
        let admin = app.admin();
        // Timestamps have millisecond precision: make sure the clock has moved on.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        let updated = update(&app, &admin, id, json!({ "dealerCode": "D2", "taxId": null }), Some(1)).await;
        assert_ok(&updated);
        let after = &updated["customer"];
        assert_eq!(after["name"], "Acme", "absent fields are unchanged");
        assert_eq!(after["dealerCode"], "D2");
        assert_eq!(after["taxId"], Value::Null, "null clears");
        assert_eq!(after["version"], 2);
        assert!(after["updatedAt"].as_str() > created["customer"]["updatedAt"].as_str());

        let cleared_name = update(&app, &admin, id, json!({ "name": null }), None).await;
        assert_refused(&cleared_name, "customer", &[error("REQUIRED", &["input", "name"])]);
        let stale = update(&app, &admin, id, json!({ "name": "Stale" }), Some(1)).await;
        assert_refused(&stale, "customer", &[error("CONFLICT", &["expectedVersion"])]);
        let stale_noop = update(&app, &admin, id, json!({}), Some(1)).await;
        assert_refused(&stale_noop, "customer", &[error("CONFLICT", &["expectedVersion"])]);
        let stored = customer::Entity::find_by_id(id).one(&app.db).await.expect("read").expect("row");
        assert_eq!((stored.name.as_str(), stored.version), ("Acme", 2));
    }

    async fn concurrent_updates_with_one_version_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = create(&app, json!({ "name": "Race" })).await;
        let id: Uuid = created["customer"]["id"].as_str().expect("id").parse().expect("uuid");
        let admin = app.admin();
        let (left, right) = tokio::join!(
            update(&app, &admin, id, json!({ "name": "Left" }), Some(1)),
            update(&app, &admin, id, json!({ "name": "Right" }), Some(1)),
        );
        let winners = [&left, &right].iter().filter(|p| !p["customer"].is_null()).count();
        assert_eq!(winners, 1, "{left} {right}");
        let loser = if left["customer"].is_null() { &left } else { &right };
        assert_refused(loser, "customer", &[error("CONFLICT", &["expectedVersion"])]);
        let stored = customer::Entity::find_by_id(id).one(&app.db).await.expect("read").expect("row");
        assert_eq!(stored.version, 2);
    }

    async fn who_may_change_customers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        assert_ok(&update(&app, &customer_a, world.a, json!({ "dealerCode": "OWN" }), None).await);
        let other = update(&app, &customer_a, world.b, json!({ "dealerCode": "X" }), None).await;
        assert_refused(&other, "customer", &[error("NOT_FOUND", &["id"])]);
        let b = customer::Entity::find_by_id(world.b).one(&app.db).await.expect("read").expect("row");
        assert_eq!(b.dealer_code.as_deref(), Some("D01"));

        let create_as_customer = app
            .graphql(Some(&customer_a), CREATE, json!({ "input": { "name": "Mine" } }))
            .await;
        assert_eq!(create_as_customer.error_code(), "FORBIDDEN");
        let delete_as_customer = app.graphql(Some(&customer_a), DELETE, json!({ "id": world.a })).await;
        assert_eq!(delete_as_customer.error_code(), "FORBIDDEN");
        for role in [Role::Delegate, Role::Intermediary, Role::Agency] {
            let token = app.token(&[role], Some(vec![world.a]), &[]);
            let response = app
                .graphql(Some(&token), UPDATE, json!({ "id": world.a, "input": { "name": "X" } }))
                .await;
            assert_eq!(response.error_code(), "FORBIDDEN", "{role:?}");
        }
        let service = app.token(&[Role::Service], None, &[]);
        assert_ok(&mutate(&app, &service, CREATE, json!({ "input": { "name": "By service" } }), "createCustomer").await);
        let anonymous = app.graphql(None, CREATE, json!({ "input": { "name": "Nobody" } })).await;
        assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
        assert_eq!(customers(&app).await, 3);
    }

    async fn delete_cascades_but_shared_contacts_survive(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let payload = mutate(&app, &app.admin(), DELETE, json!({ "id": world.a }), "deleteCustomer").await;
        assert_ok(&payload);
        assert_eq!(payload["deletedId"], world.a.to_string());

        assert!(customer::Entity::find_by_id(world.a).one(&app.db).await.expect("read").is_none());
        assert!(account::Entity::find_by_id(world.a_account).one(&app.db).await.expect("read").is_none());
        for gone in [world.a_direct, world.a_account_contact] {
            assert!(contact::Entity::find_by_id(gone).one(&app.db).await.expect("read").is_none());
        }
        // Two contacts went, each with one phone and one address of its own.
        let after = Counts::of(&app.db).await;
        assert_eq!(after.contacts, before.contacts - 2);
        assert_eq!(after.contact_points, before.contact_points - 2);
        assert_eq!(after.addresses, before.addresses - 2);
        assert_eq!(after.contact_addresses, before.contact_addresses - 2);
        // The shared contact survives with only its link to b.
        let links = shared_contact_link::Entity::find()
            .filter(shared_contact_link::Column::ContactId.eq(world.shared_ab))
            .all(&app.db)
            .await
            .expect("links");
        assert_eq!(links.iter().map(|l| l.customer_id).collect::<Vec<_>>(), vec![world.b]);
        let b = app
            .query(&app.admin(), "query($b: ID!) { customer(id: $b) { contacts { id } accounts { id } } }",
                json!({ "b": world.b }))
            .await;
        assert_eq!(
            ids(&b["customer"]["contacts"]),
            vec![world.b_direct.to_string(), world.shared_ab.to_string(), world.shared_b.to_string()]
        );
        assert_eq!(ids(&b["customer"]["accounts"]), vec![world.b_account.to_string()]);
    }

    async fn deleting_unknown_or_malformed_ids(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let unknown = mutate(&app, &app.admin(), DELETE, json!({ "id": Uuid::now_v7() }), "deleteCustomer").await;
        assert_refused(&unknown, "deletedId", &[error("NOT_FOUND", &["id"])]);
        let malformed = app.graphql(Some(&app.admin()), DELETE, json!({ "id": "nope" })).await;
        assert_eq!(malformed.error_code(), "BAD_USER_INPUT");
    }
}
