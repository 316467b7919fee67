//! Field guards: taxId and bankAccountDetails masking, write-only accountPassword.

use kith::auth::Role;
use serde_json::json;

use crate::support::TestApp;
use crate::support::fixtures::{self, MASKED_TAX_ID, TAX_ID, World};

const SENSITIVE: &str = "query($c: ID!, $k: ID!) {
  customer(id: $c) { taxId }
  contact(id: $k) { taxId bankAccountDetails hasAccountPassword }
}";

backend_tests! {
    async fn masked_without_the_permission(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        for token in [
            app.admin(),
            app.token(&[Role::Customer], Some(vec![world.a]), &[]),
            app.token(&[Role::Service], None, &["someotherpermission"]),
        ] {
            let data = app
                .query(&token, SENSITIVE, json!({ "c": world.a, "k": world.a_direct }))
                .await;
            assert_eq!(data["customer"]["taxId"], MASKED_TAX_ID);
            assert_eq!(data["contact"]["taxId"], MASKED_TAX_ID);
            assert_eq!(data["contact"]["bankAccountDetails"], "**** **** **** **** **68 19");
        }
    }

    async fn unmasked_with_the_permission(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let token = app.token(&[Role::Customer], Some(vec![world.a]), &["restunmasktaxid"]);
        let data = app
            .query(&token, SENSITIVE, json!({ "c": world.a, "k": world.a_direct }))
            .await;
        assert_eq!(data["customer"]["taxId"], TAX_ID);
        assert_eq!(data["contact"]["taxId"], TAX_ID);
        assert_eq!(data["contact"]["bankAccountDetails"], "GB29 NWBK 6016 1331 9268 19");
    }

    async fn unmasked_for_everyone_with_the_switch(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.unmask_tax_id = true).await;
        let world = World::create(&app.db).await;
        let token = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let data = app
            .query(&token, SENSITIVE, json!({ "c": world.a, "k": world.a_direct }))
            .await;
        assert_eq!(data["customer"]["taxId"], TAX_ID);
        assert_eq!(data["contact"]["bankAccountDetails"], "GB29 NWBK 6016 1331 9268 19");
    }

    async fn account_password_is_write_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let with_password = fixtures::contact_with(
            &app.db,
            fixtures::Owner::Customer(world.a),
            "Pat",
            "Word",
            |c| c.account_password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        )
        .await;
        let data = app
            .query(
                &app.admin(),
                "query($a: ID!, $b: ID!) { a: contact(id: $a) { hasAccountPassword } b: contact(id: $b) { hasAccountPassword } }",
                json!({ "a": world.a_direct, "b": with_password }),
            )
            .await;
        assert_eq!(data, json!({ "a": { "hasAccountPassword": false }, "b": { "hasAccountPassword": true } }));

        let response = app
            .graphql(
                Some(&app.admin()),
                "query($a: ID!) { contact(id: $a) { accountPassword } }",
                json!({ "a": with_password }),
            )
            .await;
        assert_eq!(response.error_code(), "GRAPHQL_VALIDATION_FAILED");
        assert!(!response.body.to_string().contains("argon2"));
    }
}
