//! Contact uniqueness: one PRIMARY (and SECONDARY) contact per customer and per account, one
//! contact number per customer; a conflict writes nothing.

use serde_json::json;

use super::{
    Counts, assert_ok, assert_refused, contact_row, create, error, person, update,
    with_nested_lists,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

backend_tests! {
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
}
