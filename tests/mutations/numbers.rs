//! No oracle across tenants: a `CONFLICT` only ever concerns rows the caller may see. Contact
//! numbers are unique within one customer (its direct and account-level contacts), shared
//! contacts' numbers are compared with none, `saveContact` matches numbers within the owner,
//! and only ADMIN and SERVICE set customer numbers.

use entity::{account, contact, customer};
use kith::auth::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    Counts, assert_ok, assert_refused, contact_row, error, mutate, person,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

const CREATE: &str = "mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id contactNumber } userErrors { field message code } }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateContactInput!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field message code } }
}";

const SAVE: &str = "mutation($input: SaveContactInput!) {
  saveContact(input: $input) {
    created contact { id position customer { id } } userErrors { field message code }
  }
}";

const CONVERT: &str = "mutation($id: ID!) {
  convertToSharedContact(id: $id) { contact { id isShared } userErrors { field message code } }
}";

const UPDATE_CUSTOMER: &str = "mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) {
    customer { id customerNumber dealerCode } userErrors { field message code }
  }
}";

const UPDATE_ACCOUNT: &str = "mutation($id: ID!, $input: UpdateAccountInput!) {
  updateAccount(id: $id, input: $input) {
    account { id customer { id } } userErrors { field message code }
  }
}";

/// Give a stored contact a number, directly in the database.
async fn set_number(app: &TestApp, id: Uuid, number: &str) {
    contact::Entity::update_many()
        .col_expr(contact::Column::ContactNumber, Expr::value(number))
        .filter(contact::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("set number");
}

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    mutate(
        app,
        token,
        CREATE,
        json!({ "input": input }),
        "createContact",
    )
    .await
}

async fn save(app: &TestApp, token: &str, input: Value) -> Value {
    mutate(app, token, SAVE, json!({ "input": input }), "saveContact").await
}

fn numbered(owner: Value, last: &str, number: &str) -> Value {
    let mut input = person(owner, "Numbered", last);
    input["contactNumber"] = json!(number);
    input
}

async fn with_number(app: &TestApp, number: &str) -> Vec<contact::Model> {
    contact::Entity::find()
        .filter(contact::Column::ContactNumber.eq(number))
        .all(&app.db)
        .await
        .expect("read")
}

async fn customer_number(app: &TestApp, id: Uuid) -> Option<String> {
    customer::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("customer")
        .customer_number
}

backend_tests! {
    async fn another_customers_contact_number_is_free_to_take(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        set_number(&app, world.b_direct, "B-0001").await;
        set_number(&app, world.b_account_contact, "B-0002").await;
        set_number(&app, world.shared_b, "B-0003").await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let rows_of_b = || async {
            let mut rows = Vec::new();
            for id in [world.b_direct, world.b_account_contact, world.shared_b] {
                rows.push(contact_row(&app.db, &id.to_string()).await);
            }
            rows
        };
        let b_before = rows_of_b().await;

        let direct = numbered(json!({ "customerId": world.a }), "One", "B-0001");
        let at_account = numbered(json!({ "accountId": world.a_account }), "Two", "B-0002");
        let saved_input = numbered(json!({ "customerId": world.a }), "Three", "B-0003");
        let direct = create(&app, &customer_a, direct).await;
        let at_account = create(&app, &customer_a, at_account).await;
        let saved = save(&app, &customer_a, saved_input).await;

        assert_ok(&direct);
        assert_ok(&at_account);
        assert_ok(&saved);
        assert_eq!(saved["created"], true, "{saved}");
        assert_eq!(saved["contact"]["customer"]["id"], world.a.to_string());
        assert_eq!(rows_of_b().await, b_before, "B's contacts untouched");
        for number in ["B-0001", "B-0002", "B-0003"] {
            assert_eq!(with_number(&app, number).await.len(), 2, "{number}");
        }
    }

    async fn a_customers_own_duplicate_number_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        set_number(&app, world.a_direct, "A-1").await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let before = Counts::of(&app.db).await;
        let account_contact = contact_row(&app.db, &world.a_account_contact.to_string()).await;

        let direct = create(&app, &customer_a, numbered(json!({ "customerId": world.a }), "One", "A-1")).await;
        let at_account =
            create(&app, &customer_a, numbered(json!({ "accountId": world.a_account }), "Two", "A-1"))
                .await;
        let updated = mutate(
            &app,
            &customer_a,
            UPDATE,
            json!({ "id": world.a_account_contact, "input": { "contactNumber": "A-1" } }),
            "updateContact",
        )
        .await;

        for payload in [&direct, &at_account, &updated] {
            assert_refused(payload, "contact", &[error("CONFLICT", &["input", "contactNumber"])]);
        }
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
        assert_eq!(
            contact_row(&app.db, &world.a_account_contact.to_string()).await,
            account_contact
        );
    }

    async fn save_matches_a_number_within_the_owner_or_the_callers_reach(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        set_number(&app, world.a_direct, "N-1").await;
        set_number(&app, world.b_direct, "N-1").await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let admin = app.admin();

        let in_a = save(&app, &customer_a, json!({ "customerId": world.a, "contactNumber": "N-1", "position": "Buyer" })).await;
        let unowned_by_a =
            save(&app, &customer_a, json!({ "contactNumber": "N-1", "position": "Again" })).await;
        let b_row = contact_row(&app.db, &world.b_direct.to_string()).await;
        let a_row = contact_row(&app.db, &world.a_direct.to_string()).await;
        let ambiguous = save(&app, &admin, json!({ "contactNumber": "N-1", "position": "X" })).await;
        let unchanged = (
            contact_row(&app.db, &world.a_direct.to_string()).await,
            contact_row(&app.db, &world.b_direct.to_string()).await,
        );
        let in_b = save(&app, &admin, json!({ "customerId": world.b, "contactNumber": "N-1", "position": "Seller" })).await;

        for (payload, id, position) in [
            (&in_a, world.a_direct, "Buyer"),
            (&unowned_by_a, world.a_direct, "Again"),
            (&in_b, world.b_direct, "Seller"),
        ] {
            assert_ok(payload);
            assert_eq!(payload["created"], false, "{payload}");
            assert_eq!(payload["contact"]["id"], id.to_string());
            assert_eq!(payload["contact"]["position"], position);
        }
        // ADMIN sees both: the number alone names no single contact.
        assert_refused(&ambiguous, "contact", &[error("CONFLICT", &["input", "contactNumber"])]);
        assert_eq!(unchanged, (a_row, b_row), "nothing written");
        assert_eq!(with_number(&app, "N-1").await.len(), 2);
    }

    async fn shared_contact_numbers_are_compared_with_none(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        set_number(&app, world.b_direct, "SH-1").await;
        set_number(&app, world.a_direct, "A-9").await;
        let admin = app.admin();
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let shared = create(&app, &admin, numbered(json!({}), "Shared", "SH-1")).await;
        let shared_again = create(&app, &admin, numbered(json!({}), "Again", "SH-1")).await;
        // A's contact leaves A's numbers when it becomes shared: A may reuse its number, and
        // the conversion compared it with nothing.
        let converted = mutate(&app, &customer_a, CONVERT, json!({ "id": world.a_direct }), "convertToSharedContact").await;
        let reused = create(&app, &customer_a, numbered(json!({ "customerId": world.a }), "Reused", "A-9")).await;

        for payload in [&shared, &shared_again, &converted, &reused] {
            assert_ok(payload);
        }
        assert_eq!(converted["contact"]["isShared"], true);
        assert_eq!(with_number(&app, "SH-1").await.len(), 3);
        assert_eq!(with_number(&app, "A-9").await.len(), 2);
    }

    async fn only_admin_and_service_set_customer_numbers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let b_number = customer_number(&app, world.b).await.expect("fixture number");
        let a_before = customer::Entity::find_by_id(world.a).one(&app.db).await.expect("read");

        for number in [json!(b_number), json!("FRESH-1"), Value::Null] {
            let response = app
                .graphql(
                    Some(&customer_a),
                    UPDATE_CUSTOMER,
                    json!({ "id": world.a, "input": { "customerNumber": number, "dealerCode": "X" } }),
                )
                .await;
            assert_eq!(response.error_code(), "FORBIDDEN", "{}", response.body);
            assert_eq!(response.body["data"], Value::Null, "{}", response.body);
        }
        assert_eq!(
            customer::Entity::find_by_id(world.a).one(&app.db).await.expect("read"),
            a_before,
            "nothing written"
        );
        // The customer's other details stay its own to change.
        let own = mutate(&app, &customer_a, UPDATE_CUSTOMER, json!({ "id": world.a, "input": { "dealerCode": "OWN" } }), "updateCustomer").await;
        assert_ok(&own);

        // ADMIN and SERVICE see every customer: a taken number is a CONFLICT for them.
        let taken = mutate(&app, &app.admin(), UPDATE_CUSTOMER, json!({ "id": world.a, "input": { "customerNumber": b_number } }), "updateCustomer").await;
        assert_refused(&taken, "customer", &[error("CONFLICT", &["input", "customerNumber"])]);
        let service = app.token(&[Role::Service], None, &[]);
        let by_service = mutate(&app, &service, UPDATE_CUSTOMER, json!({ "id": world.a, "input": { "customerNumber": "S-NEW" } }), "updateCustomer").await;
        assert_ok(&by_service);
        assert_eq!(customer_number(&app, world.a).await.as_deref(), Some("S-NEW"));
    }

    async fn moving_into_a_customer_that_holds_the_number_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        set_number(&app, world.a_account_contact, "M-1").await;
        set_number(&app, world.a_direct, "M-2").await;
        set_number(&app, world.b_direct, "M-1").await;
        set_number(&app, world.b_account_contact, "M-2").await;
        let admin = app.admin();
        let before = Counts::of(&app.db).await;
        let moved_contact = contact_row(&app.db, &world.a_account_contact.to_string()).await;
        let direct = contact_row(&app.db, &world.a_direct.to_string()).await;

        let account = mutate(&app, &admin, UPDATE_ACCOUNT, json!({ "id": world.a_account, "input": { "customerId": world.b } }), "updateAccount").await;
        let contact = mutate(&app, &admin, UPDATE, json!({ "id": world.a_direct, "input": { "customerId": world.b } }), "updateContact").await;

        assert_refused(&account, "account", &[error("CONFLICT", &["input", "customerId"])]);
        assert_refused(&contact, "contact", &[error("CONFLICT", &["input", "contactNumber"])]);
        let stored = account::Entity::find_by_id(world.a_account).one(&app.db).await.expect("read").expect("account");
        assert_eq!(stored.customer_id, world.a, "the account stayed");
        assert_eq!(contact_row(&app.db, &world.a_account_contact.to_string()).await, moved_contact);
        assert_eq!(contact_row(&app.db, &world.a_direct.to_string()).await, direct);
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn concurrent_ownerless_saves_of_a_new_number_make_one_contact(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        World::create(&app.db).await;
        let admin = app.admin();

        for round in 0..5 {
            let number = format!("SHARED-RACE-{round}");
            let input = numbered(json!({}), &format!("Round{round}"), &number);

            let (left, right) = tokio::join!(
                save(&app, &admin, input.clone()),
                save(&app, &admin, input.clone()),
            );

            assert_ok(&left);
            assert_ok(&right);
            assert_eq!(left["contact"]["id"], right["contact"]["id"], "round {round}");
            let mut created = [left["created"].as_bool(), right["created"].as_bool()];
            created.sort();
            assert_eq!(created, [Some(false), Some(true)], "round {round}");
            assert_eq!(with_number(&app, &number).await.len(), 1, "round {round}");
        }
    }
}
