//! Address mutations: attach (new or existing, primary or not), detach, update, delete, and
//! scope.

use chrono::Utc;
use entity::{address, contact_address};
use kith::auth::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    Counts, address_input, assert_ok, assert_refused, attached_addresses, error, mutate,
    read_contact,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

const ADDRESS_FIELDS: &str = "address { id line1 line2 city state postalCode isPrimary version }
  userErrors { field message code }";

/// Attach an existing address to another contact, directly in the database (not primary).
pub async fn attach_row(db: &DatabaseConnection, contact_id: Uuid, address_id: Uuid) {
    contact_address::Model {
        contact_id,
        address_id,
        is_primary: false,
        created_at: Utc::now(),
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await
    .expect("attach address");
}

async fn attach(
    app: &TestApp,
    token: &str,
    contact_id: Uuid,
    address_id: Option<Uuid>,
    input: Option<Value>,
    is_primary: bool,
) -> Value {
    let query = format!(
        "mutation($contactId: ID!, $addressId: ID, $input: AddressInput, $isPrimary: Boolean!) {{
           attachAddress(contactId: $contactId, addressId: $addressId, input: $input,
                         isPrimary: $isPrimary) {{ {ADDRESS_FIELDS} }} }}"
    );
    let vars = json!({
        "contactId": contact_id, "addressId": address_id, "input": input, "isPrimary": is_primary
    });
    mutate(app, token, &query, vars, "attachAddress").await
}

async fn detach(app: &TestApp, token: &str, contact_id: Uuid, address_id: Uuid) -> Value {
    let query = "mutation($contactId: ID!, $addressId: ID!) {
      detachAddress(contactId: $contactId, addressId: $addressId) {
        addressId address { id isPrimary } userErrors { field message code } } }";
    let vars = json!({ "contactId": contact_id, "addressId": address_id });
    mutate(app, token, query, vars, "detachAddress").await
}

async fn update(
    app: &TestApp,
    token: &str,
    id: Uuid,
    input: Value,
    expected_version: Option<i32>,
) -> Value {
    let query = format!(
        "mutation($id: ID!, $input: AddressInput!, $expectedVersion: Int) {{
           updateAddress(id: $id, input: $input, expectedVersion: $expectedVersion) {{
             {ADDRESS_FIELDS} }} }}"
    );
    let vars = json!({ "id": id, "input": input, "expectedVersion": expected_version });
    mutate(app, token, &query, vars, "updateAddress").await
}

async fn delete(app: &TestApp, token: &str, id: Uuid) -> Value {
    let query = "mutation($id: ID!) {
      deleteAddress(id: $id) { deletedId userErrors { field message code } } }";
    mutate(app, token, query, json!({ "id": id }), "deleteAddress").await
}

/// The fixture address of a contact (each fixture contact has exactly one, primary).
async fn address_of(app: &TestApp, contact_id: Uuid) -> Uuid {
    let attached = attached_addresses(&app.db, contact_id).await;
    assert_eq!(attached.len(), 1);
    attached[0]
}

async fn address_row(app: &TestApp, id: Uuid) -> Option<address::Model> {
    address::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
}

/// Ids of a contact's primary attachments.
async fn primary_of(app: &TestApp, contact_id: Uuid) -> Vec<Uuid> {
    contact_address::Entity::find()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .filter(contact_address::Column::IsPrimary.eq(true))
        .all(&app.db)
        .await
        .expect("read")
        .into_iter()
        .map(|link| link.address_id)
        .collect()
}

fn id_of(payload: &Value) -> Uuid {
    Uuid::parse_str(payload["address"]["id"].as_str().expect("id")).expect("uuid")
}

backend_tests! {
    async fn a_new_primary_address_replaces_the_previous_primary(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let london = address_of(&app, world.a_direct).await;

        let primary = attach(
            &app,
            &admin,
            world.a_direct,
            None,
            Some(address_input("Oakland")),
            true,
        )
        .await;
        let secondary = attach(
            &app,
            &admin,
            world.a_direct,
            None,
            Some(address_input("Fresno")),
            false,
        )
        .await;

        assert_ok(&primary);
        assert_eq!(primary["address"]["isPrimary"], true);
        assert_eq!(primary["address"]["city"], "Oakland");
        assert_ok(&secondary);
        assert_eq!(secondary["address"]["isPrimary"], false);
        assert_eq!(
            primary_of(&app, world.a_direct).await,
            vec![id_of(&primary)]
        );
        assert_eq!(attached_addresses(&app.db, world.a_direct).await.len(), 3);
        let read = read_contact(&app, &admin, &world.a_direct.to_string()).await;
        assert_eq!(read["primaryAddress"]["city"], "Oakland");
        let flags: Vec<_> = read["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .map(|a| (a["city"].clone(), a["isPrimary"].clone()))
            .collect();
        assert_eq!(
            flags,
            vec![
                (json!("London"), json!(false)),
                (json!("Oakland"), json!(true)),
                (json!("Fresno"), json!(false)),
            ]
        );
        assert!(
            address_row(&app, london).await.is_some(),
            "the old primary stays attached"
        );
    }

    async fn an_existing_address_can_serve_two_contacts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let london = address_of(&app, world.a_direct).await;
        let before = Counts::of(&app.db).await;

        let attached = attach(
            &app,
            &customer,
            world.a_account_contact,
            Some(london),
            None,
            false,
        )
        .await;
        let updated = update(
            &app,
            &customer,
            london,
            json!({ "city": "Manchester" }),
            None,
        )
        .await;

        assert_ok(&attached);
        assert_eq!(id_of(&attached), london);
        assert_ok(&updated);
        let after = Counts::of(&app.db).await;
        assert_eq!(
            after,
            Counts {
                contact_addresses: before.contact_addresses + 1,
                ..before
            }
        );
        for contact in [world.a_direct, world.a_account_contact] {
            let read = read_contact(&app, &customer, &contact.to_string()).await;
            let cities: Vec<_> = read["addresses"]
                .as_array()
                .expect("addresses")
                .iter()
                .filter(|a| a["id"] == json!(london.to_string()))
                .map(|a| a["city"].clone())
                .collect();
            assert_eq!(cities, vec![json!("Manchester")], "{read}");
        }
        // Not primary for the second contact, still primary for the first.
        assert_eq!(primary_of(&app, world.a_direct).await, vec![london]);
        assert!(
            !primary_of(&app, world.a_account_contact)
                .await
                .contains(&london)
        );
    }

    async fn attach_needs_exactly_one_of_address_id_and_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let london = address_of(&app, world.a_direct).await;
        let before = Counts::of(&app.db).await;

        let neither = attach(&app, &admin, world.a_account_contact, None, None, false).await;
        let both = attach(
            &app,
            &admin,
            world.a_account_contact,
            Some(london),
            Some(address_input("Oakland")),
            false,
        )
        .await;
        let incomplete = attach(
            &app,
            &admin,
            world.a_account_contact,
            None,
            Some(json!({ "line1": "1 Road", "postalCode": "LS1" })),
            true,
        )
        .await;

        assert_refused(&neither, "address", &[error("INVALID", &["addressId"])]);
        assert_refused(&both, "address", &[error("INVALID", &["addressId"])]);
        assert_refused(
            &incomplete,
            "address",
            &[
                error("REQUIRED", &["input", "city"]),
                error("REQUIRED", &["input", "state"]),
            ],
        );
        assert_eq!(Counts::of(&app.db).await, before);
        assert_eq!(primary_of(&app, world.a_account_contact).await.len(), 1);
    }

    async fn attach_reports_every_problem_of_a_new_address_at_once(backend: Backend) {
        // A malformed postal code and missing fields in one input: the client hears of all of
        // them in one round trip, as with `createContact`.
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = attach(
            &app,
            &app.admin(),
            world.a_direct,
            None,
            Some(json!({ "line1": "1 Road", "postalCode": "1" })),
            false,
        )
        .await;

        assert_refused(
            &payload,
            "address",
            &[
                error("INVALID", &["input", "postalCode"]),
                error("REQUIRED", &["input", "city"]),
                error("REQUIRED", &["input", "state"]),
            ],
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn an_address_is_deleted_when_its_last_contact_lets_go(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let london = address_of(&app, world.a_direct).await;
        attach_row(&app.db, world.a_account_contact, london).await;

        let first = detach(&app, &admin, world.a_direct, london).await;
        let still_there = address_row(&app, london).await;
        let last = detach(&app, &admin, world.a_account_contact, london).await;
        let again = detach(&app, &admin, world.a_account_contact, london).await;

        assert_eq!(
            first,
            json!({
                "addressId": london.to_string(),
                "address": { "id": london.to_string(), "isPrimary": false },
                "userErrors": []
            })
        );
        assert!(still_there.is_some(), "another contact still uses it");
        assert!(attached_addresses(&app.db, world.a_direct).await.is_empty());
        assert_eq!(
            last,
            json!({ "addressId": london.to_string(), "address": null, "userErrors": [] })
        );
        assert!(
            address_row(&app, london).await.is_none(),
            "no contact uses it any more"
        );
        assert_refused(&again, "addressId", &[error("NOT_FOUND", &["addressId"])]);
        let read = read_contact(&app, &admin, &world.a_direct.to_string()).await;
        assert_eq!(
            (read["addresses"].clone(), read["primaryAddress"].clone()),
            (json!([]), Value::Null)
        );
    }

    async fn update_address_changes_only_the_fields_given(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut input = address_input("San Francisco");
        input["line2"] = json!("Suite 5");
        let created = attach(&app, &admin, world.a_direct, None, Some(input), false).await;
        let id = id_of(&created);

        let moved = update(&app, &admin, id, json!({ "postalCode": "94107" }), Some(1)).await;
        let cleared = update(&app, &admin, id, json!({ "line2": null }), Some(2)).await;

        assert_ok(&moved);
        assert_eq!(
            (
                &moved["address"]["postalCode"],
                &moved["address"]["line2"],
                &moved["address"]["city"]
            ),
            (&json!("94107"), &json!("Suite 5"), &json!("San Francisco"))
        );
        assert_eq!(moved["address"]["version"], 2);
        assert_ok(&cleared);
        assert_eq!(cleared["address"]["line2"], Value::Null);
        assert_eq!(cleared["address"]["version"], 3);
        let row = address_row(&app, id).await.expect("stored");
        assert_eq!(
            (
                row.line1.as_str(),
                row.line2,
                row.city.as_str(),
                row.postal_code.as_str(),
                row.version
            ),
            ("1 Main Street", None, "San Francisco", "94107", 3)
        );
    }

    async fn update_address_refuses_stale_versions_and_cleared_required_fields(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let london = address_of(&app, world.a_direct).await;
        let before = address_row(&app, london).await;

        let stale = update(&app, &admin, london, json!({ "city": "Leeds" }), Some(7)).await;
        let cleared = update(
            &app,
            &admin,
            london,
            json!({ "city": null, "line1": "  " }),
            None,
        )
        .await;

        assert_refused(
            &stale,
            "address",
            &[error("CONFLICT", &["expectedVersion"])],
        );
        assert_refused(
            &cleared,
            "address",
            &[
                error("REQUIRED", &["input", "city"]),
                error("REQUIRED", &["input", "line1"]),
            ],
        );
        assert_eq!(address_row(&app, london).await, before);
    }

    async fn delete_address_removes_it_from_every_contact(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let london = address_of(&app, world.a_direct).await;
        attach_row(&app.db, world.a_account_contact, london).await;
        let before = Counts::of(&app.db).await;

        let payload = delete(&app, &admin, london).await;

        assert_eq!(
            payload,
            json!({ "deletedId": london.to_string(), "userErrors": [] })
        );
        assert!(address_row(&app, london).await.is_none());
        assert!(attached_addresses(&app.db, world.a_direct).await.is_empty());
        assert_eq!(
            attached_addresses(&app.db, world.a_account_contact)
                .await
                .len(),
            1
        );
        assert_eq!(
            Counts::of(&app.db).await,
            Counts {
                addresses: before.addresses - 1,
                contact_addresses: before.contact_addresses - 2,
                ..before
            }
        );
        for contact in [world.a_direct, world.a_account_contact] {
            let read = read_contact(&app, &admin, &contact.to_string()).await;
            assert!(
                !read["addresses"].to_string().contains(&london.to_string()),
                "{read}"
            );
        }
    }

    async fn addresses_out_of_scope_are_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let agency = app.token(&[Role::Agency], Some(vec![world.a]), &[]);
        let b_address = address_of(&app, world.b_direct).await;
        let a_address = address_of(&app, world.a_direct).await;
        let b_before = address_row(&app, b_address).await;
        let before = Counts::of(&app.db).await;

        let attach_to_b = attach(
            &app,
            &customer,
            world.b_direct,
            None,
            Some(address_input("Oslo")),
            false,
        )
        .await;
        let attach_b_address = attach(
            &app,
            &customer,
            world.a_direct,
            Some(b_address),
            None,
            false,
        )
        .await;
        let update_b = update(&app, &customer, b_address, json!({ "city": "Oslo" }), None).await;
        let delete_b = delete(&app, &customer, b_address).await;
        let detach_b = detach(&app, &customer, world.b_direct, b_address).await;
        let detach_unattached = detach(&app, &customer, world.a_direct, b_address).await;
        let agency_update = update(&app, &agency, a_address, json!({ "city": "Oslo" }), None).await;
        let agency_attach = attach(
            &app,
            &agency,
            world.a_direct,
            None,
            Some(address_input("Oslo")),
            false,
        )
        .await;

        assert_refused(
            &attach_to_b,
            "address",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_refused(
            &attach_b_address,
            "address",
            &[error("NOT_FOUND", &["addressId"])],
        );
        assert_refused(&update_b, "address", &[error("NOT_FOUND", &["id"])]);
        assert_refused(&delete_b, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_refused(
            &detach_b,
            "addressId",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_refused(
            &detach_unattached,
            "addressId",
            &[error("NOT_FOUND", &["addressId"])],
        );
        assert_refused(&agency_update, "address", &[error("NOT_FOUND", &["id"])]);
        assert_refused(
            &agency_attach,
            "address",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
        assert_eq!(address_row(&app, b_address).await, b_before);
        // The agency may change the addresses of account-level contacts.
        let account_address = address_of(&app, world.a_account_contact).await;
        assert_ok(
            &update(
                &app,
                &agency,
                account_address,
                json!({ "city": "Oslo" }),
                None,
            )
            .await,
        );
    }

    async fn an_address_also_used_beyond_the_callers_reach_is_forbidden(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let a_address = address_of(&app, world.a_direct).await;
        // The same address also serves customer b's contact.
        attach_row(&app.db, world.b_direct, a_address).await;
        let before = address_row(&app, a_address).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let query = "mutation($id: ID!) {
          updateAddress(id: $id, input: { city: \"Oslo\" }) { address { id } userErrors { code } } }";
        let response = app.graphql(Some(&customer), query, json!({ "id": a_address })).await;
        assert_eq!(response.error_code(), "FORBIDDEN");
        assert_eq!(address_row(&app, a_address).await, before);
        // A caller who sees every contact using it may change it.
        let admin = app.graphql(Some(&app.admin()), query, json!({ "id": a_address })).await;
        assert_eq!(admin.data()["updateAddress"]["userErrors"], json!([]));
        assert_eq!(address_row(&app, a_address).await.expect("row").city, "Oslo");
    }
}
