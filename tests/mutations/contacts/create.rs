//! `createContact`: contacts at each level, with their nested lists, all or nothing.

use kith::auth::Role;
use serde_json::{Value, json};

use super::{
    CREATE, Counts, address_input, assert_ok, assert_refused, contact_row, create, error,
    fail_address_inserts_in, person, read_contact, with_fields, with_nested_lists,
};
use crate::support::fixtures::World;
use crate::support::{TestApp, ids};

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
        // The country code is upper-cased; the region is kept as given (it may be a name).
        assert_eq!(
            read["primaryAddress"],
            json!({
                "id": read["primaryAddress"]["id"], "line1": "1 Navy Way", "line2": "Suite 9",
                "city": "Arlington", "state": "va", "postalCode": "22202", "country": "US",
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
}
