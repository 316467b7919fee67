//! Customer mutations: create, update, delete with its cascade, versions, and who may do what.
//! Also home of the row-level helpers the account tests share (`ContactRows`, `LockedRow`).

use std::time::Duration;

use entity::{
    account, address, contact, contact_address, contact_point, customer, shared_contact_link,
};
use kith::auth::Role;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{assert_ok, assert_refused, error, mutate, timestamp};
use crate::support::fixtures::{self, MASKED_TAX_ID, Owner, TAX_ID, World};
use crate::support::{GqlResponse, TestApp, ids};

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

const READ: &str = "query($id: ID!) {
  customer(id: $id) { id name customerNumber taxId dealerCode version createdAt updatedAt }
}";

/// How many customers are stored.
async fn customers(app: &TestApp) -> u64 {
    customer::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

/// The stored customer row.
async fn customer_row(db: &DatabaseConnection, id: Uuid) -> Option<customer::Model> {
    customer::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read customer")
}

/// The stored account row.
async fn account_row(db: &DatabaseConnection, id: Uuid) -> Option<account::Model> {
    account::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read account")
}

/// The id of a customer (or any object) in a payload.
pub fn id_of(object: &Value) -> Uuid {
    object["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("expected an object with an id: {object}"))
}

/// `createCustomer` as ADMIN; returns the payload.
async fn create(app: &TestApp, input: Value) -> Value {
    create_as(app, &app.admin(), input).await
}

async fn create_as(app: &TestApp, token: &str, input: Value) -> Value {
    let vars = json!({ "input": input });
    mutate(app, token, CREATE, vars, "createCustomer").await
}

/// A customer created through the API, as the payload shows it.
async fn created(app: &TestApp, input: Value) -> Value {
    let payload = create(app, input).await;
    assert_ok(&payload);
    payload["customer"].clone()
}

/// `updateCustomer` as ADMIN; returns the payload.
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
    mutate(app, token, UPDATE, vars, "updateCustomer").await
}

/// `deleteCustomer` as ADMIN; returns the payload.
async fn delete(app: &TestApp, id: Uuid) -> Value {
    delete_as(app, &app.admin(), id).await
}

async fn delete_as(app: &TestApp, token: &str, id: Uuid) -> Value {
    mutate(app, token, DELETE, json!({ "id": id }), "deleteCustomer").await
}

/// `customer(id)` as `token` sees it.
async fn read_customer(app: &TestApp, token: &str, id: Uuid) -> Value {
    app.query(token, READ, json!({ "id": id })).await["customer"].clone()
}

/// Every stored row hanging off some contacts: the contacts, their contact points, their
/// address attachments, those addresses and their shared links. Taken before and after a write
/// to prove what the write touched.
#[derive(Debug, Default, PartialEq)]
pub struct ContactRows {
    pub contacts: Vec<contact::Model>,
    pub points: Vec<contact_point::Model>,
    pub attachments: Vec<contact_address::Model>,
    pub addresses: Vec<address::Model>,
    pub links: Vec<shared_contact_link::Model>,
}

impl ContactRows {
    pub async fn of(db: &DatabaseConnection, contact_ids: &[Uuid]) -> ContactRows {
        let ids = || contact_ids.iter().copied();
        let attachments = contact_address::Entity::find()
            .filter(contact_address::Column::ContactId.is_in(ids()))
            .order_by_asc(contact_address::Column::ContactId)
            .order_by_asc(contact_address::Column::AddressId)
            .all(db)
            .await
            .expect("read attachments");
        let address_ids: Vec<Uuid> = attachments.iter().map(|a| a.address_id).collect();
        ContactRows {
            contacts: contact::Entity::find()
                .filter(contact::Column::Id.is_in(ids()))
                .order_by_asc(contact::Column::Id)
                .all(db)
                .await
                .expect("read contacts"),
            points: contact_point::Entity::find()
                .filter(contact_point::Column::ContactId.is_in(ids()))
                .order_by_asc(contact_point::Column::Id)
                .all(db)
                .await
                .expect("read contact points"),
            addresses: addresses_among(db, &address_ids).await,
            attachments,
            links: shared_contact_link::Entity::find()
                .filter(shared_contact_link::Column::ContactId.is_in(ids()))
                .order_by_asc(shared_contact_link::Column::ContactId)
                .order_by_asc(shared_contact_link::Column::CustomerId)
                .all(db)
                .await
                .expect("read links"),
        }
    }

    /// Ids of the attached addresses.
    pub fn address_ids(&self) -> Vec<Uuid> {
        self.addresses.iter().map(|a| a.id).collect()
    }
}

/// The stored addresses among `ids`.
pub async fn addresses_among(db: &DatabaseConnection, ids: &[Uuid]) -> Vec<address::Model> {
    address::Entity::find()
        .filter(address::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(address::Column::Id)
        .all(db)
        .await
        .expect("read addresses")
}

/// A row lock held by the test on PostgreSQL (`SELECT .. FOR UPDATE`), so that requests that
/// write the row queue behind it after their reads: a race made deterministic. SQLite takes
/// the write lock when a write transaction begins, so writers there go one by one anyway and
/// no lock is taken.
pub struct LockedRow(Option<DatabaseTransaction>);

impl LockedRow {
    pub async fn lock(db: &DatabaseConnection, table: &str, id: Uuid) -> LockedRow {
        if db.get_database_backend() != DbBackend::Postgres {
            return LockedRow(None);
        }
        let txn = db.begin().await.expect("begin");
        txn.execute_unprepared(&format!(
            "SELECT id FROM {table} WHERE id = '{id}' FOR UPDATE"
        ))
        .await
        .expect("lock row");
        LockedRow(Some(txn))
    }

    /// Wait until `waiters` statements of other sessions wait for a lock (at most 5 s).
    pub async fn wait_for(&self, db: &DatabaseConnection, waiters: i64) {
        if self.0.is_none() {
            return;
        }
        let count = Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        for _ in 0..500 {
            let row = db
                .query_one_raw(count.clone())
                .await
                .expect("pg_stat_activity");
            let waiting: i64 = row.expect("a row").try_get("", "n").expect("count");
            if waiting >= waiters {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Release the lock.
    pub async fn release(self) {
        if let Some(txn) = self.0 {
            txn.commit().await.expect("release lock");
        }
    }

    /// Delete customer `id` while still holding the lock, then release it.
    pub async fn delete_customer_and_release(self, db: &DatabaseConnection, id: Uuid) {
        match self.0 {
            Some(txn) => {
                customer::Entity::delete_by_id(id)
                    .exec(&txn)
                    .await
                    .expect("delete");
                txn.commit().await.expect("release lock");
            }
            None => {
                customer::Entity::delete_by_id(id)
                    .exec(db)
                    .await
                    .expect("delete");
            }
        }
    }
}

/// Which of two payloads wrote (`object` set) and which was refused, or a panic when it is not
/// exactly one of each.
pub fn winner_and_loser<'a>(
    left: &'a Value,
    right: &'a Value,
    object: &str,
) -> (&'a Value, &'a Value) {
    match (left[object].is_null(), right[object].is_null()) {
        (false, true) => (left, right),
        (true, false) => (right, left),
        _ => panic!("expected exactly one winner:\n{left}\n{right}"),
    }
}

/// Send `delete` (a mutation with variable `$id`) for row `id` of `table` twice at once, both
/// requests queued behind a test-held lock on the row after they have read it, and return
/// the `field` payloads of the winner and of the loser.
pub async fn race_two_deletes(
    app: &TestApp,
    delete: &str,
    field: &str,
    table: &str,
    id: Uuid,
) -> (Value, Value) {
    let admin = app.admin();
    let request = || app.graphql(Some(&admin), delete, json!({ "id": id }));
    let lock = LockedRow::lock(&app.db, table, id).await;

    let (left, right, ()) = tokio::join!(request(), request(), async {
        lock.wait_for(&app.db, 2).await;
        lock.release().await;
    });

    let (left, right) = (payload(&left, field), payload(&right, field));
    let (winner, loser) = winner_and_loser(&left, &right, "deletedId");
    (winner.clone(), loser.clone())
}

/// The `extensions.code` of a response's first error; null when it has none.
pub fn code(response: &GqlResponse) -> &Value {
    &response.body["errors"][0]["extensions"]["code"]
}

/// The payload of a response that must have no errors.
pub fn payload(response: &GqlResponse, field: &str) -> Value {
    response.data()[field].clone()
}

backend_tests! {
    async fn create_customer_and_read_it_back(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let payload = create(
            &app,
            json!({
                "name": "  Northwind  ", "customerNumber": "NW-1",
                "taxId": TAX_ID, "dealerCode": "D7"
            }),
        )
        .await;

        assert_ok(&payload);
        let customer = &payload["customer"];
        assert_eq!(customer["name"], "Northwind", "trimmed");
        assert_eq!(customer["customerNumber"], "NW-1");
        assert_eq!(customer["dealerCode"], "D7");
        assert_eq!(
            customer["taxId"], MASKED_TAX_ID,
            "masked for an ADMIN without the permission"
        );
        assert_eq!(customer["version"], 1);
        assert_eq!(customer["createdAt"], customer["updatedAt"]);
        let id = id_of(customer);
        assert_eq!(
            &read_customer(&app, &app.admin(), id).await,
            customer,
            "payload = stored"
        );
        let unmasking = app.token(&[Role::Admin], None, &["restunmasktaxid"]);
        assert_eq!(read_customer(&app, &unmasking, id).await["taxId"], TAX_ID);
        let stored = customer_row(&app.db, id).await.expect("row");
        assert_eq!(stored.name, "Northwind");
        assert_eq!(
            stored.tax_id.as_deref(),
            Some(TAX_ID),
            "stored whole, masked on the way out"
        );
        assert_eq!(customers(&app).await, 1);
    }

    async fn each_invalid_field_is_refused_and_nothing_is_written(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let cases = [
            (
                json!({ "name": "   " }),
                error("REQUIRED", &["input", "name"]),
            ),
            (
                json!({ "name": "x".repeat(201) }),
                error("TOO_LONG", &["input", "name"]),
            ),
            (
                json!({ "name": "Acme", "taxId": "12" }),
                error("INVALID", &["input", "taxId"]),
            ),
            (
                json!({ "name": "Acme", "taxId": "123_45_6789" }),
                error("INVALID", &["input", "taxId"]),
            ),
            (
                json!({ "name": "Acme", "customerNumber": "n".repeat(65) }),
                error("TOO_LONG", &["input", "customerNumber"]),
            ),
            (
                json!({ "name": "Acme", "dealerCode": "D\u{7}" }),
                error("INVALID", &["input", "dealerCode"]),
            ),
        ];

        for (input, expected) in cases {
            let payload = create(&app, input.clone()).await;

            assert_refused(&payload, "customer", &[expected]);
            assert_eq!(customers(&app).await, 0, "nothing written for {input}");
        }
        // The limits themselves are fine.
        created(
            &app,
            json!({ "name": "x".repeat(200), "customerNumber": "n".repeat(64) }),
        )
        .await;
        assert_eq!(customers(&app).await, 1);
    }

    async fn every_problem_is_reported_in_one_payload(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let payload = create(
            &app,
            json!({
                "name": " ", "customerNumber": "n".repeat(65),
                "taxId": "12", "dealerCode": "bad\u{7}"
            }),
        )
        .await;

        assert_refused(
            &payload,
            "customer",
            &[
                error("REQUIRED", &["input", "name"]),
                error("TOO_LONG", &["input", "customerNumber"]),
                error("INVALID", &["input", "taxId"]),
                error("INVALID", &["input", "dealerCode"]),
            ],
        );
        assert!(
            payload["userErrors"]
                .as_array()
                .expect("errors")
                .iter()
                .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
            "every error says what is wrong: {payload}"
        );
        assert_eq!(customers(&app).await, 0);
    }

    async fn a_taken_customer_number_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let one = created(&app, json!({ "name": "One", "customerNumber": "C-1" })).await;

        let second = create(&app, json!({ "name": "Two", "customerNumber": "C-1" })).await;

        assert_refused(
            &second,
            "customer",
            &[error("CONFLICT", &["input", "customerNumber"])],
        );
        assert_eq!(customers(&app).await, 1);

        // Taking it by an update conflicts just the same and changes nothing.
        let two = created(&app, json!({ "name": "Two", "customerNumber": "C-2" })).await;
        let before = customer_row(&app.db, id_of(&two)).await;
        let taken = update(&app, id_of(&two), json!({ "customerNumber": "C-1" }), None).await;
        assert_refused(
            &taken,
            "customer",
            &[error("CONFLICT", &["input", "customerNumber"])],
        );
        assert_eq!(customer_row(&app.db, id_of(&two)).await, before);

        // Once cleared, the number is free again.
        assert_ok(&update(&app, id_of(&one), json!({ "customerNumber": null }), None).await);
        assert_ok(&update(&app, id_of(&two), json!({ "customerNumber": "C-1" }), None).await);
    }

    async fn concurrent_creates_with_one_number_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let (left, right) = tokio::join!(
            create(&app, json!({ "name": "Left", "customerNumber": "SAME" })),
            create(&app, json!({ "name": "Right", "customerNumber": "SAME" })),
        );

        let (_, loser) = winner_and_loser(&left, &right, "customer");
        assert_refused(
            loser,
            "customer",
            &[error("CONFLICT", &["input", "customerNumber"])],
        );
        assert_eq!(customers(&app).await, 1);
    }

    async fn update_changes_only_the_fields_given(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let before = created(
            &app,
            json!({
                "name": "Acme", "customerNumber": "AC-1", "taxId": TAX_ID, "dealerCode": "D1"
            }),
        )
        .await;
        let id = id_of(&before);
        // Timestamps have millisecond precision: make sure the clock has moved on.
        tokio::time::sleep(Duration::from_millis(5)).await;

        let payload = update(
            &app,
            id,
            json!({ "dealerCode": "D2", "taxId": null }),
            Some(1),
        )
        .await;

        assert_ok(&payload);
        let after = &payload["customer"];
        assert_eq!(after["name"], "Acme", "absent fields are unchanged");
        assert_eq!(
            after["customerNumber"], "AC-1",
            "absent fields are unchanged"
        );
        assert_eq!(after["dealerCode"], "D2");
        assert_eq!(after["taxId"], Value::Null, "null clears");
        assert_eq!(after["version"], 2);
        assert_eq!(after["createdAt"], before["createdAt"]);
        assert!(
            timestamp(&after["updatedAt"]) > timestamp(&before["updatedAt"]),
            "{before} -> {after}"
        );
        let stored = customer_row(&app.db, id).await.expect("row");
        assert_eq!(
            (
                stored.name.as_str(),
                stored.customer_number.as_deref(),
                stored.tax_id,
                stored.dealer_code.as_deref(),
                stored.version
            ),
            ("Acme", Some("AC-1"), None, Some("D2"), 2)
        );
        assert_eq!(
            &read_customer(&app, &app.admin(), id).await,
            after,
            "payload = stored"
        );

        let renamed = update(&app, id, json!({ "name": "  Acme Ltd " }), Some(2)).await;
        assert_ok(&renamed);
        assert_eq!(renamed["customer"]["name"], "Acme Ltd", "trimmed");
        assert_eq!(renamed["customer"]["version"], 3);
    }

    async fn the_name_cannot_be_cleared(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&created(&app, json!({ "name": "Acme" })).await);
        let before = customer_row(&app.db, id).await;

        let cleared = update(&app, id, json!({ "name": null }), None).await;
        let blanked = update(&app, id, json!({ "name": "  ", "taxId": "12" }), None).await;

        assert_refused(
            &cleared,
            "customer",
            &[error("REQUIRED", &["input", "name"])],
        );
        assert_refused(
            &blanked,
            "customer",
            &[
                error("REQUIRED", &["input", "name"]),
                error("INVALID", &["input", "taxId"]),
            ],
        );
        assert_eq!(customer_row(&app.db, id).await, before, "nothing written");
    }

    async fn a_stale_expected_version_conflicts_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&created(&app, json!({ "name": "Acme" })).await);
        assert_ok(&update(&app, id, json!({ "name": "Acme 2" }), Some(1)).await);
        let before = customer_row(&app.db, id).await;

        let stale = update(&app, id, json!({ "name": "Stale" }), Some(1)).await;
        let future = update(&app, id, json!({ "name": "Future" }), Some(3)).await;
        let stale_without_changes = update(&app, id, json!({}), Some(1)).await;

        for refused in [&stale, &future, &stale_without_changes] {
            assert_refused(
                refused,
                "customer",
                &[error("CONFLICT", &["expectedVersion"])],
            );
        }
        assert_eq!(customer_row(&app.db, id).await, before, "nothing written");

        // No changes at the current version (or at none) is no conflict and writes nothing.
        for version in [Some(2), None] {
            let unchanged = update(&app, id, json!({}), version).await;
            assert_ok(&unchanged);
            assert_eq!(unchanged["customer"]["version"], 2);
        }
        assert_eq!(customer_row(&app.db, id).await, before);
    }

    async fn concurrent_updates_with_one_version_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&created(&app, json!({ "name": "Race" })).await);

        let (left, right) = tokio::join!(
            update(&app, id, json!({ "name": "Left" }), Some(1)),
            update(&app, id, json!({ "name": "Right" }), Some(1)),
        );

        let (winner, loser) = winner_and_loser(&left, &right, "customer");
        assert_refused(
            loser,
            "customer",
            &[error("CONFLICT", &["expectedVersion"])],
        );
        let stored = customer_row(&app.db, id).await.expect("row");
        assert_eq!(stored.version, 2);
        assert_eq!(winner["customer"]["name"], stored.name.as_str());
    }

    async fn concurrent_updates_without_a_version_both_count(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&created(&app, json!({ "name": "Race" })).await);

        let (left, right) = tokio::join!(
            update(&app, id, json!({ "dealerCode": "L" }), None),
            update(&app, id, json!({ "taxId": TAX_ID }), None),
        );

        assert_ok(&left);
        assert_ok(&right);
        let mut versions =
            [&left, &right].map(|p| p["customer"]["version"].as_i64().expect("version"));
        versions.sort_unstable();
        assert_eq!(versions, [2, 3], "each change has a version of its own");
        let stored = customer_row(&app.db, id).await.expect("row");
        assert_eq!(
            (
                stored.dealer_code.as_deref(),
                stored.tax_id.as_deref(),
                stored.version
            ),
            (Some("L"), Some(TAX_ID), 3)
        );
    }

    async fn a_customer_may_update_its_own_customer_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let b_before = customer_row(&app.db, world.b).await;

        let own = update_as(
            &app,
            &customer_a,
            world.a,
            json!({ "dealerCode": "OWN" }),
            Some(1),
        )
        .await;
        let other = update_as(
            &app,
            &customer_a,
            world.b,
            json!({ "dealerCode": "X" }),
            None,
        )
        .await;
        let other_stale = update_as(
            &app,
            &customer_a,
            world.b,
            json!({ "dealerCode": "X" }),
            Some(7),
        )
        .await;

        assert_ok(&own);
        assert_eq!(own["customer"]["version"], 2);
        let a = customer_row(&app.db, world.a).await.expect("row");
        assert_eq!(a.dealer_code.as_deref(), Some("OWN"));
        // Out of reach looks exactly like missing, whatever else is wrong with the request.
        assert_refused(&other, "customer", &[error("NOT_FOUND", &["id"])]);
        assert_refused(&other_stale, "customer", &[error("NOT_FOUND", &["id"])]);
        assert_eq!(
            customer_row(&app.db, world.b).await,
            b_before,
            "b unchanged"
        );

        // A CUSTOMER token without customers reaches none.
        let no_customers = app.token(&[Role::Customer], None, &[]);
        let nothing = update_as(&app, &no_customers, world.a, json!({ "name": "X" }), None).await;
        assert_refused(&nothing, "customer", &[error("NOT_FOUND", &["id"])]);
    }

    async fn only_admin_and_service_create_and_delete_customers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let a_before = customer_row(&app.db, world.a).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let created_by_customer = app
            .graphql(
                Some(&customer_a),
                CREATE,
                json!({ "input": { "name": "Mine" } }),
            )
            .await;
        let deleted_by_customer = app
            .graphql(Some(&customer_a), DELETE, json!({ "id": world.a }))
            .await;

        assert_eq!(created_by_customer.error_code(), "FORBIDDEN");
        assert_eq!(
            created_by_customer.body["data"],
            Value::Null,
            "{}",
            created_by_customer.body
        );
        assert_eq!(deleted_by_customer.error_code(), "FORBIDDEN");
        for role in [Role::Delegate, Role::Intermediary, Role::Agency] {
            let token = app.token(&[role], Some(vec![world.a]), &[]);
            let create = app
                .graphql(Some(&token), CREATE, json!({ "input": { "name": "X" } }))
                .await;
            let update = app
                .graphql(
                    Some(&token),
                    UPDATE,
                    json!({ "id": world.a, "input": { "name": "X" } }),
                )
                .await;
            let delete = app
                .graphql(Some(&token), DELETE, json!({ "id": world.a }))
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
        assert_eq!(customers(&app).await, 2, "nothing created");
        assert_eq!(
            customer_row(&app.db, world.a).await,
            a_before,
            "a neither changed nor deleted"
        );
    }

    async fn admin_and_service_change_any_customer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let service = app.token(&[Role::Service], None, &[]);
        // ADMIN sees everything, whatever its token's `customers` claim says.
        let admin_of_b = app.token(&[Role::Admin], Some(vec![world.b]), &[]);

        let by_service = create_as(&app, &service, json!({ "name": "By service" })).await;
        let updated_by_service = update_as(
            &app,
            &service,
            world.b,
            json!({ "dealerCode": "S" }),
            Some(1),
        )
        .await;
        let updated_by_admin = update_as(
            &app,
            &admin_of_b,
            world.a,
            json!({ "dealerCode": "A" }),
            Some(1),
        )
        .await;
        let deleted_by_service = delete_as(&app, &service, id_of(&by_service["customer"])).await;
        let deleted_by_admin = delete_as(&app, &admin_of_b, world.a).await;

        for payload in [
            &by_service,
            &updated_by_service,
            &updated_by_admin,
            &deleted_by_service,
            &deleted_by_admin,
        ] {
            assert_ok(payload);
        }
        assert_eq!(
            customer_row(&app.db, world.b)
                .await
                .expect("b")
                .dealer_code
                .as_deref(),
            Some("S")
        );
        assert!(customer_row(&app.db, world.a).await.is_none());
        assert_eq!(customers(&app).await, 1);
    }

    async fn a_forbidden_operation_is_forbidden_whatever_the_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let delegate = app.token(&[Role::Delegate], Some(vec![world.a]), &[]);

        // API.md: "A role that may never do an operation gets a FORBIDDEN error", so the role
        // is checked before the input: a caller learns nothing about inputs it may not send.
        let invalid_create = app
            .graphql(
                Some(&customer_a),
                CREATE,
                json!({ "input": { "name": " " } }),
            )
            .await;
        let invalid_update = app
            .graphql(
                Some(&delegate),
                UPDATE,
                json!({ "id": world.a, "input": { "name": null } }),
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

    async fn anonymous_callers_are_unauthenticated(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let a_before = customer_row(&app.db, world.a).await;

        let create = app
            .graphql(None, CREATE, json!({ "input": { "name": "Nobody" } }))
            .await;
        let update = app
            .graphql(
                None,
                UPDATE,
                json!({ "id": world.a, "input": { "name": "X" } }),
            )
            .await;
        let delete = app.graphql(None, DELETE, json!({ "id": world.a })).await;

        for response in [create, update, delete] {
            assert_eq!(
                response.error_code(),
                "UNAUTHENTICATED",
                "{}",
                response.body
            );
        }
        assert_eq!(customers(&app).await, 2);
        assert_eq!(customer_row(&app.db, world.a).await, a_before);
    }

    async fn deleting_a_customer_deletes_everything_it_owns(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let owned = ContactRows::of(&app.db, &[world.a_direct, world.a_account_contact]).await;
        assert_eq!(
            (owned.points.len(), owned.addresses.len()),
            (2, 2),
            "arranged"
        );
        let b_contacts = [
            world.b_direct,
            world.b_account_contact,
            world.shared_ab,
            world.shared_b,
        ];
        let b_before = ContactRows::of(&app.db, &b_contacts).await;
        let b_row = customer_row(&app.db, world.b).await;
        let b_account = account_row(&app.db, world.b_account).await;

        let payload = delete(&app, world.a).await;

        assert_ok(&payload);
        assert_eq!(payload["deletedId"], world.a.to_string());
        assert!(customer_row(&app.db, world.a).await.is_none());
        assert!(account_row(&app.db, world.a_account).await.is_none());
        let owned_after =
            ContactRows::of(&app.db, &[world.a_direct, world.a_account_contact]).await;
        assert_eq!(
            owned_after,
            ContactRows::default(),
            "contacts, their points and their attachments are gone"
        );
        assert_eq!(
            addresses_among(&app.db, &owned.address_ids()).await,
            vec![],
            "orphaned addresses are gone"
        );
        let links_to_a = shared_contact_link::Entity::find()
            .filter(shared_contact_link::Column::CustomerId.eq(world.a))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(links_to_a, 0);

        // b's side is untouched; the contact shared with b keeps only its link to b.
        let mut b_expected = b_before;
        b_expected.links.retain(|link| link.customer_id == world.b);
        assert_eq!(ContactRows::of(&app.db, &b_contacts).await, b_expected);
        assert_eq!(customer_row(&app.db, world.b).await, b_row);
        assert_eq!(account_row(&app.db, world.b_account).await, b_account);
        let b_graph = "query($b: ID!) {
            customer(id: $b) { contacts { id } accounts { id contacts { id } } }
        }";
        let b = app
            .query(&app.admin(), b_graph, json!({ "b": world.b }))
            .await;
        assert_eq!(
            ids(&b["customer"]["contacts"]),
            vec![
                world.b_direct.to_string(),
                world.shared_ab.to_string(),
                world.shared_b.to_string()
            ]
        );
        assert_eq!(
            ids(&b["customer"]["accounts"]),
            vec![world.b_account.to_string()]
        );
        assert_eq!(
            ids(&b["customer"]["accounts"][0]["contacts"]),
            vec![world.b_account_contact.to_string()]
        );
    }

    async fn a_customer_delete_spares_what_others_still_use(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        // An address of b's contact that a's contact uses too, and a shared contact linked to a
        // alone.
        let b_address = ContactRows::of(&app.db, &[world.b_direct])
            .await
            .address_ids()[0];
        crate::mutations::addresses::attach_row(&app.db, world.a_direct, b_address).await;
        let shared_a = fixtures::contact(&app.db, Owner::Shared, "Una", "Linked").await;
        fixtures::link(&app.db, world.a, shared_a).await;
        fixtures::phone(&app.db, shared_a).await;
        let shared_a_before = ContactRows::of(&app.db, &[shared_a]).await;

        assert_ok(&delete(&app, world.a).await);

        assert_eq!(
            crate::mutations::contacts::attached_addresses(&app.db, world.b_direct).await,
            vec![b_address],
            "b's contact keeps the address a's contact shared"
        );
        assert_eq!(addresses_among(&app.db, &[b_address]).await.len(), 1);
        let shared_a_after = ContactRows::of(&app.db, &[shared_a]).await;
        assert_eq!(
            shared_a_after.contacts, shared_a_before.contacts,
            "a shared contact is never deleted with a customer"
        );
        assert_eq!(shared_a_after.points, shared_a_before.points);
        assert_eq!(shared_a_after.links, vec![], "only its link went");
    }

    async fn deleting_unknown_or_malformed_ids(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let unknown = delete(&app, Uuid::now_v7()).await;
        let malformed = app
            .graphql(Some(&app.admin()), DELETE, json!({ "id": "nope" }))
            .await;
        let malformed_update = app
            .graphql(
                Some(&app.admin()),
                UPDATE,
                json!({ "id": "nope", "input": { "name": "X" } }),
            )
            .await;
        assert_ok(&delete(&app, world.a).await);
        let again = delete(&app, world.a).await;
        let update_deleted = update(&app, world.a, json!({ "name": "X" }), None).await;

        assert_refused(&unknown, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_eq!(malformed.error_code(), "BAD_USER_INPUT");
        assert_eq!(malformed_update.error_code(), "BAD_USER_INPUT");
        assert_refused(&again, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_refused(&update_deleted, "customer", &[error("NOT_FOUND", &["id"])]);
        assert_eq!(customers(&app).await, 1);
    }

    async fn an_update_racing_a_delete_is_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let updated = if app.db.get_database_backend() == DbBackend::Postgres {
            // The update finds the customer, then waits for its row while the test deletes it.
            let lock = LockedRow::lock(&app.db, "customer", world.a).await;
            let (updated, ()) = tokio::join!(
                update(&app, world.a, json!({ "name": "Too late" }), None),
                async {
                    lock.wait_for(&app.db, 1).await;
                    lock.delete_customer_and_release(&app.db, world.a).await;
                },
            );
            updated
        } else {
            // SQLite has one writer at a time: the test deletes inside its own open write
            // transaction, so the update may still read the row from the committed snapshot
            // (WAL), but its write queues until the delete commits.
            let deleting = app.db.begin().await.expect("begin");
            customer::Entity::delete_by_id(world.a)
                .exec(&deleting)
                .await
                .expect("delete");
            let (updated, ()) = tokio::join!(
                update(&app, world.a, json!({ "name": "Too late" }), None),
                async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    deleting.commit().await.expect("commit delete");
                },
            );
            updated
        };

        assert!(updated["customer"].is_null(), "{updated}");
        assert_eq!(updated["userErrors"][0]["code"], "NOT_FOUND", "{updated}");
        assert!(customer_row(&app.db, world.a).await.is_none());
    }

    async fn concurrent_deletes_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let (winner, loser) =
            race_two_deletes(&app, DELETE, "deleteCustomer", "customer", world.a).await;

        assert_eq!(winner["deletedId"], world.a.to_string());
        assert_refused(&loser, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert!(customer_row(&app.db, world.a).await.is_none());
    }
}
