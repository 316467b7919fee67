//! Contact input rules: the subtype's required fields, complete nested addresses, every
//! malformed value reported at once; a refused input writes nothing.

use serde_json::json;

use super::{
    Counts, address_input, assert_ok, assert_refused, contact_row, create, error, person, update,
    with_nested_lists,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

backend_tests! {
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
}
