//! A contact holds at most 50 contact points and 20 addresses, on every write path: over the
//! cap is a `TOO_MANY` user error at the offending list and writes nothing, and concurrent
//! adds cannot slip past it. Also: a contact point without a kind is refused at input.

use kith::input::limits::{MAX_ADDRESSES_PER_CONTACT, MAX_CONTACT_POINTS_PER_CONTACT};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    Counts, address_input, assert_ok, assert_refused, attached_addresses, error, mutate, person,
    point_rows,
};
use crate::support::TestApp;
use crate::support::fixtures::{self, World};

const CREATE: &str = "mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { field message code } }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateContactInput!) {
  updateContact(id: $id, input: $input) { contact { id version } userErrors { field message code } }
}";

const SAVE: &str = "mutation($input: SaveContactInput!) {
  saveContact(input: $input) { created contact { id } userErrors { field message code } }
}";

const PATCH: &str = "mutation($id: ID!, $patch: ContactPatchInput!) {
  patchContact(id: $id, patch: $patch) {
    contact { id } results { patchClientId action } userErrors { field message code }
  }
}";

const ADD_POINT: &str = "mutation($contactId: ID!, $input: ContactPointInput!) {
  addContactPoint(contactId: $contactId, input: $input) {
    contactPoint { id } userErrors { field message code }
  }
}";

const ATTACH: &str = "mutation($contactId: ID!, $addressId: ID, $input: AddressInput,
                               $isPrimary: Boolean!) {
  attachAddress(contactId: $contactId, addressId: $addressId, input: $input,
                isPrimary: $isPrimary) {
    address { id } userErrors { field message code }
  }
}";

/// `n` valid phone inputs.
fn phones(n: usize) -> Value {
    (0..n)
        .map(|i| json!({ "kind": "PHONE", "number": format!("555{i:04}") }))
        .collect()
}

/// `n` complete address inputs.
fn addresses(n: usize) -> Value {
    (0..n)
        .map(|i| address_input(&format!("Town {i}")))
        .collect()
}

/// `n` patch items creating phones.
fn point_creates(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({ "patchType": "CREATE", "patchClientId": format!("p{i}"),
                    "kind": "PHONE", "number": format!("555{i:04}") })
        })
        .collect()
}

/// Give a contact `n` more phones, directly in the database.
async fn store_points(app: &TestApp, contact_id: Uuid, n: usize) {
    for _ in 0..n {
        fixtures::phone(&app.db, contact_id).await;
    }
}

/// Give a contact `n` more non-primary addresses, directly in the database.
async fn store_addresses(app: &TestApp, contact_id: Uuid, n: usize) {
    for i in 0..n {
        fixtures::address(&app.db, contact_id, &format!("Stored {i}"), false).await;
    }
}

async fn points_of(app: &TestApp, contact_id: Uuid) -> usize {
    point_rows(&app.db, contact_id).await.len()
}

async fn addresses_of(app: &TestApp, contact_id: Uuid) -> usize {
    attached_addresses(&app.db, contact_id).await.len()
}

async fn add_point(app: &TestApp, contact_id: Uuid) -> Value {
    let vars =
        json!({ "contactId": contact_id, "input": { "kind": "MOBILE", "number": "7700900" } });
    mutate(app, &app.admin(), ADD_POINT, vars, "addContactPoint").await
}

async fn attach_new(app: &TestApp, contact_id: Uuid, city: &str) -> Value {
    let vars = json!({
        "contactId": contact_id, "input": address_input(city), "isPrimary": false
    });
    mutate(app, &app.admin(), ATTACH, vars, "attachAddress").await
}

async fn patch(app: &TestApp, contact_id: Uuid, patch: Value) -> Value {
    let vars = json!({ "id": contact_id, "patch": patch });
    mutate(app, &app.admin(), PATCH, vars, "patchContact").await
}

fn contact_id(payload: &Value) -> Uuid {
    let id = payload["contact"]["id"].as_str().expect("contact id");
    Uuid::parse_str(id).expect("uuid")
}

#[test]
fn the_caps_are_those_of_api_md() {
    assert_eq!(
        (MAX_CONTACT_POINTS_PER_CONTACT, MAX_ADDRESSES_PER_CONTACT),
        (50, 20)
    );
}

backend_tests! {

    async fn create_contact_takes_lists_up_to_the_caps(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut full = person(json!({ "customerId": world.a }), "Full", "House");
        full["contactPoints"] = phones(50);
        full["primaryAddress"] = address_input("Home");
        full["addresses"] = addresses(19);

        let created = mutate(&app, &admin, CREATE, json!({ "input": full }), "createContact").await;

        assert_ok(&created);
        let id = contact_id(&created);
        assert_eq!((points_of(&app, id).await, addresses_of(&app, id).await), (50, 20));

        let before = Counts::of(&app.db).await;
        let mut points = person(json!({ "customerId": world.a }), "Too", "Many");
        points["contactPoints"] = phones(51);
        let mut with_primary = person(json!({ "customerId": world.a }), "Too", "Many");
        with_primary["primaryAddress"] = address_input("Home");
        with_primary["addresses"] = addresses(20);
        let mut plain = person(json!({ "customerId": world.a }), "Too", "Many");
        plain["addresses"] = addresses(21);
        for (input, list) in [
            (points, "contactPoints"),
            (with_primary, "addresses"),
            (plain, "addresses"),
        ] {
            let payload =
                mutate(&app, &admin, CREATE, json!({ "input": input }), "createContact").await;
            assert_refused(&payload, "contact", &[error("TOO_MANY", &["input", list])]);
        }
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn update_contact_lists_replace_within_the_caps(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let id = world.a_direct;

        // The fixture's primary address stays; 19 further ones make 20.
        let full = json!({ "contactPoints": phones(50), "addresses": addresses(19) });
        let updated =
            mutate(&app, &admin, UPDATE, json!({ "id": id, "input": full }), "updateContact").await;
        assert_ok(&updated);
        assert_eq!((points_of(&app, id).await, addresses_of(&app, id).await), (50, 20));

        let before = Counts::of(&app.db).await;
        let version = fixtures_version(&app, id).await;
        for (input, list) in [
            (json!({ "contactPoints": phones(51) }), "contactPoints"),
            // Refused before any SQL: the list alone is over.
            (json!({ "addresses": addresses(21) }), "addresses"),
            // Counted after the write: with the stored primary address it makes 21.
            (json!({ "addresses": addresses(20) }), "addresses"),
            (
                json!({ "primaryAddress": address_input("New home"), "addresses": addresses(20) }),
                "addresses",
            ),
        ] {
            let payload =
                mutate(&app, &admin, UPDATE, json!({ "id": id, "input": input }), "updateContact")
                    .await;
            assert_refused(&payload, "contact", &[error("TOO_MANY", &["input", list])]);
        }
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
        assert_eq!(fixtures_version(&app, id).await, version, "contact unchanged");

        // A primary address given alone joins 20 stored further ones.
        let mut twenty = person(json!({ "customerId": world.a }), "Twenty", "Addresses");
        twenty["addresses"] = addresses(20);
        let created = mutate(&app, &admin, CREATE, json!({ "input": twenty }), "createContact").await;
        let other = contact_id(&created);
        let before = Counts::of(&app.db).await;
        let payload = mutate(
            &app,
            &admin,
            UPDATE,
            json!({ "id": other, "input": { "primaryAddress": address_input("Home") } }),
            "updateContact",
        )
        .await;

        assert_refused(&payload, "contact", &[error("TOO_MANY", &["input", "primaryAddress"])]);
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn save_contact_lists_within_the_caps(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        let at_cap = json!({ "id": world.a_direct, "contactPoints": phones(50) });
        let saved = mutate(&app, &admin, SAVE, json!({ "input": at_cap }), "saveContact").await;
        assert_ok(&saved);
        assert_eq!(saved["created"], false);
        assert_eq!(points_of(&app, world.a_direct).await, 50);

        let before = Counts::of(&app.db).await;
        let mut new_over = person(json!({ "customerId": world.a }), "New", "Over");
        new_over["contactPoints"] = phones(51);
        let mut new_addresses = person(json!({ "customerId": world.a }), "New", "Over");
        new_addresses["primaryAddress"] = address_input("Home");
        new_addresses["addresses"] = addresses(20);
        for (input, list) in [
            (json!({ "id": world.a_direct, "contactPoints": phones(51) }), "contactPoints"),
            (json!({ "id": world.a_direct, "addresses": addresses(20) }), "addresses"),
            (new_over, "contactPoints"),
            (new_addresses, "addresses"),
        ] {
            let payload = mutate(&app, &admin, SAVE, json!({ "input": input }), "saveContact").await;
            assert_refused(&payload, "contact", &[error("TOO_MANY", &["input", list])]);
        }
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn patch_contact_counts_after_its_items(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let id = world.a_direct;
        store_points(&app, id, 47).await;

        // 48 + 2 = 50.
        assert_ok(&patch(&app, id, json!({ "contactPoints": point_creates(2) })).await);
        assert_eq!(points_of(&app, id).await, 50);

        let before = Counts::of(&app.db).await;
        let one_more = patch(&app, id, json!({ "contactPoints": point_creates(1) })).await;
        assert_refused(&one_more, "contact", &[error("TOO_MANY", &["patch", "contactPoints"])]);
        // Refused before any SQL: more creates than the cap.
        let far_over = patch(&app, id, json!({ "contactPoints": point_creates(51) })).await;
        assert_refused(&far_over, "contact", &[error("TOO_MANY", &["patch", "contactPoints"])]);
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");

        // A delete makes room for a create in the same patch.
        let first = point_rows(&app.db, id).await[0].id;
        let mut items = vec![json!({ "patchType": "DELETE", "patchClientId": "gone", "id": first })];
        items.extend(point_creates(1));
        assert_ok(&patch(&app, id, json!({ "contactPoints": items })).await);
        assert_eq!(points_of(&app, id).await, 50);

        // Addresses: 1 stored + 18 + 1 created = 20; attaching one more is over.
        store_addresses(&app, id, 18).await;
        let create = json!([{ "patchType": "CREATE", "patchClientId": "a1",
                              "line1": "1 Main Street", "city": "Twentieth",
                              "state": "CA", "postalCode": "94105" }]);
        assert_ok(&patch(&app, id, json!({ "addresses": create })).await);
        assert_eq!(addresses_of(&app, id).await, 20);
        let other = attached_addresses(&app.db, world.a_account_contact).await[0];
        let before = Counts::of(&app.db).await;
        let attach = json!([{ "patchType": "ATTACH", "patchClientId": "a2", "id": other }]);
        let refused = patch(&app, id, json!({ "addresses": attach })).await;
        assert_refused(&refused, "contact", &[error("TOO_MANY", &["patch", "addresses"])]);
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
        assert_eq!(addresses_of(&app, id).await, 20);
    }

    async fn add_contact_point_stops_at_the_cap(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let id = world.a_direct;
        store_points(&app, id, 48).await;

        assert_ok(&add_point(&app, id).await);
        assert_eq!(points_of(&app, id).await, 50);
        let before = Counts::of(&app.db).await;
        let refused = add_point(&app, id).await;

        assert_refused(&refused, "contactPoint", &[error("TOO_MANY", &["contactId"])]);
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn attach_address_stops_at_the_cap(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let id = world.a_direct;
        store_addresses(&app, id, 18).await;

        assert_ok(&attach_new(&app, id, "Twentieth").await);
        assert_eq!(addresses_of(&app, id).await, 20);
        let before = Counts::of(&app.db).await;
        let new_one = attach_new(&app, id, "Twenty-first").await;
        let other = attached_addresses(&app.db, world.a_account_contact).await[0];
        let existing = mutate(
            &app,
            &admin,
            ATTACH,
            json!({ "contactId": id, "addressId": other, "isPrimary": false }),
            "attachAddress",
        )
        .await;

        assert_refused(&new_one, "address", &[error("TOO_MANY", &["contactId"])]);
        assert_refused(&existing, "address", &[error("TOO_MANY", &["contactId"])]);
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");

        // Attaching an address the contact already holds (here: making it primary) adds none.
        let own = attached_addresses(&app.db, id).await[5];
        let again = mutate(
            &app,
            &admin,
            ATTACH,
            json!({ "contactId": id, "addressId": own, "isPrimary": true }),
            "attachAddress",
        )
        .await;
        assert_ok(&again);
        assert_eq!(addresses_of(&app, id).await, 20);
    }

    async fn concurrent_adds_cannot_pass_the_cap(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let id = world.a_direct;
        store_points(&app, id, 44).await;

        let adds = (0..10).map(|_| add_point(&app, id));
        let payloads = futures_util::future::join_all(adds).await;

        let ok = payloads
            .iter()
            .filter(|p| p["userErrors"] == json!([]))
            .count();
        for payload in payloads.iter().filter(|p| p["userErrors"] != json!([])) {
            assert_refused(payload, "contactPoint", &[error("TOO_MANY", &["contactId"])]);
        }
        assert_eq!(ok, 5);
        assert_eq!(points_of(&app, id).await, 50);
    }

    async fn concurrent_attachments_cannot_pass_the_cap(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let id = world.a_direct;
        store_addresses(&app, id, 14).await;

        let cities: Vec<String> = (0..10).map(|i| format!("Racing {i}")).collect();
        let attaches = cities.iter().map(|city| attach_new(&app, id, city));
        let payloads = futures_util::future::join_all(attaches).await;

        let ok = payloads
            .iter()
            .filter(|p| p["userErrors"] == json!([]))
            .count();
        assert_eq!(ok, 5, "{payloads:?}");
        assert_eq!(addresses_of(&app, id).await, 20);
    }

    async fn a_contact_stored_over_the_cap_may_shrink_but_not_grow(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let id = world.a_direct;
        // As a contact written before the caps existed.
        store_points(&app, id, 59).await;
        let first = point_rows(&app.db, id).await[0].id;

        let delete = json!([{ "patchType": "DELETE", "patchClientId": "d", "id": first }]);
        assert_ok(&patch(&app, id, json!({ "contactPoints": delete })).await);
        let refused = add_point(&app, id).await;

        assert_refused(&refused, "contactPoint", &[error("TOO_MANY", &["contactId"])]);
        assert_eq!(points_of(&app, id).await, 59);
    }

    async fn a_contact_point_without_a_kind_is_refused_at_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = Counts::of(&app.db).await;
        let no_kind = json!({ "number": "5550100" });

        let added = mutate(
            &app,
            &admin,
            ADD_POINT,
            json!({ "contactId": world.a_direct, "input": no_kind }),
            "addContactPoint",
        )
        .await;
        let mut input = person(json!({ "customerId": world.a }), "No", "Kind");
        input["contactPoints"] = json!([no_kind]);
        let created = mutate(&app, &admin, CREATE, json!({ "input": input }), "createContact").await;
        let patched = patch(
            &app,
            world.a_direct,
            json!({ "contactPoints": [{ "patchType": "CREATE", "patchClientId": "k",
                                         "number": "5550100" }] }),
        )
        .await;

        assert_refused(&added, "contactPoint", &[error("REQUIRED", &["input", "kind"])]);
        assert_refused(
            &created,
            "contact",
            &[error("REQUIRED", &["input", "contactPoints", "0", "kind"])],
        );
        assert_refused(
            &patched,
            "contact",
            &[error("REQUIRED", &["patch", "contactPoints", "0", "kind"])],
        );
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }
}

/// The stored version of a contact.
async fn fixtures_version(app: &TestApp, id: Uuid) -> i32 {
    crate::mutations::contacts::contact_row(&app.db, &id.to_string())
        .await
        .expect("contact")
        .version
}
