//! Email addresses and web addresses, checked by the `email_address` and `url` crates plus a
//! host-name check, through `createContact` (`emailAddress`, `website`) and
//! `addContactPoint` (EMAIL and WEBSITE kinds).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{Counts, assert_ok, assert_refused, error, mutate, person};
use crate::support::TestApp;
use crate::support::fixtures::World;

const BAD_EMAILS: [&str; 5] = [
    "ada@-x.com",
    "a..b@x.com",
    "ada.@x.com",
    "ada@x_y.com",
    "Ada <ada@x.com>",
];
const GOOD_EMAILS: [&str; 2] = ["ada@example.com", "ada.lovelace+kith@sub.example.co.uk"];
const BAD_WEBSITES: [&str; 4] = [
    "https://-bad-.com",
    "https://bad-.example.com",
    "ftp://example.com",
    "https://example.com/a b",
];
const GOOD_WEBSITES: [&str; 3] = [
    "https://[::1]/",
    "https://example.com/path?q=1",
    "http://localhost:8080",
];

async fn create(app: &TestApp, customer: Uuid, fields: Value) -> Value {
    let mut input = person(json!({ "customerId": customer }), "Ada", "Lovelace");
    for (name, value) in fields.as_object().expect("fields") {
        input[name] = value.clone();
    }
    mutate(
        app,
        &app.admin(),
        "mutation($input: CreateContactInput!) {
           createContact(input: $input) {
             contact { id emailAddress website } userErrors { field message code } } }",
        json!({ "input": input }),
        "createContact",
    )
    .await
}

async fn add_point(app: &TestApp, contact: Uuid, kind: &str, value: &str) -> Value {
    mutate(
        app,
        &app.admin(),
        "mutation($contactId: ID!, $input: ContactPointInput!) {
           addContactPoint(contactId: $contactId, input: $input) {
             contactPoint { id kind value } userErrors { field message code } } }",
        json!({ "contactId": contact, "input": { "kind": kind, "value": value } }),
        "addContactPoint",
    )
    .await
}

backend_tests! {
    async fn create_contact_refuses_malformed_emails_and_websites(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        for bad in BAD_EMAILS {
            let payload = create(&app, world.a, json!({ "emailAddress": bad })).await;
            assert_refused(&payload, "contact", &[error("INVALID", &["input", "emailAddress"])]);
        }
        for bad in BAD_WEBSITES {
            let payload = create(&app, world.a, json!({ "website": bad })).await;
            assert_refused(&payload, "contact", &[error("INVALID", &["input", "website"])]);
        }

        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn create_contact_takes_real_emails_and_websites_as_given(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        for (email, website) in GOOD_EMAILS.iter().cycle().zip(GOOD_WEBSITES) {
            let payload =
                create(&app, world.a, json!({ "emailAddress": email, "website": website })).await;
            assert_ok(&payload);
            assert_eq!(payload["contact"]["emailAddress"], *email);
            assert_eq!(payload["contact"]["website"], website);
        }
    }

    async fn add_contact_point_refuses_malformed_emails_and_websites(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        for (kind, bad) in BAD_EMAILS
            .iter()
            .map(|bad| ("EMAIL", bad))
            .chain(BAD_WEBSITES.iter().map(|bad| ("WEBSITE", bad)))
        {
            let payload = add_point(&app, world.a_direct, kind, bad).await;
            assert_refused(&payload, "contactPoint", &[error("INVALID", &["input", "value"])]);
        }

        assert_eq!(Counts::of(&app.db).await, before, "nothing written");
    }

    async fn add_contact_point_takes_real_emails_and_websites(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        for (kind, good) in GOOD_EMAILS
            .iter()
            .map(|good| ("EMAIL", good))
            .chain(GOOD_WEBSITES.iter().map(|good| ("WEBSITE", good)))
        {
            let payload = add_point(&app, world.a_direct, kind, good).await;
            assert_ok(&payload);
            assert_eq!(payload["contactPoint"]["value"], *good, "{kind}");
        }
    }
}
