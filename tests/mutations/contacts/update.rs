//! `updateContact`: partial changes, replaced nested lists, moves between owners, versions.

use entity::{address, contact_address};
use kith::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use super::{
    Counts, address_input, assert_ok, assert_refused, contact_row, create, error, person,
    read_contact, timestamp, update, update_at, with_nested_lists,
};
use crate::support::TestApp;
use crate::support::fixtures::{self, World};

backend_tests! {
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
}
