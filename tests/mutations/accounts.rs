//! Account mutations: create, update (including moving to another customer), delete, and who
//! may do what.

use std::time::Duration;

use entity::{account, contact, customer};
use kith::auth::Role;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{assert_ok, assert_refused, error, mutate, person, timestamp};
use crate::mutations::customers::{
    ContactRows, LockedRow, addresses_among, code, id_of, payload, race_two_deletes,
};
use crate::support::fixtures::World;
use crate::support::{TestApp, ids};

const CREATE: &str = "mutation($input: CreateAccountInput!) {
  createAccount(input: $input) {
    account { id name accountNumber status version createdAt updatedAt customer { id } }
    userErrors { field message code }
  }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateAccountInput!, $v: Int) {
  updateAccount(id: $id, input: $input, expectedVersion: $v) {
    account { id name accountNumber status version createdAt updatedAt customer { id } }
    userErrors { field message code }
  }
}";

const DELETE: &str = "mutation($id: ID!) {
  deleteAccount(id: $id) { deletedId userErrors { field message code } }
}";

const READ: &str = "query($id: ID!) {
  account(id: $id) { id name accountNumber status version createdAt updatedAt customer { id } }
}";

const CREATE_CONTACT: &str = "mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { field message code } }
}";

/// How many accounts are stored.
async fn accounts(app: &TestApp) -> u64 {
    account::Entity::find().count(&app.db).await.expect("count")
}

/// The stored account row.
async fn account_row(db: &DatabaseConnection, id: Uuid) -> Option<account::Model> {
    account::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read account")
}

/// The stored contact row.
async fn contact_row(db: &DatabaseConnection, id: Uuid) -> Option<contact::Model> {
    contact::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read contact")
}

/// `createAccount` as ADMIN; returns the payload.
async fn create(app: &TestApp, input: Value) -> Value {
    create_as(app, &app.admin(), input).await
}

async fn create_as(app: &TestApp, token: &str, input: Value) -> Value {
    let vars = json!({ "input": input });
    mutate(app, token, CREATE, vars, "createAccount").await
}

/// `updateAccount` as ADMIN; returns the payload.
async fn update(app: &TestApp, id: Uuid, input: Value, version: Option<i32>) -> Value {
    update_as(app, &app.admin(), id, input, version).await
}

async fn update_as(
    app: &TestApp,
    token: &str,
    id: Uuid,
    input: Value,
    version: Option<i32>,
) -> Value {
    let vars = json!({ "id": id, "input": input, "v": version });
    mutate(app, token, UPDATE, vars, "updateAccount").await
}

/// `deleteAccount` as ADMIN; returns the payload.
async fn delete(app: &TestApp, id: Uuid) -> Value {
    delete_as(app, &app.admin(), id).await
}

async fn delete_as(app: &TestApp, token: &str, id: Uuid) -> Value {
    mutate(app, token, DELETE, json!({ "id": id }), "deleteAccount").await
}

/// `account(id)` as ADMIN sees it.
async fn read_account(app: &TestApp, id: Uuid) -> Value {
    app.query(&app.admin(), READ, json!({ "id": id })).await["account"].clone()
}

backend_tests! {
    async fn create_account_and_read_it_back(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let plain = create(&app, json!({ "customerId": world.a, "name": "  Retail " })).await;
        let suspended = create(
            &app,
            json!({
                "customerId": world.a, "name": "Old", "accountNumber": "A-9", "status": "SUSPENDED"
            }),
        )
        .await;

        assert_ok(&plain);
        let account = &plain["account"];
        assert_eq!(account["name"], "Retail", "trimmed");
        assert_eq!(account["status"], "ACTIVE", "the default");
        assert_eq!(account["accountNumber"], Value::Null);
        assert_eq!(account["version"], 1);
        assert_eq!(account["createdAt"], account["updatedAt"]);
        assert_eq!(account["customer"]["id"], world.a.to_string());
        assert_eq!(
            &read_account(&app, id_of(account)).await,
            account,
            "payload = stored"
        );
        assert_ok(&suspended);
        assert_eq!(
            &read_account(&app, id_of(&suspended["account"])).await,
            &suspended["account"]
        );
        let stored = account_row(&app.db, id_of(&suspended["account"]))
            .await
            .expect("row");
        assert_eq!(
            (
                stored.customer_id,
                stored.name.as_str(),
                stored.account_number.as_deref(),
                stored.status.as_str()
            ),
            (world.a, "Old", Some("A-9"), "SUSPENDED")
        );
        let read = app
            .query(
                &app.admin(),
                "query($a: ID!) { customer(id: $a) { accounts { name status accountNumber } } }",
                json!({ "a": world.a }),
            )
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

    async fn each_invalid_account_input_is_refused_and_nothing_is_written(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = accounts(&app).await;
        let cases = [
            (
                json!({ "customerId": Uuid::now_v7(), "name": "X" }),
                vec![error("NOT_FOUND", &["input", "customerId"])],
            ),
            (
                json!({ "customerId": "nope", "name": "X" }),
                vec![error("INVALID", &["input", "customerId"])],
            ),
            (
                json!({ "customerId": world.a, "name": " " }),
                vec![error("REQUIRED", &["input", "name"])],
            ),
            (
                json!({ "customerId": world.a, "name": "X", "accountNumber": "n".repeat(65) }),
                vec![error("TOO_LONG", &["input", "accountNumber"])],
            ),
            (
                json!({
                    "customerId": "nope", "name": "x".repeat(201), "accountNumber": "bad\u{7}"
                }),
                vec![
                    error("INVALID", &["input", "customerId"]),
                    error("TOO_LONG", &["input", "name"]),
                    error("INVALID", &["input", "accountNumber"]),
                ],
            ),
        ];

        for (input, expected) in cases {
            let payload = create(&app, input.clone()).await;

            assert_refused(&payload, "account", &expected);
            assert_eq!(accounts(&app).await, before, "nothing written for {input}");
        }
    }

    async fn a_taken_account_number_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        assert_ok(
            &create(
                &app,
                json!({ "customerId": world.a, "name": "One", "accountNumber": "N1" }),
            )
            .await,
        );
        let before = accounts(&app).await;

        let taken = create(
            &app,
            json!({ "customerId": world.b, "name": "Two", "accountNumber": "N1" }),
        )
        .await;

        assert_refused(
            &taken,
            "account",
            &[error("CONFLICT", &["input", "accountNumber"])],
        );
        assert_eq!(accounts(&app).await, before);

        // Taking it by an update conflicts just the same and changes nothing.
        let b_account = account_row(&app.db, world.b_account).await;
        let taken_by_update = update(
            &app,
            world.b_account,
            json!({ "accountNumber": "N1" }),
            Some(1),
        )
        .await;
        assert_refused(
            &taken_by_update,
            "account",
            &[error("CONFLICT", &["input", "accountNumber"])],
        );
        assert_eq!(account_row(&app.db, world.b_account).await, b_account);
    }

    async fn update_renames_changes_status_and_clears_the_number(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let numbered = update(
            &app,
            world.a_account,
            json!({ "accountNumber": "X-1" }),
            Some(1),
        )
        .await;
        assert_ok(&numbered);
        assert_eq!(numbered["account"]["accountNumber"], "X-1");
        // Timestamps have millisecond precision: make sure the clock has moved on.
        tokio::time::sleep(Duration::from_millis(5)).await;

        let changed = update(
            &app,
            world.a_account,
            json!({ "name": " Alpha Wholesale ", "status": "CLOSED", "accountNumber": null }),
            Some(2),
        )
        .await;

        assert_ok(&changed);
        let after = &changed["account"];
        assert_eq!(after["name"], "Alpha Wholesale");
        assert_eq!(after["status"], "CLOSED");
        assert_eq!(after["accountNumber"], Value::Null, "null clears");
        assert_eq!(after["version"], 3);
        assert_eq!(
            after["customer"]["id"],
            world.a.to_string(),
            "absent fields are unchanged"
        );
        assert_eq!(after["createdAt"], numbered["account"]["createdAt"]);
        assert!(timestamp(&after["updatedAt"]) > timestamp(&numbered["account"]["updatedAt"]));
        let stored = account_row(&app.db, world.a_account).await.expect("row");
        assert_eq!(
            (
                stored.name.as_str(),
                stored.status.as_str(),
                stored.account_number,
                stored.version
            ),
            ("Alpha Wholesale", "CLOSED", None, 3)
        );
        assert_eq!(
            &read_account(&app, world.a_account).await,
            after,
            "payload = stored"
        );

        let only_status = update(&app, world.a_account, json!({ "status": "ACTIVE" }), None).await;
        assert_ok(&only_status);
        assert_eq!(only_status["account"]["name"], "Alpha Wholesale");
        assert_eq!(only_status["account"]["version"], 4);
    }

    async fn a_stale_expected_version_conflicts_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        assert_ok(&update(&app, world.a_account, json!({ "name": "Renamed" }), Some(1)).await);
        let before = account_row(&app.db, world.a_account).await;
        let contact_before = contact_row(&app.db, world.a_account_contact).await;

        let stale = update(&app, world.a_account, json!({ "name": "Stale" }), Some(1)).await;
        let stale_move = update(
            &app,
            world.a_account,
            json!({ "customerId": world.b }),
            Some(1),
        )
        .await;
        let stale_without_changes = update(&app, world.a_account, json!({}), Some(1)).await;

        for refused in [&stale, &stale_move, &stale_without_changes] {
            assert_refused(
                refused,
                "account",
                &[error("CONFLICT", &["expectedVersion"])],
            );
        }
        assert_eq!(
            account_row(&app.db, world.a_account).await,
            before,
            "nothing written"
        );
        assert_eq!(
            contact_row(&app.db, world.a_account_contact).await,
            contact_before,
            "contacts stay"
        );
    }

    async fn an_account_always_has_a_known_customer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = account_row(&app.db, world.a_account).await;

        let null_customer =
            update(&app, world.a_account, json!({ "customerId": null }), None).await;
        let unknown_customer = update(
            &app,
            world.a_account,
            json!({ "customerId": Uuid::now_v7() }),
            None,
        )
        .await;
        let malformed_customer = update(
            &app,
            world.a_account,
            json!({ "customerId": "nope", "name": " " }),
            None,
        )
        .await;
        let unknown_account = update(&app, Uuid::now_v7(), json!({ "name": "X" }), None).await;
        let malformed_account = app
            .graphql(
                Some(&app.admin()),
                UPDATE,
                json!({ "id": "nope", "input": { "name": "X" } }),
            )
            .await;

        assert_refused(
            &null_customer,
            "account",
            &[error("INVALID", &["input", "customerId"])],
        );
        assert_refused(
            &unknown_customer,
            "account",
            &[error("NOT_FOUND", &["input", "customerId"])],
        );
        assert_refused(
            &malformed_customer,
            "account",
            &[
                error("INVALID", &["input", "customerId"]),
                error("REQUIRED", &["input", "name"]),
            ],
        );
        assert_refused(&unknown_account, "account", &[error("NOT_FOUND", &["id"])]);
        assert_eq!(malformed_account.error_code(), "BAD_USER_INPUT");
        assert_eq!(
            account_row(&app.db, world.a_account).await,
            before,
            "nothing written"
        );
    }

    async fn moving_an_account_moves_its_contacts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let children_before = ContactRows::of(&app.db, &[world.a_account_contact]).await;

        let moved = update(
            &app,
            world.a_account,
            json!({ "customerId": world.b }),
            Some(1),
        )
        .await;

        assert_ok(&moved);
        assert_eq!(moved["account"]["customer"]["id"], world.b.to_string());
        assert_eq!(moved["account"]["version"], 2);
        assert_eq!(
            account_row(&app.db, world.a_account)
                .await
                .expect("row")
                .customer_id,
            world.b
        );
        let contact = contact_row(&app.db, world.a_account_contact)
            .await
            .expect("row");
        assert_eq!(
            (contact.customer_id, contact.account_id),
            (Some(world.b), Some(world.a_account))
        );
        let children_after = ContactRows::of(&app.db, &[world.a_account_contact]).await;
        assert_eq!(
            (
                &children_after.points,
                &children_after.attachments,
                &children_after.addresses
            ),
            (
                &children_before.points,
                &children_before.attachments,
                &children_before.addresses
            ),
            "the contact keeps its points and addresses"
        );
        assert_eq!(
            contact_row(&app.db, world.a_direct)
                .await
                .expect("row")
                .customer_id,
            Some(world.a),
            "direct contacts stay"
        );
        let graph = "query($a: ID!, $b: ID!) {
            a: customer(id: $a) { accounts { id } }
            b: customer(id: $b) { accounts { id contacts { id customer { id } } } }
        }";
        let data = app
            .query(&app.admin(), graph, json!({ "a": world.a, "b": world.b }))
            .await;
        assert_eq!(data["a"]["accounts"], json!([]));
        let b_accounts = &data["b"]["accounts"];
        assert_eq!(
            ids(b_accounts),
            vec![world.a_account.to_string(), world.b_account.to_string()]
        );
        assert_eq!(
            ids(&b_accounts[0]["contacts"]),
            vec![world.a_account_contact.to_string()]
        );
        assert_eq!(
            b_accounts[0]["contacts"][0]["customer"]["id"],
            world.b.to_string()
        );
        // A customer of a no longer reaches the moved contact; one of b does.
        let read_contact = "query($c: ID!) { contact(id: $c) { id } }";
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let customer_b = app.token(&[Role::Customer], Some(vec![world.b]), &[]);
        let vars = json!({ "c": world.a_account_contact });
        assert_eq!(
            app.query(&customer_a, read_contact, vars.clone()).await["contact"],
            Value::Null
        );
        assert_eq!(
            app.query(&customer_b, read_contact, vars).await["contact"]["id"],
            world.a_account_contact.to_string()
        );

        // Moving it to the customer it already has changes nothing.
        let stay = update(
            &app,
            world.a_account,
            json!({ "customerId": world.b }),
            Some(2),
        )
        .await;
        assert_ok(&stay);
        assert_eq!(stay["account"]["version"], 2);
    }

    async fn a_contact_created_while_its_account_moves_follows_the_account(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        // The new contact's insert waits (for its customer's row) after it has read the account;
        // the move starts meanwhile, and must not slip between that read and the insert.
        let lock = LockedRow::lock(&app.db, "customer", world.a).await;

        let (created, moved) = tokio::join!(
            mutate(
                &app,
                &admin,
                CREATE_CONTACT,
                json!({ "input": person(json!({ "accountId": world.a_account }), "New", "Hire") }),
                "createContact"
            ),
            async {
                lock.wait_for(&app.db, 1).await;
                let (moved, ()) = tokio::join!(
                    update(
                        &app,
                        world.a_account,
                        json!({ "customerId": world.b }),
                        None,
                    ),
                    async {
                        // The move queues behind the contact's hold on the account row.
                        lock.wait_for(&app.db, 2).await;
                        lock.release().await;
                    }
                );
                moved
            },
        );

        assert_ok(&created);
        assert_ok(&moved);
        let new_contact = contact_row(&app.db, id_of(&created["contact"]))
            .await
            .expect("row");
        assert_eq!(
            (new_contact.customer_id, new_contact.account_id),
            (Some(world.b), Some(world.a_account)),
            "an account-level contact carries its account's customer"
        );
    }

    async fn delete_takes_account_level_contacts_along(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let owned = ContactRows::of(&app.db, &[world.a_account_contact]).await;
        assert_eq!(
            (owned.points.len(), owned.addresses.len()),
            (1, 1),
            "arranged"
        );
        let others = [
            world.a_direct,
            world.shared_ab,
            world.b_direct,
            world.b_account_contact,
            world.shared_b,
        ];
        let others_before = ContactRows::of(&app.db, &others).await;
        let a_before = customer::Entity::find_by_id(world.a)
            .one(&app.db)
            .await
            .expect("read");

        let payload = delete(&app, world.a_account).await;

        assert_ok(&payload);
        assert_eq!(payload["deletedId"], world.a_account.to_string());
        assert!(account_row(&app.db, world.a_account).await.is_none());
        let owned_after = ContactRows::of(&app.db, &[world.a_account_contact]).await;
        assert_eq!(
            (
                owned_after.contacts.len(),
                owned_after.points.len(),
                owned_after.attachments.len()
            ),
            (0, 0, 0),
            "the contact, its points and its attachments are gone"
        );
        assert_eq!(
            addresses_among(&app.db, &owned.address_ids()).await,
            vec![],
            "orphaned addresses are gone"
        );
        assert_eq!(
            customer::Entity::find_by_id(world.a)
                .one(&app.db)
                .await
                .expect("read"),
            a_before,
            "the customer stays"
        );
        assert_eq!(
            ContactRows::of(&app.db, &others).await,
            others_before,
            "every other contact stays whole"
        );
        let a = app
            .query(
                &app.admin(),
                "query($a: ID!) { customer(id: $a) { accounts { id } contacts { id } } }",
                json!({ "a": world.a }),
            )
            .await;
        assert_eq!(a["customer"]["accounts"], json!([]));
        assert_eq!(
            ids(&a["customer"]["contacts"]),
            vec![world.a_direct.to_string(), world.shared_ab.to_string()]
        );
    }

    async fn deleting_unknown_or_malformed_accounts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let unknown = delete(&app, Uuid::now_v7()).await;
        let malformed = app
            .graphql(Some(&app.admin()), DELETE, json!({ "id": "nope" }))
            .await;
        assert_ok(&delete(&app, world.a_account).await);
        let again = delete(&app, world.a_account).await;

        assert_refused(&unknown, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_eq!(malformed.error_code(), "BAD_USER_INPUT");
        assert_refused(&again, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_eq!(accounts(&app).await, 1);
    }

    async fn concurrent_deletes_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let (winner, loser) =
            race_two_deletes(&app, DELETE, "deleteAccount", "account", world.a_account).await;

        assert_eq!(winner["deletedId"], world.a_account.to_string());
        assert_refused(&loser, "deletedId", &[error("NOT_FOUND", &["id"])]);
    }

    async fn an_account_created_while_its_customer_goes_is_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        // The insert waits for the customer's row after the customer was found; the customer is
        // deleted meanwhile.
        let lock = LockedRow::lock(&app.db, "customer", world.a).await;

        let (response, ()) = tokio::join!(
            app.graphql(
                Some(&admin),
                CREATE,
                json!({ "input": { "customerId": world.a, "name": "Late" } })
            ),
            async {
                lock.wait_for(&app.db, 1).await;
                lock.delete_customer_and_release(&app.db, world.a).await;
            },
        );

        // Whichever went first, the caller hears of it as a user error, never an internal one.
        let created = payload(&response, "createAccount");
        if created["account"].is_null() {
            assert_refused(
                &created,
                "account",
                &[error("NOT_FOUND", &["input", "customerId"])],
            );
        }
        assert_eq!(accounts(&app).await, 1, "only b's account is left");
    }

    async fn only_admin_and_service_change_accounts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = accounts(&app).await;
        let a_account = account_row(&app.db, world.a_account).await;

        for role in [
            Role::Customer,
            Role::Delegate,
            Role::Intermediary,
            Role::Agency,
        ] {
            let token = app.token(&[role], Some(vec![world.a]), &[]);
            let create = app
                .graphql(
                    Some(&token),
                    CREATE,
                    json!({ "input": { "customerId": world.a, "name": "X" } }),
                )
                .await;
            let update = app
                .graphql(
                    Some(&token),
                    UPDATE,
                    json!({ "id": world.a_account, "input": { "name": "X" } }),
                )
                .await;
            let delete = app
                .graphql(Some(&token), DELETE, json!({ "id": world.a_account }))
                .await;
            for response in [create, update, delete] {
                assert_eq!(
                    response.error_code(),
                    "FORBIDDEN",
                    "{role:?}: {}",
                    response.body
                );
            }
        }
        for response in [
            app.graphql(
                None,
                CREATE,
                json!({ "input": { "customerId": world.a, "name": "X" } }),
            )
            .await,
            app.graphql(
                None,
                UPDATE,
                json!({ "id": world.a_account, "input": { "name": "X" } }),
            )
            .await,
            app.graphql(None, DELETE, json!({ "id": world.a_account }))
                .await,
        ] {
            assert_eq!(
                response.error_code(),
                "UNAUTHENTICATED",
                "{}",
                response.body
            );
        }

        assert_eq!(accounts(&app).await, before, "nothing created or deleted");
        assert_eq!(
            account_row(&app.db, world.a_account).await,
            a_account,
            "nothing changed"
        );
    }

    async fn admin_and_service_change_any_account(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let service = app.token(&[Role::Service], None, &[]);
        // ADMIN sees everything, whatever its token's `customers` claim says.
        let admin_of_b = app.token(&[Role::Admin], Some(vec![world.b]), &[]);

        let by_service = create_as(
            &app,
            &service,
            json!({ "customerId": world.b, "name": "S" }),
        )
        .await;
        let by_admin = create_as(
            &app,
            &admin_of_b,
            json!({ "customerId": world.a, "name": "A" }),
        )
        .await;
        let updated_by_service = update_as(
            &app,
            &service,
            world.b_account,
            json!({ "status": "SUSPENDED" }),
            Some(1),
        )
        .await;
        let updated_by_admin = update_as(
            &app,
            &admin_of_b,
            world.a_account,
            json!({ "name": "By admin" }),
            Some(1),
        )
        .await;
        let deleted_by_service = delete_as(&app, &service, id_of(&by_service["account"])).await;
        let deleted_by_admin = delete_as(&app, &admin_of_b, id_of(&by_admin["account"])).await;

        for payload in [
            &by_service,
            &by_admin,
            &updated_by_service,
            &updated_by_admin,
            &deleted_by_service,
            &deleted_by_admin,
        ] {
            assert_ok(payload);
        }
        assert_eq!(
            account_row(&app.db, world.b_account)
                .await
                .expect("row")
                .status,
            "SUSPENDED"
        );
        assert_eq!(
            account_row(&app.db, world.a_account)
                .await
                .expect("row")
                .name,
            "By admin"
        );
        assert_eq!(accounts(&app).await, 2);
    }

    async fn a_forbidden_operation_is_forbidden_whatever_the_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let agency = app.token(&[Role::Agency], None, &[]);

        // API.md: "A role that may never do an operation gets a FORBIDDEN error", so the role
        // is checked before the input: a caller learns nothing about inputs it may not send.
        let invalid_create = app
            .graphql(
                Some(&customer_a),
                CREATE,
                json!({ "input": { "customerId": "nope", "name": "X" } }),
            )
            .await;
        let invalid_update = app
            .graphql(
                Some(&agency),
                UPDATE,
                json!({ "id": world.a_account, "input": { "customerId": null } }),
            )
            .await;

        assert_eq!(
            [code(&invalid_create), code(&invalid_update)],
            ["FORBIDDEN", "FORBIDDEN"],
            "{}\n{}",
            invalid_create.body,
            invalid_update.body
        );
    }
}
