//! Who may change which contacts: roles (`FORBIDDEN`) and reach (`NOT_FOUND`).

use kith::auth::Role;
use serde_json::json;

use super::{
    CREATE, Counts, DELETE, UPDATE, assert_ok, assert_refused, contact_row, create, error, mutate,
    person, update, with_fields,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

backend_tests! {
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
}
