//! Contact point mutations: add (normalised, kind rules, one primary per kind), update, delete,
//! and scope.

use entity::contact_point;
use kith::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    assert_ok, assert_refused, error, mutate, point_rows, read_contact,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

const POINT_FIELDS: &str =
    "contactPoint { id kind value countryCode areaCode number formatted isPrimary version }
     userErrors { field message code }";

async fn add(app: &TestApp, token: &str, contact_id: Uuid, input: Value) -> Value {
    let query = format!(
        "mutation($contactId: ID!, $input: ContactPointInput!) {{
           addContactPoint(contactId: $contactId, input: $input) {{ {POINT_FIELDS} }} }}"
    );
    let vars = json!({ "contactId": contact_id, "input": input });
    mutate(app, token, &query, vars, "addContactPoint").await
}

async fn update(
    app: &TestApp,
    token: &str,
    id: Uuid,
    input: Value,
    expected_version: Option<i32>,
) -> Value {
    let query = format!(
        "mutation($id: ID!, $input: ContactPointInput!, $expectedVersion: Int) {{
           updateContactPoint(id: $id, input: $input, expectedVersion: $expectedVersion) {{
             {POINT_FIELDS} }} }}"
    );
    let vars = json!({ "id": id, "input": input, "expectedVersion": expected_version });
    mutate(app, token, &query, vars, "updateContactPoint").await
}

async fn delete(app: &TestApp, token: &str, id: Uuid) -> Value {
    let query = "mutation($id: ID!) {
      deleteContactPoint(id: $id) { deletedId userErrors { field message code } } }";
    mutate(app, token, query, json!({ "id": id }), "deleteContactPoint").await
}

/// The fixture phone of a contact (each fixture contact has exactly one).
async fn phone_of(app: &TestApp, contact_id: Uuid) -> contact_point::Model {
    let mut points = point_rows(&app.db, contact_id).await;
    assert_eq!(points.len(), 1);
    points.remove(0)
}

async fn point_row(app: &TestApp, id: &Value) -> Option<contact_point::Model> {
    let id = Uuid::parse_str(id.as_str().expect("id")).expect("uuid");
    contact_point::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
}

async fn point_count(app: &TestApp) -> u64 {
    contact_point::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

/// `(kind, is_primary)` of a contact's stored points, oldest first.
async fn primaries(app: &TestApp, contact_id: Uuid) -> Vec<(String, bool)> {
    let mut points = point_rows(&app.db, contact_id).await;
    points.sort_by_key(|p| p.id);
    points.into_iter().map(|p| (p.kind, p.is_primary)).collect()
}

backend_tests! {
    async fn phone_parts_are_normalised(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        let payload = add(
            &app,
            &admin,
            world.a_direct,
            json!({
                "kind": "MOBILE", "countryCode": "+44", "areaCode": "(020)", "number": "7946 0000"
            }),
        )
        .await;

        assert_ok(&payload);
        let point = &payload["contactPoint"];
        assert_eq!(
            (&point["countryCode"], &point["areaCode"], &point["number"]),
            (&json!("44"), &json!("020"), &json!("79460000"))
        );
        assert_eq!(point["formatted"], "+44 020 79460000");
        assert_eq!(point["isPrimary"], false);
        assert_eq!(point["version"], 1);
        let row = point_row(&app, &point["id"]).await.expect("stored");
        assert_eq!(row.contact_id, world.a_direct);
        assert_eq!(
            (
                row.kind.as_str(),
                row.country_code.as_deref(),
                row.number.as_deref(),
                row.value
            ),
            ("MOBILE", Some("44"), Some("79460000"), None)
        );
        let read = read_contact(&app, &admin, &world.a_direct.to_string()).await;
        assert_eq!(read["contactPoints"][1]["id"], point["id"]);
    }

    async fn an_email_domain_is_lower_cased(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let payload = add(
            &app,
            &app.admin(),
            world.a_direct,
            json!({
                "kind": "EMAIL", "value": "  Ada.Lovelace@Example.COM "
            }),
        )
        .await;

        assert_ok(&payload);
        assert_eq!(payload["contactPoint"]["value"], "Ada.Lovelace@example.com");
        assert_eq!(
            payload["contactPoint"]["formatted"],
            "Ada.Lovelace@example.com"
        );
        let row = point_row(&app, &payload["contactPoint"]["id"])
            .await
            .expect("stored");
        assert_eq!(row.value.as_deref(), Some("Ada.Lovelace@example.com"));
    }

    async fn a_primary_point_demotes_the_previous_primary_of_its_kind(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let old_phone = phone_of(&app, world.a_direct).await;
        assert!(old_phone.is_primary);

        let new_phone = add(
            &app,
            &admin,
            world.a_direct,
            json!({
                "kind": "PHONE", "number": "5550100", "isPrimary": true
            }),
        )
        .await;
        let email = add(
            &app,
            &admin,
            world.a_direct,
            json!({
                "kind": "EMAIL", "value": "ada@example.com", "isPrimary": true
            }),
        )
        .await;

        assert_ok(&new_phone);
        assert_ok(&email);
        assert_eq!(
            primaries(&app, world.a_direct).await,
            vec![
                ("PHONE".to_owned(), false),
                ("PHONE".to_owned(), true),
                ("EMAIL".to_owned(), true),
            ]
        );
        // Promoting the old phone again demotes the new one, and leaves the email alone.
        let promoted = update(
            &app,
            &admin,
            old_phone.id,
            json!({ "isPrimary": true }),
            None,
        )
        .await;
        assert_ok(&promoted);
        assert_eq!(
            primaries(&app, world.a_direct).await,
            vec![
                ("PHONE".to_owned(), true),
                ("PHONE".to_owned(), false),
                ("EMAIL".to_owned(), true),
            ]
        );
        assert!(
            phone_of(&app, world.b_direct).await.is_primary,
            "other contacts are untouched"
        );
    }

    async fn each_kind_has_its_rules(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = point_count(&app).await;

        let phone_without_number = add(
            &app,
            &admin,
            world.a_direct,
            json!({ "kind": "PHONE", "countryCode": "44" }),
        )
        .await;
        let email_with_number = add(&app, &admin, world.a_direct, json!({
            "kind": "EMAIL", "value": "ada@example.com", "countryCode": "44", "number": "5550100"
        }))
        .await;
        let email_without_value =
            add(&app, &admin, world.a_direct, json!({ "kind": "EMAIL" })).await;
        let bad_email = add(
            &app,
            &admin,
            world.a_direct,
            json!({ "kind": "EMAIL", "value": "ada" }),
        )
        .await;
        let bad_website = add(
            &app,
            &admin,
            world.a_direct,
            json!({ "kind": "WEBSITE", "value": "example.com" }),
        )
        .await;
        let without_kind = add(&app, &admin, world.a_direct, json!({ "number": "5550100" })).await;

        assert_refused(
            &phone_without_number,
            "contactPoint",
            &[error("REQUIRED", &["input", "number"])],
        );
        assert_refused(
            &email_with_number,
            "contactPoint",
            &[
                error("INVALID", &["input", "countryCode"]),
                error("INVALID", &["input", "number"]),
            ],
        );
        assert_refused(
            &email_without_value,
            "contactPoint",
            &[error("REQUIRED", &["input", "value"])],
        );
        assert_refused(
            &bad_email,
            "contactPoint",
            &[error("INVALID", &["input", "value"])],
        );
        assert_refused(
            &bad_website,
            "contactPoint",
            &[error("INVALID", &["input", "value"])],
        );
        assert_refused(
            &without_kind,
            "contactPoint",
            &[error("REQUIRED", &["input", "kind"])],
        );
        assert_eq!(point_count(&app).await, before);
    }

    async fn update_contact_point_changes_only_the_fields_given(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let phone = phone_of(&app, world.a_direct).await;

        let changed = update(
            &app,
            &admin,
            phone.id,
            json!({ "areaCode": "161" }),
            Some(1),
        )
        .await;
        let cleared = update(&app, &admin, phone.id, json!({ "areaCode": null }), None).await;

        assert_ok(&changed);
        assert_eq!(changed["contactPoint"]["formatted"], "+44 161 79460000");
        assert_eq!(changed["contactPoint"]["version"], 2);
        assert_ok(&cleared);
        assert_eq!(cleared["contactPoint"]["formatted"], "+44 79460000");
        assert_eq!(cleared["contactPoint"]["version"], 3);
        let row = phone_of(&app, world.a_direct).await;
        assert_eq!(
            (
                row.kind.as_str(),
                row.country_code.as_deref(),
                row.area_code,
                row.number.as_deref(),
                row.is_primary
            ),
            ("PHONE", Some("44"), None, Some("79460000"), true)
        );
    }

    async fn update_contact_point_with_a_stale_version_conflicts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let phone = phone_of(&app, world.a_direct).await;
        assert_ok(
            &update(
                &app,
                &admin,
                phone.id,
                json!({ "number": "1112222" }),
                Some(1),
            )
            .await,
        );

        let stale = update(
            &app,
            &admin,
            phone.id,
            json!({ "number": "3334444" }),
            Some(1),
        )
        .await;

        assert_refused(
            &stale,
            "contactPoint",
            &[error("CONFLICT", &["expectedVersion"])],
        );
        let row = phone_of(&app, world.a_direct).await;
        assert_eq!((row.number.as_deref(), row.version), (Some("1112222"), 2));
    }

    async fn update_checks_the_kind_rules_on_the_result(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let phone = phone_of(&app, world.a_direct).await;

        let still_numbered = update(
            &app,
            &admin,
            phone.id,
            json!({ "kind": "EMAIL", "value": "a@b.org" }),
            None,
        )
        .await;
        let cleared_parts = json!({
            "kind": "EMAIL", "value": "Ada@B.ORG",
            "countryCode": null, "areaCode": null, "number": null
        });
        let converted = update(&app, &admin, phone.id, cleared_parts, None).await;

        assert_refused(
            &still_numbered,
            "contactPoint",
            &[
                error("INVALID", &["input", "countryCode"]),
                error("INVALID", &["input", "areaCode"]),
                error("INVALID", &["input", "number"]),
            ],
        );
        assert_ok(&converted);
        assert_eq!(converted["contactPoint"]["value"], "Ada@b.org");
        assert_eq!(
            converted["contactPoint"]["version"], 2,
            "the refused update wrote nothing"
        );
    }

    async fn delete_contact_point_removes_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let phone = phone_of(&app, world.a_direct).await;
        let before = point_count(&app).await;

        let payload = delete(&app, &admin, phone.id).await;

        assert_eq!(
            payload,
            json!({ "deletedId": phone.id.to_string(), "userErrors": [] })
        );
        assert!(point_rows(&app.db, world.a_direct).await.is_empty());
        assert_eq!(point_count(&app).await, before - 1);
        let read = read_contact(&app, &admin, &world.a_direct.to_string()).await;
        assert_eq!(read["contactPoints"], json!([]));
        let again = delete(&app, &admin, phone.id).await;
        assert_refused(&again, "deletedId", &[error("NOT_FOUND", &["id"])]);
    }

    async fn contact_points_out_of_scope_are_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let agency = app.token(&[Role::Agency], Some(vec![world.a]), &[]);
        let b_phone = phone_of(&app, world.b_direct).await;
        let a_phone = phone_of(&app, world.a_direct).await;
        let before = point_count(&app).await;

        let updated = update(
            &app,
            &customer,
            b_phone.id,
            json!({ "number": "9999999" }),
            None,
        )
        .await;
        let deleted = delete(&app, &customer, b_phone.id).await;
        let added = add(
            &app,
            &customer,
            world.b_direct,
            json!({ "kind": "PHONE", "number": "5550100" }),
        )
        .await;
        let added_shared_b = add(
            &app,
            &customer,
            world.shared_b,
            json!({ "kind": "PHONE", "number": "5550100" }),
        )
        .await;
        let agency_update = update(
            &app,
            &agency,
            a_phone.id,
            json!({ "number": "9999999" }),
            None,
        )
        .await;
        let agency_add = add(
            &app,
            &agency,
            world.a_direct,
            json!({ "kind": "PHONE", "number": "5550100" }),
        )
        .await;

        assert_refused(&updated, "contactPoint", &[error("NOT_FOUND", &["id"])]);
        assert_refused(&deleted, "deletedId", &[error("NOT_FOUND", &["id"])]);
        assert_refused(
            &added,
            "contactPoint",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_refused(
            &added_shared_b,
            "contactPoint",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_refused(
            &agency_update,
            "contactPoint",
            &[error("NOT_FOUND", &["id"])],
        );
        assert_refused(
            &agency_add,
            "contactPoint",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_eq!(point_count(&app).await, before);
        assert_eq!(phone_of(&app, world.b_direct).await, b_phone);
        assert_eq!(phone_of(&app, world.a_direct).await, a_phone);
        // Within scope both may work: the customer on a shared contact linked to it, the
        // agency on an account-level contact.
        let shared_phone = phone_of(&app, world.shared_ab).await;
        assert_ok(
            &update(
                &app,
                &customer,
                shared_phone.id,
                json!({ "number": "1234567" }),
                None,
            )
            .await,
        );
        let agency_phone = phone_of(&app, world.a_account_contact).await;
        assert_ok(
            &update(
                &app,
                &agency,
                agency_phone.id,
                json!({ "number": "1234567" }),
                None,
            )
            .await,
        );
        let agency_added = add(
            &app,
            &agency,
            world.a_account_contact,
            json!({
                "kind": "FAX", "number": "5550199"
            }),
        )
        .await;
        assert_ok(&agency_added);
    }
}
