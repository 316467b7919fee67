//! Global object identification: `node(id)` and `nodes(ids)` over every kind of object,
//! scoped, in one round of statements whatever the number of ids.

use kith::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::support::TestApp;
use crate::support::fixtures::{self, World};

const NODES: &str = r#"
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on Customer { name }
    ... on Account { name customerId }
    ... on Contact { displayName }
    ... on ContactPoint { kind }
    ... on Address { city isPrimary }
  }
}"#;

backend_tests! {
    async fn node_and_nodes_find_every_kind_of_object(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let phone = fixtures::phone(&app.db, world.a_direct).await;
        let address = fixtures::address(&app.db, world.a_direct, "Leeds", false).await;
        let admin = app.admin();

        let data = app
            .query(&admin, "query($id: ID!) { node(id: $id) { __typename id ... on Customer { name } } }", json!({ "id": world.a }))
            .await;
        assert_eq!(data["node"], json!({ "__typename": "Customer", "id": world.a, "name": "Alpha Foods" }));

        let unknown = Uuid::now_v7();
        let ids = json!([world.a_account, world.a_direct, phone, address, unknown, world.a, world.a_direct]);
        let data = app.query(&admin, NODES, json!({ "ids": ids })).await;
        let nodes = data["nodes"].as_array().expect("a list");
        let kinds: Vec<&str> = nodes
            .iter()
            .map(|node| node["__typename"].as_str().unwrap_or("null"))
            .collect();
        assert_eq!(kinds, ["Account", "Contact", "ContactPoint", "Address", "null", "Customer", "Contact"]);
        assert_eq!(nodes[0]["customerId"], json!(world.a));
        assert_eq!(nodes[1]["displayName"], "Ada Lovelace");
        assert_eq!(nodes[2]["kind"], "PHONE");
        assert_eq!(nodes[3], json!({ "__typename": "Address", "id": address, "city": "Leeds", "isPrimary": false }));
        assert_eq!(nodes[4], json!(null));
        assert_eq!(nodes[6], nodes[1]);
    }

    async fn nodes_are_one_round_of_statements_whatever_their_number(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = app.db_queries().await;
        app.query(&admin, NODES, json!({ "ids": [world.a] })).await;
        let one = app.db_queries().await - before;
        let mut many = vec![world.a, world.b, world.a_account, world.b_account, world.a_direct, world.b_direct];
        many.extend((0..40).map(|_| Uuid::now_v7()));
        let before = app.db_queries().await;
        let data = app.query(&admin, NODES, json!({ "ids": many })).await;
        let forty_six = app.db_queries().await - before;
        assert_eq!(data["nodes"].as_array().map(Vec::len), Some(46));
        assert_eq!(one, 5, "one statement per kind of object");
        assert_eq!(forty_six, one);

        let too_many: Vec<Uuid> = (0..101).map(|_| Uuid::now_v7()).collect();
        let response = app.graphql(Some(&admin), NODES, json!({ "ids": too_many })).await;
        assert_eq!(response.error_code(), "BAD_USER_INPUT");
    }

    async fn nodes_are_scoped_like_everything_else(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let phone_b = fixtures::phone(&app.db, world.b_direct).await;
        let address_b = fixtures::address(&app.db, world.b_direct, "Bristol", false).await;
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let ids = json!([world.a, world.a_direct, world.b, world.b_account, world.b_direct, phone_b, address_b, world.shared_ab]);
        let data = app.query(&customer_a, NODES, json!({ "ids": ids })).await;
        let kinds: Vec<&str> = data["nodes"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|node| node["__typename"].as_str().unwrap_or("null"))
            .collect();
        // B's customer, account, contact, phone and address are out of A's reach; the contact
        // shared with A is not.
        assert_eq!(kinds, ["Customer", "Contact", "null", "null", "null", "null", "null", "Contact"]);
        let anonymous = app.graphql(None, NODES, json!({ "ids": [world.a] })).await;
        assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    }
}
