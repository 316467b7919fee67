//! Contact mutations: `createContact` with nested lists, `updateContact`, `deleteContact`, and
//! who may do what. Also home of the helpers the other contact-related tests share.

use chrono::{DateTime, Utc};
use entity::{address, contact, contact_address, contact_point, shared_contact_link};
use kith::auth::Role;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{self, World};
use crate::helpers::{TestApp, ids};

/// Every field of a contact the tests look at.
pub const CONTACT_FIELDS: &str = r#"
fragment ContactFields on Contact {
  id subtype role title firstName lastName companyName position displayName emailAddress
  website contactNumber isShared hasAccountPassword version createdAt updatedAt
  customer { id } account { id } linkedCustomers { id }
  primaryAddress { id line1 line2 city state postalCode country isPrimary }
  addresses { id addressType line1 city isPrimary }
  contactPoints { id kind value countryCode areaCode number formatted isPrimary }
}"#;

const CREATE: &str = r#"
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { ...ContactFields } userErrors { field message code } }
}"#;

const UPDATE: &str = r#"
mutation($id: ID!, $input: UpdateContactInput!, $expectedVersion: Int) {
  updateContact(id: $id, input: $input, expectedVersion: $expectedVersion) {
    contact { ...ContactFields } userErrors { field message code }
  }
}"#;

const DELETE: &str = r#"
mutation($id: ID!) { deleteContact(id: $id) { deletedId userErrors { field message code } } }"#;

const READ: &str = r#"query($id: ID!) { contact(id: $id) { ...ContactFields } }"#;

/// A query or mutation followed by the contact fragment.
pub fn with_fields(operation: &str) -> String {
    format!("{operation}\n{CONTACT_FIELDS}")
}

/// Run a mutation that must not fail as a whole; returns its payload (`data[field]`).
pub async fn mutate(app: &TestApp, token: &str, query: &str, vars: Value, field: &str) -> Value {
    app.query(token, query, vars).await[field].clone()
}

/// `contact(id)` as `token` sees it.
pub async fn read_contact(app: &TestApp, token: &str, id: &str) -> Value {
    app.query(token, &with_fields(READ), json!({ "id": id }))
        .await["contact"]
        .clone()
}

/// A user error as `(code, path)`.
pub fn error(code: &str, path: &[&str]) -> (String, Vec<String>) {
    (
        code.to_owned(),
        path.iter().map(|segment| (*segment).to_owned()).collect(),
    )
}

/// The `userErrors` of a payload as `(code, path)`, sorted.
pub fn user_errors(payload: &Value) -> Vec<(String, Vec<String>)> {
    let mut errors: Vec<_> = payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected userErrors: {payload}"))
        .iter()
        .map(|e| {
            let path = e["field"]
                .as_array()
                .map(|p| p.iter().map(|s| s.as_str().expect("segment").to_owned()))
                .into_iter()
                .flatten()
                .collect();
            (e["code"].as_str().expect("code").to_owned(), path)
        })
        .collect();
    errors.sort();
    errors
}

/// Assert a payload wrote something: no user errors.
pub fn assert_ok(payload: &Value) {
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
}

/// Assert a payload was refused with exactly these user errors (in any order).
pub fn assert_refused(payload: &Value, object: &str, expected: &[(String, Vec<String>)]) {
    assert_eq!(payload[object], Value::Null, "{payload}");
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(user_errors(payload), expected, "{payload}");
}

/// Row counts of every table a contact write touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub contacts: u64,
    pub contact_points: u64,
    pub addresses: u64,
    pub contact_addresses: u64,
    pub links: u64,
}

impl Counts {
    pub async fn of(db: &DatabaseConnection) -> Counts {
        Counts {
            contacts: contact::Entity::find().count(db).await.expect("count"),
            contact_points: contact_point::Entity::find()
                .count(db)
                .await
                .expect("count"),
            addresses: address::Entity::find().count(db).await.expect("count"),
            contact_addresses: contact_address::Entity::find()
                .count(db)
                .await
                .expect("count"),
            links: shared_contact_link::Entity::find()
                .count(db)
                .await
                .expect("count"),
        }
    }
}

/// The stored contact row.
pub async fn contact_row(db: &DatabaseConnection, id: &str) -> Option<contact::Model> {
    let id = Uuid::parse_str(id).expect("uuid");
    contact::Entity::find_by_id(id).one(db).await.expect("read")
}

/// The stored contact points of a contact.
pub async fn point_rows(db: &DatabaseConnection, contact_id: Uuid) -> Vec<contact_point::Model> {
    contact_point::Entity::find()
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .all(db)
        .await
        .expect("read points")
}

/// Ids of the addresses attached to a contact.
pub async fn attached_addresses(db: &DatabaseConnection, contact_id: Uuid) -> Vec<Uuid> {
    contact_address::Entity::find()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .all(db)
        .await
        .expect("read links")
        .into_iter()
        .map(|link| link.address_id)
        .collect()
}

/// Make the database itself refuse to insert an address in `city`: a failure no input check
/// can foresee, to prove a write is all or nothing.
pub async fn fail_address_inserts_in(db: &DatabaseConnection, city: &str) {
    let statements = match db.get_database_backend() {
        DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_city() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.city = '{city}' THEN RAISE EXCEPTION 'injected failure'; END IF; \
                 RETURN NEW; END $$"
            ),
            "CREATE TRIGGER refuse_city BEFORE INSERT ON address FOR EACH ROW \
             EXECUTE FUNCTION refuse_city()"
                .to_owned(),
        ],
        _ => vec![format!(
            "CREATE TRIGGER refuse_city BEFORE INSERT ON address WHEN NEW.city = '{city}' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
    };
    for statement in statements {
        db.execute_unprepared(&statement)
            .await
            .expect("install trigger");
    }
}

pub fn timestamp(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("expected a timestamp: {value}"))
        .with_timezone(&Utc)
}

/// A complete address input.
pub fn address_input(city: &str) -> Value {
    json!({ "line1": "1 Main Street", "city": city, "state": "CA", "postalCode": "94105" })
}

/// A valid person at `owner` (`{"customerId": ..}`, `{"accountId": ..}` or `{}`).
pub fn person(owner: Value, first: &str, last: &str) -> Value {
    let mut input = owner;
    input["subtype"] = json!("PERSON");
    input["firstName"] = json!(first);
    input["lastName"] = json!(last);
    input
}

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    mutate(
        app,
        token,
        &with_fields(CREATE),
        json!({ "input": input }),
        "createContact",
    )
    .await
}

async fn update(app: &TestApp, token: &str, id: impl ToString, input: Value) -> Value {
    update_at(app, token, id, input, None).await
}

async fn update_at(
    app: &TestApp,
    token: &str,
    id: impl ToString,
    input: Value,
    expected_version: Option<i32>,
) -> Value {
    let vars = json!({ "id": id.to_string(), "input": input, "expectedVersion": expected_version });
    mutate(app, token, &with_fields(UPDATE), vars, "updateContact").await
}

/// Nested lists every valid create below carries.
fn with_nested_lists(mut input: Value) -> Value {
    input["primaryAddress"] = address_input("San Francisco");
    input["addresses"] = json!([address_input("Oakland")]);
    input["contactPoints"] = json!([
        { "kind": "PHONE", "number": "555 0100" },
        { "kind": "EMAIL", "value": "someone@example.com" },
    ]);
    input
}

backend_tests! {
    async fn create_contact_writes_nested_lists_and_reads_back(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = Counts::of(&app.db).await;

        let payload = create(
            &app,
            &admin,
            json!({
                "customerId": world.a,
                "subtype": "PERSON",
                "title": "Dr",
                "firstName": "Grace",
                "lastName": "Hopper",
                "position": "Rear Admiral",
                "emailAddress": "grace@Navy.MIL",
                "website": "https://navy.mil",
                "contactNumber": "C-100",
                "accountPassword": "correct horse battery",
                "primaryAddress": {
                    "line1": "1 Navy Way", "line2": "Suite 9", "city": "Arlington", "state": "va",
                    "postalCode": "22202", "country": "us"
                },
                "addresses": [{
                    "addressType": "BILLING", "line1": "2 Ledger Road", "city": "Boston",
                    "state": "MA", "postalCode": "02110"
                }],
                "contactPoints": [
                    { "kind": "PHONE", "countryCode": "+1", "areaCode": "703", "number": "555-0100",
                      "isPrimary": true },
                    { "kind": "EMAIL", "value": "grace@Example.org" }
                ]
            }),
        )
        .await;

        assert_ok(&payload);
        let id = payload["contact"]["id"].as_str().expect("id").to_owned();
        let read = read_contact(&app, &admin, &id).await;
        assert_eq!(
            read, payload["contact"],
            "the payload shows the stored contact"
        );
        assert_eq!(read["displayName"], "Dr Grace Hopper");
        assert_eq!(read["emailAddress"], "grace@navy.mil");
        assert_eq!(read["customer"]["id"], world.a.to_string());
        assert_eq!(read["account"], Value::Null);
        assert_eq!(read["isShared"], false);
        assert_eq!(read["hasAccountPassword"], true);
        assert_eq!(read["version"], 1);
        assert_eq!(
            read["primaryAddress"],
            json!({
                "id": read["primaryAddress"]["id"], "line1": "1 Navy Way", "line2": "Suite 9",
                "city": "Arlington", "state": "VA", "postalCode": "22202", "country": "US",
                "isPrimary": true
            })
        );
        let addresses = read["addresses"].as_array().expect("addresses");
        assert_eq!(addresses.len(), 2, "{read}");
        assert_eq!(addresses[0]["id"], read["primaryAddress"]["id"]);
        assert_eq!(addresses[0]["isPrimary"], true);
        assert_eq!(
            (
                &addresses[1]["city"],
                &addresses[1]["addressType"],
                &addresses[1]["isPrimary"]
            ),
            (&json!("Boston"), &json!("BILLING"), &json!(false))
        );
        let points: Vec<_> = read["contactPoints"]
            .as_array()
            .expect("points")
            .iter()
            .map(|p| {
                (
                    p["kind"].clone(),
                    p["formatted"].clone(),
                    p["isPrimary"].clone(),
                )
            })
            .collect();
        assert_eq!(
            points,
            vec![
                (json!("PHONE"), json!("+1 703 5550100"), json!(true)),
                (json!("EMAIL"), json!("grace@example.org"), json!(false)),
            ]
        );

        let row = contact_row(&app.db, &id).await.expect("stored");
        let hash = row.account_password_hash.expect("password hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        let after = Counts::of(&app.db).await;
        assert_eq!(
            after,
            Counts {
                contacts: before.contacts + 1,
                contact_points: before.contact_points + 2,
                addresses: before.addresses + 2,
                contact_addresses: before.contact_addresses + 2,
                ..before
            }
        );
    }

    async fn create_contact_at_each_level(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        let direct = create(
            &app,
            &admin,
            person(json!({ "customerId": world.a }), "Di", "Rect"),
        )
        .await;
        let account = create(
            &app,
            &admin,
            person(json!({ "accountId": world.a_account }), "Ac", "Count"),
        )
        .await;
        let shared = create(&app, &admin, person(json!({}), "Sha", "Red")).await;

        assert_ok(&direct);
        assert_eq!(direct["contact"]["customer"]["id"], world.a.to_string());
        assert_eq!(direct["contact"]["account"], Value::Null);
        assert_eq!(direct["contact"]["isShared"], false);
        assert_ok(&account);
        assert_eq!(account["contact"]["customer"]["id"], world.a.to_string());
        assert_eq!(
            account["contact"]["account"]["id"],
            world.a_account.to_string()
        );
        let account_row = contact_row(&app.db, account["contact"]["id"].as_str().expect("id"))
            .await
            .expect("stored");
        assert_eq!(
            (account_row.customer_id, account_row.account_id),
            (Some(world.a), Some(world.a_account))
        );
        assert_ok(&shared);
        assert_eq!(shared["contact"]["isShared"], true);
        assert_eq!(shared["contact"]["customer"], Value::Null);
        assert_eq!(shared["contact"]["linkedCustomers"], json!([]));
        let shared_row = contact_row(&app.db, shared["contact"]["id"].as_str().expect("id"))
            .await
            .expect("stored");
        assert_eq!(
            (shared_row.customer_id, shared_row.account_id),
            (None, None)
        );
    }

    async fn account_and_customer_must_agree(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = create(
            &app,
            &app.admin(),
            person(
                json!({ "customerId": world.b, "accountId": world.a_account }),
                "Mis",
                "Match",
            ),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("INVALID", &["input", "customerId"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn only_admin_and_service_create_shared_contacts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let response = app
            .graphql(
                Some(&customer),
                &with_fields(CREATE),
                json!({ "input": person(json!({}), "Sha", "Red") }),
            )
            .await;

        assert_eq!(response.error_code(), "FORBIDDEN", "{}", response.body);
        assert_eq!(Counts::of(&app.db).await, before);
        let service = app.token(&[Role::Service], None, &[]);
        assert_ok(&create(&app, &service, person(json!({}), "Sha", "Red")).await);
    }

    async fn a_person_needs_first_and_last_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = create(
            &app,
            &app.admin(),
            with_nested_lists(
                json!({ "customerId": world.a, "subtype": "PERSON", "companyName": "Acme" }),
            ),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[
                error("REQUIRED", &["input", "firstName"]),
                error("REQUIRED", &["input", "lastName"]),
            ],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn a_company_needs_a_company_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = create(
            &app,
            &app.admin(),
            with_nested_lists(json!({
                "customerId": world.a, "subtype": "COMPANY", "firstName": "Ada", "lastName": "L"
            })),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("REQUIRED", &["input", "companyName"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn a_subtype_is_required(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = create(
            &app,
            &app.admin(),
            json!({ "customerId": world.a, "firstName": "No", "lastName": "Type" }),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("REQUIRED", &["input", "subtype"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn a_primary_address_needs_every_required_field(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let mut input = with_nested_lists(person(json!({ "customerId": world.a }), "Ada", "L"));
        input["primaryAddress"] = json!({ "line2": "Flat 2", "country": "GB" });
        input["addresses"] = json!([address_input("Leeds"), { "line1": "3 Road", "city": "York" }]);

        let payload = create(&app, &app.admin(), input).await;

        assert_refused(
            &payload,
            "contact",
            &[
                error("REQUIRED", &["input", "primaryAddress", "line1"]),
                error("REQUIRED", &["input", "primaryAddress", "city"]),
                error("REQUIRED", &["input", "primaryAddress", "state"]),
                error("REQUIRED", &["input", "primaryAddress", "postalCode"]),
                error("REQUIRED", &["input", "addresses", "1", "state"]),
                error("REQUIRED", &["input", "addresses", "1", "postalCode"]),
            ],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn every_malformed_value_is_reported_at_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let mut primary = address_input("London");
        primary["country"] = json!("UK");

        let payload = create(
            &app,
            &app.admin(),
            json!({
                "customerId": world.a,
                "subtype": "PERSON",
                "firstName": "Ada",
                "lastName": "Lovelace",
                "emailAddress": "ada-at-example.com",
                "website": "ftp://example.com",
                "primaryAddress": primary,
                "contactPoints": [
                    { "kind": "PHONE", "number": "555 0100" },
                    { "kind": "PHONE", "number": "call me" },
                    { "kind": "MOBILE", "countryCode": "1234", "number": "5550100" }
                ]
            }),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[
                error("INVALID", &["input", "emailAddress"]),
                error("INVALID", &["input", "website"]),
                error("INVALID", &["input", "primaryAddress", "country"]),
                error("INVALID", &["input", "contactPoints", "1", "number"]),
                error("INVALID", &["input", "contactPoints", "2", "countryCode"]),
            ],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn a_second_primary_contact_of_a_customer_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut first = person(json!({ "customerId": world.a }), "First", "Primary");
        first["role"] = json!("PRIMARY");
        assert_ok(&create(&app, &admin, first).await);
        let before = Counts::of(&app.db).await;
        let mut second = with_nested_lists(person(
            json!({ "customerId": world.a }),
            "Second",
            "Primary",
        ));
        second["role"] = json!("PRIMARY");

        let payload = create(&app, &admin, second).await;

        assert_refused(
            &payload,
            "contact",
            &[error("CONFLICT", &["input", "role"])],
        );
        assert_eq!(
            Counts::of(&app.db).await,
            before,
            "nothing of the nested lists was written"
        );
        // The rule is per customer: customer B may still have its own PRIMARY contact.
        let mut other = person(json!({ "customerId": world.b }), "Other", "Primary");
        other["role"] = json!("PRIMARY");
        assert_ok(&create(&app, &admin, other).await);
    }

    async fn a_second_primary_contact_of_an_account_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut direct = person(json!({ "customerId": world.a }), "Direct", "Primary");
        direct["role"] = json!("PRIMARY");
        assert_ok(&create(&app, &admin, direct).await);
        let mut first = person(json!({ "accountId": world.a_account }), "First", "Primary");
        first["role"] = json!("PRIMARY");
        assert_ok(&create(&app, &admin, first).await);
        let before = Counts::of(&app.db).await;
        let mut second = with_nested_lists(person(
            json!({ "accountId": world.a_account }),
            "Second",
            "Primary",
        ));
        second["role"] = json!("PRIMARY");

        let payload = create(&app, &admin, second).await;

        assert_refused(
            &payload,
            "contact",
            &[error("CONFLICT", &["input", "role"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn a_duplicate_contact_number_within_a_customer_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut first = person(json!({ "customerId": world.a }), "Num", "One");
        first["contactNumber"] = json!("C-7");
        assert_ok(&create(&app, &admin, first).await);
        let before = Counts::of(&app.db).await;
        // An account-level contact shares its customer's contact numbers.
        let mut second =
            with_nested_lists(person(json!({ "accountId": world.a_account }), "Num", "Two"));
        second["contactNumber"] = json!("C-7");

        let payload = create(&app, &admin, second).await;

        assert_refused(
            &payload,
            "contact",
            &[error("CONFLICT", &["input", "contactNumber"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
        // Another customer's numbers are its own (tests/mutations/numbers.rs has the rest).
        let mut elsewhere = person(json!({ "customerId": world.b }), "Num", "Three");
        elsewhere["contactNumber"] = json!("C-7");
        assert_ok(&create(&app, &admin, elsewhere).await);
    }

    async fn a_create_failing_in_its_last_nested_item_leaves_no_trace(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        fail_address_inserts_in(&app.db, "Boom").await;
        let before = Counts::of(&app.db).await;
        let mut input =
            with_nested_lists(person(json!({ "customerId": world.a }), "Last", "Fails"));
        input["addresses"] = json!([address_input("Oakland"), address_input("Boom")]);

        let response = app
            .graphql(
                Some(&app.admin()),
                &with_fields(CREATE),
                json!({ "input": input }),
            )
            .await;

        assert_eq!(response.error_code(), "INTERNAL", "{}", response.body);
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn a_city_within_the_input_limit_is_never_an_internal_error(backend: Backend) {
        // `city` accepts up to 200 characters as input. Whatever the server makes of a
        // 150-character city, it is all or nothing, and never an internal error.
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let long_city = "C".repeat(150);
        let mut input = with_nested_lists(person(json!({ "customerId": world.a }), "Long", "City"));
        input["addresses"] = json!([address_input("Oakland"), address_input(&long_city)]);

        let response = app
            .graphql(
                Some(&app.admin()),
                &with_fields(CREATE),
                json!({ "input": input }),
            )
            .await;

        let after = Counts::of(&app.db).await;
        let written = Counts {
            contacts: before.contacts + 1,
            contact_points: before.contact_points + 2,
            addresses: before.addresses + 3,
            contact_addresses: before.contact_addresses + 3,
            ..before
        };
        assert!(
            after == before || after == written,
            "partial write: {after:?} {}",
            response.body
        );
        assert!(response.body.get("errors").is_none(), "{}", response.body);
        let payload = &response.body["data"]["createContact"];
        if payload["contact"].is_null() {
            let path = ["input", "addresses", "1", "city"];
            assert_refused(payload, "contact", &[error("TOO_LONG", &path)]);
        } else {
            assert_eq!(payload["contact"]["addresses"][2]["city"], json!(long_city));
        }
    }

    async fn update_contact_changes_only_the_fields_given(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut input = person(json!({ "customerId": world.a }), "Ada", "Lovelace");
        input["position"] = json!("Analyst");
        input["emailAddress"] = json!("ada@example.com");
        let created = create(&app, &admin, input).await["contact"].clone();
        let id = created["id"].as_str().expect("id").to_owned();
        // Timestamps are stored to the millisecond: make sure the clock has moved.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        let payload = update(
            &app,
            &admin,
            &id,
            json!({ "title": "Countess", "position": null }),
        )
        .await;

        assert_ok(&payload);
        let updated = &payload["contact"];
        assert_eq!(updated["title"], "Countess");
        assert_eq!(updated["position"], Value::Null);
        assert_eq!(updated["firstName"], "Ada");
        assert_eq!(updated["emailAddress"], "ada@example.com");
        assert_eq!(updated["version"], 2);
        assert!(timestamp(&updated["updatedAt"]) > timestamp(&created["updatedAt"]));
        assert_eq!(updated["createdAt"], created["createdAt"]);
        let row = contact_row(&app.db, &id).await.expect("stored");
        assert_eq!(
            (row.title.as_deref(), row.position, row.version),
            (Some("Countess"), None, 2)
        );
        assert_eq!(read_contact(&app, &admin, &id).await, *updated);
    }

    async fn update_contact_replaces_the_nested_lists_it_is_given(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let created = create(
            &app,
            &admin,
            with_nested_lists(person(json!({ "customerId": world.a }), "Nested", "Lists")),
        )
        .await;
        assert_ok(&created);
        let id = created["contact"]["id"].as_str().expect("id").to_owned();
        let before = &created["contact"];

        let replaced_points = update(
            &app,
            &admin,
            &id,
            json!({ "contactPoints": [{ "kind": "WEBSITE", "value": "https://example.com" }] }),
        )
        .await;
        let replaced_addresses = update(
            &app,
            &admin,
            &id,
            json!({ "primaryAddress": address_input("Berkeley"), "addresses": [] }),
        )
        .await;

        assert_ok(&replaced_points);
        assert_ok(&replaced_addresses);
        let after = read_contact(&app, &admin, &id).await;
        assert_eq!(
            after["contactPoints"]
                .as_array()
                .expect("points")
                .iter()
                .map(|p| (p["kind"].clone(), p["value"].clone()))
                .collect::<Vec<_>>(),
            vec![(json!("WEBSITE"), json!("https://example.com"))]
        );
        assert_eq!(after["primaryAddress"]["city"], "Berkeley");
        assert_eq!(
            after["addresses"]
                .as_array()
                .expect("addresses")
                .iter()
                .map(|a| a["city"].clone())
                .collect::<Vec<_>>(),
            vec![json!("Berkeley")],
            "Oakland went; only the new primary address is attached"
        );
        assert_eq!(after["firstName"], before["firstName"], "absent fields unchanged");
        // Replaced addresses no contact uses any more are gone, not orphaned.
        let stored_addresses = address::Entity::find().count(&app.db).await.expect("count");
        let attached = contact_address::Entity::find().count(&app.db).await.expect("count");
        assert_eq!(stored_addresses, attached);
    }

    async fn an_update_with_an_invalid_nested_item_writes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before_row = contact_row(&app.db, &world.a_direct.to_string()).await;
        let before = Counts::of(&app.db).await;

        let payload = update(
            &app,
            &admin,
            world.a_direct,
            json!({
                "position": "Changed",
                "contactPoints": [
                    { "kind": "EMAIL", "value": "fine@example.com" },
                    { "kind": "PHONE", "number": "not digits" }
                ],
                "addresses": [{ "line1": "1 Main Street" }]
            }),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[
                error("INVALID", &["input", "contactPoints", "1", "number"]),
                error("REQUIRED", &["input", "addresses", "0", "city"]),
                error("REQUIRED", &["input", "addresses", "0", "state"]),
                error("REQUIRED", &["input", "addresses", "0", "postalCode"]),
            ],
        );
        assert_eq!(Counts::of(&app.db).await, before);
        assert_eq!(contact_row(&app.db, &world.a_direct.to_string()).await, before_row);
    }

    async fn update_contact_with_a_stale_version_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        assert_ok(&update(&app, &admin, world.a_direct, json!({ "title": "Dr" })).await);

        let payload = update_at(
            &app,
            &admin,
            world.a_direct,
            json!({ "title": "Ms" }),
            Some(1),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("CONFLICT", &["expectedVersion"])],
        );
        let row = contact_row(&app.db, &world.a_direct.to_string())
            .await
            .expect("stored");
        assert_eq!((row.title.as_deref(), row.version), (Some("Dr"), 2));
        let current = update_at(
            &app,
            &admin,
            world.a_direct,
            json!({ "title": "Ms" }),
            Some(2),
        )
        .await;
        assert_ok(&current);
        assert_eq!(current["contact"]["version"], 3);
    }

    async fn update_to_a_company_needs_a_company_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        let payload = update(
            &app,
            &admin,
            world.a_direct,
            json!({ "subtype": "COMPANY" }),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("REQUIRED", &["input", "companyName"])],
        );
        let row = contact_row(&app.db, &world.a_direct.to_string())
            .await
            .expect("stored");
        assert_eq!((row.subtype.as_str(), row.version), ("PERSON", 1));
        let company = update(
            &app,
            &admin,
            world.a_direct,
            json!({ "subtype": "COMPANY", "companyName": "Analytical Engines" }),
        )
        .await;
        assert_ok(&company);
        assert_eq!(company["contact"]["displayName"], "Analytical Engines");
    }

    async fn update_into_a_taken_role_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut primary = person(json!({ "accountId": world.a_account }), "Pri", "Mary");
        primary["role"] = json!("PRIMARY");
        assert_ok(&create(&app, &admin, primary).await);
        assert_ok(&update(&app, &admin, world.a_direct, json!({ "role": "PRIMARY" })).await);
        let before = contact_row(&app.db, &world.a_account_contact.to_string()).await;

        let promoted = update(
            &app,
            &admin,
            world.a_account_contact,
            json!({ "role": "PRIMARY" }),
        )
        .await;
        let detached = update(
            &app,
            &admin,
            world.a_account_contact,
            json!({ "accountId": null, "role": "PRIMARY", "title": "Dr" }),
        )
        .await;

        assert_refused(
            &promoted,
            "contact",
            &[error("CONFLICT", &["input", "role"])],
        );
        assert_refused(
            &detached,
            "contact",
            &[error("CONFLICT", &["input", "role"])],
        );
        assert_eq!(
            contact_row(&app.db, &world.a_account_contact.to_string()).await,
            before
        );
    }

    async fn update_moves_a_contact_to_another_account_of_its_customer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let second_account = fixtures::account(&app.db, world.a, "Alpha Second").await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let payload = update(
            &app,
            &customer,
            world.a_account_contact,
            json!({ "accountId": second_account }),
        )
        .await;

        assert_ok(&payload);
        assert_eq!(
            payload["contact"]["account"]["id"],
            second_account.to_string()
        );
        assert_eq!(payload["contact"]["customer"]["id"], world.a.to_string());
        let row = contact_row(&app.db, &world.a_account_contact.to_string())
            .await
            .expect("stored");
        assert_eq!(
            (row.customer_id, row.account_id),
            (Some(world.a), Some(second_account))
        );
        // `accountId: null` makes it a direct contact of the same customer.
        let direct = update(
            &app,
            &customer,
            world.a_account_contact,
            json!({ "accountId": null }),
        )
        .await;
        assert_ok(&direct);
        let row = contact_row(&app.db, &world.a_account_contact.to_string())
            .await
            .expect("stored");
        assert_eq!((row.customer_id, row.account_id), (Some(world.a), None));
    }

    async fn a_customer_cannot_move_a_contact_into_another_customers_account(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let before = contact_row(&app.db, &world.a_account_contact.to_string()).await;

        let payload = update(
            &app,
            &customer,
            world.a_account_contact,
            json!({ "accountId": world.b_account, "title": "Moved" }),
        )
        .await;

        assert_refused(
            &payload,
            "contact",
            &[error("NOT_FOUND", &["input", "accountId"])],
        );
        assert_eq!(
            contact_row(&app.db, &world.a_account_contact.to_string()).await,
            before
        );
    }

    async fn concurrent_updates_with_the_same_version_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        let (left, right) = tokio::join!(
            update_at(
                &app,
                &admin,
                world.a_direct,
                json!({ "position": "Left" }),
                Some(1)
            ),
            update_at(
                &app,
                &admin,
                world.a_direct,
                json!({ "position": "Right" }),
                Some(1)
            ),
        );

        let outcomes = [&left, &right];
        let winners: Vec<_> = outcomes
            .iter()
            .filter(|p| p["userErrors"] == json!([]))
            .collect();
        assert_eq!(winners.len(), 1, "{left} {right}");
        let loser = outcomes
            .iter()
            .find(|p| p["userErrors"] != json!([]))
            .expect("loser");
        assert_refused(loser, "contact", &[error("CONFLICT", &["expectedVersion"])]);
        let row = contact_row(&app.db, &world.a_direct.to_string())
            .await
            .expect("stored");
        assert_eq!(row.version, 2);
        assert_eq!(json!(row.position), winners[0]["contact"]["position"]);
    }

    async fn delete_contact_removes_points_links_and_orphaned_addresses(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let own_address = attached_addresses(&app.db, world.a_direct).await[0];
        // One more address, also used by another contact: it must survive.
        let kept = fixtures::address(&app.db, world.a_direct, "Paris", false).await;
        crate::addresses::attach_row(&app.db, world.a_account_contact, kept).await;
        let before = Counts::of(&app.db).await;

        let payload = mutate(
            &app,
            &admin,
            DELETE,
            json!({ "id": world.a_direct }),
            "deleteContact",
        )
        .await;

        assert_eq!(
            payload,
            json!({ "deletedId": world.a_direct.to_string(), "userErrors": [] })
        );
        assert!(
            contact_row(&app.db, &world.a_direct.to_string())
                .await
                .is_none()
        );
        assert!(point_rows(&app.db, world.a_direct).await.is_empty());
        assert!(attached_addresses(&app.db, world.a_direct).await.is_empty());
        let own = address::Entity::find_by_id(own_address)
            .one(&app.db)
            .await
            .expect("read");
        assert!(own.is_none(), "the orphaned address is deleted");
        let kept_row = address::Entity::find_by_id(kept)
            .one(&app.db)
            .await
            .expect("read");
        assert!(
            kept_row.is_some(),
            "an address another contact uses survives"
        );
        assert_eq!(
            Counts::of(&app.db).await,
            Counts {
                contacts: before.contacts - 1,
                contact_points: before.contact_points - 1,
                addresses: before.addresses - 1,
                contact_addresses: before.contact_addresses - 2,
                ..before
            }
        );
        assert_eq!(
            read_contact(&app, &admin, &world.a_direct.to_string()).await,
            Value::Null
        );
    }

    async fn deleting_a_shared_contact_drops_its_links(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = mutate(
            &app,
            &app.admin(),
            DELETE,
            json!({ "id": world.shared_ab }),
            "deleteContact",
        )
        .await;

        assert_eq!(payload["deletedId"], world.shared_ab.to_string());
        assert_eq!(Counts::of(&app.db).await.links, before.links - 2);
    }

    async fn agency_changes_account_level_contacts_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let agency = app.token(&[Role::Agency], Some(vec![world.a]), &[]);

        let created = create(
            &app,
            &agency,
            person(json!({ "accountId": world.a_account }), "Ag", "Ent"),
        )
        .await;
        let updated = update(
            &app,
            &agency,
            world.a_account_contact,
            json!({ "position": "Buyer" }),
        )
        .await;
        let before = Counts::of(&app.db).await;
        let direct = app
            .graphql(
                Some(&agency),
                &with_fields(CREATE),
                json!({ "input": person(json!({ "customerId": world.a }), "Di", "Rect") }),
            )
            .await;
        let out_of_scope = update(
            &app,
            &agency,
            world.a_direct,
            json!({ "position": "Buyer" }),
        )
        .await;
        let other_customer = create(
            &app,
            &agency,
            person(json!({ "accountId": world.b_account }), "B", "Acc"),
        )
        .await;
        let detach = app
            .graphql(
                Some(&agency),
                &with_fields(UPDATE),
                json!({ "id": world.a_account_contact, "input": { "accountId": null } }),
            )
            .await;

        assert_ok(&created);
        assert_eq!(
            created["contact"]["account"]["id"],
            world.a_account.to_string()
        );
        assert_ok(&updated);
        assert_eq!(updated["contact"]["position"], "Buyer");
        assert_eq!(direct.error_code(), "FORBIDDEN", "{}", direct.body);
        assert_refused(&out_of_scope, "contact", &[error("NOT_FOUND", &["id"])]);
        assert_refused(
            &other_customer,
            "contact",
            &[error("NOT_FOUND", &["input", "accountId"])],
        );
        assert_eq!(
            detach.error_code(),
            "FORBIDDEN",
            "turning it into a direct contact: {}",
            detach.body
        );
        assert_eq!(Counts::of(&app.db).await, before);
        let a_direct = contact_row(&app.db, &world.a_direct.to_string())
            .await
            .expect("stored");
        assert_eq!((a_direct.position, a_direct.version), (None, 1));
    }

    async fn a_customer_reaches_its_own_contacts_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let before = Counts::of(&app.db).await;

        let update_b = update(
            &app,
            &customer,
            world.b_direct,
            json!({ "position": "Spy" }),
        )
        .await;
        let delete_b = mutate(
            &app,
            &customer,
            DELETE,
            json!({ "id": world.b_direct }),
            "deleteContact",
        )
        .await;
        let create_b = create(
            &app,
            &customer,
            person(json!({ "customerId": world.b }), "In", "B"),
        )
        .await;
        let delete_shared = app
            .graphql(Some(&customer), DELETE, json!({ "id": world.shared_ab }))
            .await;

        assert_refused(&update_b, "contact", &[error("NOT_FOUND", &["id"])]);
        assert_refused(&delete_b, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_refused(
            &create_b,
            "contact",
            &[error("NOT_FOUND", &["input", "customerId"])],
        );
        assert_eq!(
            delete_shared.error_code(),
            "FORBIDDEN",
            "{}",
            delete_shared.body
        );
        assert_eq!(Counts::of(&app.db).await, before);
        let b_direct = contact_row(&app.db, &world.b_direct.to_string())
            .await
            .expect("stored");
        assert_eq!((b_direct.position, b_direct.version), (None, 1));
        // Its own direct contact it may change and delete.
        assert_ok(
            &update(
                &app,
                &customer,
                world.a_direct,
                json!({ "position": "Lead" }),
            )
            .await,
        );
        let deleted = mutate(
            &app,
            &customer,
            DELETE,
            json!({ "id": world.a_direct }),
            "deleteContact",
        )
        .await;
        assert_eq!(deleted["deletedId"], world.a_direct.to_string());
    }

    async fn a_token_without_roles_may_not_change_contacts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let nobody = app.token(&[], Some(vec![world.a]), &[]);
        let before = Counts::of(&app.db).await;

        let created = app
            .graphql(
                Some(&nobody),
                &with_fields(CREATE),
                json!({ "input": person(json!({ "customerId": world.a }), "No", "Body") }),
            )
            .await;
        let shared = app
            .graphql(
                Some(&nobody),
                &with_fields(CREATE),
                json!({ "input": person(json!({}), "No", "Body") }),
            )
            .await;

        assert_eq!(created.error_code(), "FORBIDDEN", "{}", created.body);
        assert_eq!(shared.error_code(), "FORBIDDEN", "{}", shared.body);
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn customer_contacts_list_shows_a_new_direct_contact(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let created = create(
            &app,
            &customer,
            person(json!({ "customerId": world.a }), "New", "One"),
        )
        .await;

        assert_ok(&created);
        let data = app
            .query(
                &customer,
                "query($id: ID!) { customer(id: $id) { contacts { id } } }",
                json!({ "id": world.a }),
            )
            .await;
        assert!(
            ids(&data["customer"]["contacts"])
                .contains(&created["contact"]["id"].as_str().expect("id").to_owned())
        );
    }

    async fn concurrent_contact_deletes_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let (winner, loser) = crate::customers::race_two_deletes(
            &app,
            DELETE,
            "deleteContact",
            "contact",
            world.a_direct,
        )
        .await;

        assert_eq!(winner["deletedId"], world.a_direct.to_string());
        assert_refused(&loser, "deletedId", &[error("NOT_FOUND", &["id"])]);
    }
}
