//! `deleteContact`: what goes with a contact, and what survives it.

use entity::address;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use super::{
    Counts, DELETE, assert_refused, attached_addresses, contact_row, error, mutate, point_rows,
    read_contact,
};
use crate::support::TestApp;
use crate::support::fixtures::{self, World};

backend_tests! {
    async fn delete_contact_removes_points_links_and_orphaned_addresses(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let own_address = attached_addresses(&app.db, world.a_direct).await[0];
        // One more address, also used by another contact: it must survive.
        let kept = fixtures::address(&app.db, world.a_direct, "Paris", false).await;
        crate::mutations::addresses::attach_row(&app.db, world.a_account_contact, kept).await;
        let before = Counts::of(&app.db).await;

        let payload = mutate(
            &app,
            &admin,
            DELETE,
            json!({ "id": world.a_direct }),
            "deleteContact",
        )
        .await;

        assert_eq!(
            payload,
            json!({ "deletedId": world.a_direct.to_string(), "userErrors": [] })
        );
        assert!(
            contact_row(&app.db, &world.a_direct.to_string())
                .await
                .is_none()
        );
        assert!(point_rows(&app.db, world.a_direct).await.is_empty());
        assert!(attached_addresses(&app.db, world.a_direct).await.is_empty());
        let own = address::Entity::find_by_id(own_address)
            .one(&app.db)
            .await
            .expect("read");
        assert!(own.is_none(), "the orphaned address is deleted");
        let kept_row = address::Entity::find_by_id(kept)
            .one(&app.db)
            .await
            .expect("read");
        assert!(
            kept_row.is_some(),
            "an address another contact uses survives"
        );
        assert_eq!(
            Counts::of(&app.db).await,
            Counts {
                contacts: before.contacts - 1,
                contact_points: before.contact_points - 1,
                addresses: before.addresses - 1,
                contact_addresses: before.contact_addresses - 2,
                ..before
            }
        );
        assert_eq!(
            read_contact(&app, &admin, &world.a_direct.to_string()).await,
            Value::Null
        );
    }

    async fn deleting_a_shared_contact_drops_its_links(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = mutate(
            &app,
            &app.admin(),
            DELETE,
            json!({ "id": world.shared_ab }),
            "deleteContact",
        )
        .await;

        assert_eq!(payload["deletedId"], world.shared_ab.to_string());
        assert_eq!(Counts::of(&app.db).await.links, before.links - 2);
    }

    async fn concurrent_contact_deletes_have_one_winner(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let (winner, loser) = crate::mutations::customers::race_two_deletes(
            &app,
            DELETE,
            "deleteContact",
            "contact",
            world.a_direct,
        )
        .await;

        assert_eq!(winner["deletedId"], world.a_direct.to_string());
        assert_refused(&loser, "deletedId", &[error("NOT_FOUND", &["id"])]);
    }
}
