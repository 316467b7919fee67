//! `saveContact`: the upsert, matched by id, contact number or name within the owner; lists
//! given replace the stored ones; concurrent saves of one new contact make one contact.

use entity::{address, contact, contact_address};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    Counts, address_input, assert_refused, attached_addresses, contact_row, error,
    fail_address_inserts_in, person, point_rows, with_fields,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

const SAVE: &str = r#"
mutation($input: SaveContactInput!) {
  saveContact(input: $input) {
    created contact { ...ContactFields } userErrors { field message code }
  }
}"#;

async fn save(app: &TestApp, token: &str, input: Value) -> Value {
    let response = app
        .graphql(Some(token), &with_fields(SAVE), json!({ "input": input }))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.data()["saveContact"].clone()
}

/// Assert a save succeeded and whether it created; returns the contact's id.
fn saved(payload: &Value, created: bool) -> String {
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["created"], created, "{payload}");
    payload["contact"]["id"].as_str().expect("id").to_owned()
}

async fn with_number(app: &TestApp, number: &str) -> u64 {
    contact::Entity::find()
        .filter(contact::Column::ContactNumber.eq(number))
        .count(&app.db)
        .await
        .expect("count")
}

/// `(city, is_primary)` of a contact's stored addresses, sorted.
async fn stored_addresses(app: &TestApp, contact_id: Uuid) -> Vec<(String, bool)> {
    let links = contact_address::Entity::find()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .all(&app.db)
        .await
        .expect("read links");
    let mut out = Vec::new();
    for link in links {
        let row = address::Entity::find_by_id(link.address_id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("address of a link");
        out.push((row.city, link.is_primary));
    }
    out.sort();
    out
}

fn cities(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    let mut out: Vec<_> = list.iter().map(|(c, p)| ((*c).to_owned(), *p)).collect();
    out.sort();
    out
}

backend_tests! {
    async fn create_then_update_as_a_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut create = person(json!({ "customerId": world.a }), "Ada", "Byron");
        create["contactNumber"] = json!("S-1");
        create["role"] = json!("PRIMARY");
        create["position"] = json!("Poet");
        create["emailAddress"] = json!("ada@example.com");
        create["primaryAddress"] = address_input("London");
        create["addresses"] = json!([address_input("Paris")]);
        create["contactPoints"] = json!([
            { "kind": "PHONE", "countryCode": "44", "areaCode": "20", "number": "7946 0001" },
            { "kind": "EMAIL", "value": "ada@example.com", "isPrimary": true },
        ]);
        // Matched by number; the lists given replace the stored ones.
        let update = json!({
            "contactNumber": "S-1",
            "position": "Analyst",
            "addresses": [address_input("Rome")],
            "contactPoints": [{ "kind": "MOBILE", "countryCode": "44", "number": "7700 900123" }],
        });

        let created = app
            .graphql(Some(&admin), &with_fields(SAVE), json!({ "input": create }))
            .await;
        let updated = app
            .graphql(Some(&admin), &with_fields(SAVE), json!({ "input": update }))
            .await;

        saved(&created.data()["saveContact"], true);
        saved(&updated.data()["saveContact"], false);
        assert_response_snapshot!("save_contact_create_then_update", [&created.body, &updated.body]);
    }

    async fn save_creates_then_updates_by_contact_number(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = Counts::of(&app.db).await;
        let mut input = person(json!({ "customerId": world.a }), "Ada", "Byron");
        input["contactNumber"] = json!("S-1");
        input["position"] = json!("Poet");

        let created = save(&app, &admin, input).await;
        let updated = save(
            &app,
            &admin,
            json!({ "contactNumber": "S-1", "position": "Analyst" }),
        )
        .await;

        let id = saved(&created, true);
        assert_eq!(created["contact"]["version"], 1);
        assert_eq!(saved(&updated, false), id);
        let contact = &updated["contact"];
        assert_eq!(
            (&contact["position"], &contact["firstName"]),
            (&json!("Analyst"), &json!("Ada"))
        );
        assert_eq!(contact["customer"]["id"], world.a.to_string());
        assert_eq!(contact["version"], 2);
        assert_eq!(with_number(&app, "S-1").await, 1);
        assert_eq!(
            Counts::of(&app.db).await,
            Counts {
                contacts: before.contacts + 1,
                ..before
            }
        );
        let row = contact_row(&app.db, &id).await.expect("stored");
        assert_eq!((row.position.as_deref(), row.version), (Some("Analyst"), 2));
    }

    async fn save_matches_by_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = save(
            &app,
            &app.admin(),
            json!({
                "id": world.a_direct, "title": "Countess", "firstName": "Augusta"
            }),
        )
        .await;

        assert_eq!(saved(&payload, false), world.a_direct.to_string());
        assert_eq!(
            payload["contact"]["displayName"],
            "Countess Augusta Lovelace"
        );
        assert_eq!(Counts::of(&app.db).await, before);
        let row = contact_row(&app.db, &world.a_direct.to_string())
            .await
            .expect("stored");
        assert_eq!(
            (row.first_name.as_deref(), row.version),
            (Some("Augusta"), 2)
        );
    }

    async fn save_matches_by_name_within_the_owner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let mut same_customer = person(json!({ "customerId": world.a }), "Ada", "Lovelace");
        same_customer["position"] = json!("Mathematician");
        let mut same_account = person(json!({ "accountId": world.a_account }), "Alan", "Turing");
        same_account["position"] = json!("Cryptanalyst");

        let by_person_name = save(&app, &admin, same_customer).await;
        let by_account_name = save(&app, &admin, same_account).await;
        let other_customer = save(
            &app,
            &admin,
            person(json!({ "customerId": world.b }), "Ada", "Lovelace"),
        )
        .await;
        let other_level = save(
            &app,
            &admin,
            person(json!({ "customerId": world.a }), "Alan", "Turing"),
        )
        .await;

        assert_eq!(saved(&by_person_name, false), world.a_direct.to_string());
        assert_eq!(by_person_name["contact"]["position"], "Mathematician");
        assert_eq!(
            saved(&by_account_name, false),
            world.a_account_contact.to_string()
        );
        assert_eq!(by_account_name["contact"]["position"], "Cryptanalyst");
        let new_in_b = saved(&other_customer, true);
        assert_eq!(
            other_customer["contact"]["customer"]["id"],
            world.b.to_string()
        );
        let new_direct = saved(&other_level, true);
        assert_ne!(new_in_b, new_direct);
        assert_ne!(new_direct, world.a_account_contact.to_string());
    }

    async fn save_matches_a_company_by_its_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let company = json!({ "customerId": world.a, "subtype": "COMPANY", "companyName": "Acme" });

        let created = save(&app, &admin, company.clone()).await;
        let mut again = company;
        again["website"] = json!("https://acme.example");
        let updated = save(&app, &admin, again).await;

        let id = saved(&created, true);
        assert_eq!(saved(&updated, false), id);
        assert_eq!(updated["contact"]["website"], "https://acme.example");
    }

    async fn lists_given_replace_the_stored_ones_and_absent_lists_stay(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let old_phone = point_rows(&app.db, world.a_direct).await[0].id;
        let london = attached_addresses(&app.db, world.a_direct).await[0];

        let points = save(
            &app,
            &admin,
            json!({
                "id": world.a_direct,
                "contactPoints": [
                    { "kind": "EMAIL", "value": "ada@example.com", "isPrimary": true },
                    { "kind": "MOBILE", "number": "07700 900123" }
                ]
            }),
        )
        .await;

        saved(&points, false);
        let formatted: Vec<_> = points["contact"]["contactPoints"]
            .as_array()
            .expect("points")
            .iter()
            .map(|p| p["formatted"].clone())
            .collect();
        assert_eq!(
            formatted,
            vec![json!("ada@example.com"), json!("07700900123")]
        );
        let rows = point_rows(&app.db, world.a_direct).await;
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter().all(|p| p.id != old_phone),
            "the old phone is gone"
        );
        assert_eq!(
            stored_addresses(&app, world.a_direct).await,
            cities(&[("London", true)])
        );

        let addresses = save(
            &app,
            &admin,
            json!({
                "id": world.a_direct,
                "addresses": [address_input("Oakland"), address_input("Fresno")]
            }),
        )
        .await;

        saved(&addresses, false);
        assert_eq!(
            stored_addresses(&app, world.a_direct).await,
            cities(&[("London", true), ("Oakland", false), ("Fresno", false)])
        );
        assert_eq!(
            point_rows(&app.db, world.a_direct).await.len(),
            2,
            "points untouched"
        );

        let primary = save(
            &app,
            &admin,
            json!({
                "id": world.a_direct, "primaryAddress": address_input("Boston")
            }),
        )
        .await;
        let fewer = save(
            &app,
            &admin,
            json!({
                "id": world.a_direct, "addresses": [address_input("Reno")]
            }),
        )
        .await;

        saved(&primary, false);
        saved(&fewer, false);
        assert_eq!(
            stored_addresses(&app, world.a_direct).await,
            cities(&[("Boston", true), ("Reno", false)])
        );
        assert_eq!(primary["contact"]["primaryAddress"]["city"], "Boston");
        let london_row = address::Entity::find_by_id(london)
            .one(&app.db)
            .await
            .expect("read");
        assert!(
            london_row.is_none(),
            "a replaced address no one uses is deleted"
        );
        let all = address::Entity::find().count(&app.db).await.expect("count");
        assert_eq!(all, 5 + 2, "five other fixture addresses, Boston and Reno");
    }

    async fn a_save_failing_in_its_last_nested_item_changes_nothing(backend: Backend) {
        // The replaced lists are deleted before the new ones are written: a failure at the
        // very end must bring them back.
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        fail_address_inserts_in(&app.db, "Boom").await;
        let before = Counts::of(&app.db).await;
        let contact_before = contact_row(&app.db, &world.a_direct.to_string()).await;
        let points_before = point_rows(&app.db, world.a_direct).await;
        let addresses_before = stored_addresses(&app, world.a_direct).await;
        let input = json!({
            "id": world.a_direct,
            "position": "Changed",
            "contactPoints": [{ "kind": "PHONE", "number": "5550100" }],
            "primaryAddress": address_input("Oakland"),
            "addresses": [address_input("Fresno"), address_input("Boom")]
        });

        let response = app
            .graphql(
                Some(&app.admin()),
                &with_fields(SAVE),
                json!({ "input": input }),
            )
            .await;

        assert_eq!(response.error_code(), "INTERNAL", "{}", response.body);
        assert_eq!(Counts::of(&app.db).await, before);
        assert_eq!(
            contact_row(&app.db, &world.a_direct.to_string()).await,
            contact_before
        );
        assert_eq!(point_rows(&app.db, world.a_direct).await, points_before);
        assert_eq!(
            stored_addresses(&app, world.a_direct).await,
            addresses_before
        );
    }

    async fn save_with_an_unknown_id_is_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;
        let mut input = person(json!({ "customerId": world.a }), "Nobody", "Known");
        input["id"] = json!(Uuid::now_v7());
        input["contactPoints"] = json!([{ "kind": "PHONE", "number": "5550100" }]);

        let payload = save(&app, &app.admin(), input).await;

        assert_refused(&payload, "contact", &[error("NOT_FOUND", &["input", "id"])]);
        assert_eq!(payload["created"], false);
        assert_eq!(Counts::of(&app.db).await, before);
    }

    async fn save_out_of_scope_id_is_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[kith::auth::Role::Customer], Some(vec![world.a]), &[]);
        let before = contact_row(&app.db, &world.b_direct.to_string()).await;

        let payload = save(
            &app,
            &customer,
            json!({ "id": world.b_direct, "position": "Spy" }),
        )
        .await;

        assert_refused(&payload, "contact", &[error("NOT_FOUND", &["input", "id"])]);
        assert_eq!(
            contact_row(&app.db, &world.b_direct.to_string()).await,
            before
        );
    }

    async fn concurrent_saves_of_a_new_contact_number_make_one_contact(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        for round in 0..5 {
            let number = format!("RACE-{round}");
            let mut input = person(
                json!({ "customerId": world.a }),
                "Race",
                &format!("Round{round}"),
            );
            input["contactNumber"] = json!(number);
            input["contactPoints"] = json!([{ "kind": "PHONE", "number": "5550100" }]);

            let (left, right) = tokio::join!(
                save(&app, &admin, input.clone()),
                save(&app, &admin, input.clone()),
            );

            assert_eq!(left["userErrors"], json!([]), "round {round}: {left}");
            assert_eq!(right["userErrors"], json!([]), "round {round}: {right}");
            assert_eq!(
                left["contact"]["id"], right["contact"]["id"],
                "round {round}"
            );
            let mut created = [left["created"].clone(), right["created"].clone()];
            created.sort_by_key(|c| c.as_bool());
            assert_eq!(
                created,
                [json!(false), json!(true)],
                "round {round}: {left} {right}"
            );
            assert_eq!(with_number(&app, &number).await, 1, "round {round}");
            let id = Uuid::parse_str(left["contact"]["id"].as_str().expect("id")).expect("uuid");
            assert_eq!(
                point_rows(&app.db, id).await.len(),
                1,
                "round {round}: the list was replaced"
            );
        }
    }
}
