//! Account mutations: create, update (including moving to another customer), delete.

use entity::{account, contact};
use kith::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::contacts::{Counts, assert_ok, assert_refused, error, mutate};
use crate::fixtures::World;
use crate::helpers::{TestApp, ids};

const CREATE: &str = "mutation($input: CreateAccountInput!) {
  createAccount(input: $input) {
    account { id name accountNumber status version customer { id } }
    userErrors { field message code }
  }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateAccountInput!, $v: Int) {
  updateAccount(id: $id, input: $input, expectedVersion: $v) {
    account { id name accountNumber status version customer { id } }
    userErrors { field message code }
  }
}";

const DELETE: &str = "mutation($id: ID!) {
  deleteAccount(id: $id) { deletedId userErrors { field message code } }
}";

async fn accounts(app: &TestApp) -> u64 {
    account::Entity::find().count(&app.db).await.expect("count")
}

async fn create(app: &TestApp, input: Value) -> Value {
    mutate(
        app,
        &app.admin(),
        CREATE,
        json!({ "input": input }),
        "createAccount",
    )
    .await
}

async fn update(app: &TestApp, id: Uuid, input: Value, version: Option<i32>) -> Value {
    let vars = json!({ "id": id, "input": input, "v": version });
    mutate(app, &app.admin(), UPDATE, vars, "updateAccount").await
}

backend_tests! {
    async fn create_account_and_read_it_back(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let plain = create(&app, json!({ "customerId": world.a, "name": "Retail" })).await;
        assert_ok(&plain);
        assert_eq!(plain["account"]["status"], "ACTIVE");
        assert_eq!(plain["account"]["customer"]["id"], world.a.to_string());
        let suspended = create(
            &app,
            json!({ "customerId": world.a, "name": "Old", "accountNumber": "A-9", "status": "SUSPENDED" }),
        )
        .await;
        assert_ok(&suspended);
        let read = app
            .query(&app.admin(), "query($a: ID!) { customer(id: $a) { accounts { name status accountNumber } } }",
                json!({ "a": world.a }))
            .await;
        assert_eq!(
            read["customer"]["accounts"],
            json!([
                { "name": "Alpha Billing", "status": "ACTIVE", "accountNumber": null },
                { "name": "Retail", "status": "ACTIVE", "accountNumber": null },
                { "name": "Old", "status": "SUSPENDED", "accountNumber": "A-9" },
            ])
        );
    }

    async fn invalid_account_input_writes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = accounts(&app).await;
        let unknown = create(&app, json!({ "customerId": Uuid::now_v7(), "name": "X" })).await;
        assert_refused(&unknown, "account", &[error("NOT_FOUND", &["input", "customerId"])]);
        let malformed = create(&app, json!({ "customerId": "nope", "name": " " })).await;
        assert_refused(
            &malformed,
            "account",
            &[error("INVALID", &["input", "customerId"]), error("REQUIRED", &["input", "name"])],
        );
        assert_ok(&create(&app, json!({ "customerId": world.a, "name": "One", "accountNumber": "N1" })).await);
        let taken = create(&app, json!({ "customerId": world.b, "name": "Two", "accountNumber": "N1" })).await;
        assert_refused(&taken, "account", &[error("CONFLICT", &["input", "accountNumber"])]);
        assert_eq!(accounts(&app).await, before + 1);
    }

    async fn update_renames_clears_and_checks_versions(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        assert_ok(&update(&app, world.a_account, json!({ "accountNumber": "X-1" }), None).await);
        let changed = update(
            &app,
            world.a_account,
            json!({ "name": "Alpha Wholesale", "status": "CLOSED", "accountNumber": null }),
            Some(2),
        )
        .await;
        assert_ok(&changed);
        assert_eq!(
            (&changed["account"]["name"], &changed["account"]["status"], &changed["account"]["accountNumber"], &changed["account"]["version"]),
            (&json!("Alpha Wholesale"), &json!("CLOSED"), &Value::Null, &json!(3))
        );
        let stale = update(&app, world.a_account, json!({ "name": "Stale" }), Some(2)).await;
        assert_refused(&stale, "account", &[error("CONFLICT", &["expectedVersion"])]);
        let null_customer = update(&app, world.a_account, json!({ "customerId": null }), None).await;
        assert_refused(&null_customer, "account", &[error("INVALID", &["input", "customerId"])]);
    }

    async fn moving_an_account_moves_its_contacts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let moved = update(&app, world.a_account, json!({ "customerId": world.b }), None).await;
        assert_ok(&moved);
        assert_eq!(moved["account"]["customer"]["id"], world.b.to_string());
        let row = contact::Entity::find_by_id(world.a_account_contact).one(&app.db).await.expect("read").expect("row");
        assert_eq!(row.customer_id, Some(world.b));
        let b = app
            .query(&app.admin(), "query($b: ID!) { customer(id: $b) { accounts { id contacts { id } } } }",
                json!({ "b": world.b }))
            .await;
        let accounts = b["customer"]["accounts"].as_array().expect("accounts");
        assert_eq!(accounts.len(), 2);
        assert_eq!(ids(&accounts[0]["contacts"]), vec![world.a_account_contact.to_string()]);
        // A customer of b now sees the moved contact; one of a no longer does.
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let seen = app
            .query(&customer_a, "query($c: ID!) { contact(id: $c) { id } }", json!({ "c": world.a_account_contact }))
            .await;
        assert_eq!(seen["contact"], Value::Null);
    }

    async fn delete_takes_account_level_contacts_along(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let payload = mutate(&app, &app.admin(), DELETE, json!({ "id": world.a_account }), "deleteAccount").await;
        assert_ok(&payload);
        assert!(contact::Entity::find_by_id(world.a_account_contact).one(&app.db).await.expect("read").is_none());
        assert!(contact::Entity::find_by_id(world.a_direct).one(&app.db).await.expect("read").is_some());
        let after = Counts::of(&app.db).await;
        assert_eq!(after.contacts, before.contacts - 1);
        assert_eq!(after.contact_points, before.contact_points - 1);
        assert_eq!(after.addresses, before.addresses - 1);
        let unknown = mutate(&app, &app.admin(), DELETE, json!({ "id": world.a_account }), "deleteAccount").await;
        assert_refused(&unknown, "deletedId", &[error("NOT_FOUND", &["id"])]);
    }

    async fn only_admin_and_service_change_accounts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = accounts(&app).await;
        for role in [Role::Customer, Role::Delegate, Role::Intermediary, Role::Agency] {
            let token = app.token(&[role], Some(vec![world.a]), &[]);
            let created = app
                .graphql(Some(&token), CREATE, json!({ "input": { "customerId": world.a, "name": "X" } }))
                .await;
            assert_eq!(created.error_code(), "FORBIDDEN", "{role:?}");
            let updated = app
                .graphql(Some(&token), UPDATE, json!({ "id": world.a_account, "input": { "name": "X" } }))
                .await;
            assert_eq!(updated.error_code(), "FORBIDDEN", "{role:?}");
            let deleted = app.graphql(Some(&token), DELETE, json!({ "id": world.a_account })).await;
            assert_eq!(deleted.error_code(), "FORBIDDEN", "{role:?}");
        }
        let service = app.token(&[Role::Service], None, &[]);
        let created = mutate(&app, &service, CREATE, json!({ "input": { "customerId": world.b, "name": "S" } }), "createAccount").await;
        assert_ok(&created);
        assert_eq!(accounts(&app).await, before + 1);
    }
}
