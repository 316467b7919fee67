//! Row-level scoping for every role, through root queries, lists, nested edges and filters.

use kith::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::fixtures::World;
use crate::support::{TestApp, ids};

/// Everything a caller can reach from the roots, in one request.
const EVERYTHING: &str = r#"
query($a: ID!, $b: ID!, $aAccount: ID!, $bAccount: ID!, $aDirect: ID!, $aAccountContact: ID!,
      $bDirect: ID!, $bAccountContact: ID!, $sharedAb: ID!, $sharedB: ID!) {
  customers(page: { pageSize: 100 }) { totalCount items { id } }
  accounts(page: { pageSize: 100 }) { totalCount items { id } }
  contacts(page: { pageSize: 100 }) { totalCount items { id } }
  a: customer(id: $a) { id contacts { id } accounts { id } }
  b: customer(id: $b) { id }
  aAccount: account(id: $aAccount) { id customer { id } contacts { id } }
  bAccount: account(id: $bAccount) { id }
  aDirect: contact(id: $aDirect) { id }
  aAccountContact: contact(id: $aAccountContact) { id customer { id } account { id } }
  bDirect: contact(id: $bDirect) { id }
  bAccountContact: contact(id: $bAccountContact) { id }
  sharedAb: contact(id: $sharedAb) { id linkedCustomers { id } }
  sharedB: contact(id: $sharedB) { id }
  bContactsByFilter: contacts(filter: { customerId: $b }) { totalCount items { id } }
  bAccountsByFilter: accounts(filter: { customerId: $b }) { totalCount items { id } }
}"#;

fn variables(world: &World) -> Value {
    json!({
        "a": world.a, "b": world.b, "aAccount": world.a_account, "bAccount": world.b_account,
        "aDirect": world.a_direct, "aAccountContact": world.a_account_contact,
        "bDirect": world.b_direct, "bAccountContact": world.b_account_contact,
        "sharedAb": world.shared_ab, "sharedB": world.shared_b,
    })
}

fn strings(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

async fn reach(
    app: &TestApp,
    world: &World,
    roles: &[Role],
    customers: Option<Vec<Uuid>>,
) -> Value {
    let token = app.token(roles, customers, &[]);
    app.query(&token, EVERYTHING, variables(world)).await
}

/// What a caller scoped to customer A at customer level must see, and nothing more.
fn assert_customer_level_view_of_a(data: &Value, world: &World) {
    assert_eq!(ids(&data["customers"]["items"]), strings(&[world.a]));
    assert_eq!(data["customers"]["totalCount"], 1);
    assert_eq!(ids(&data["accounts"]["items"]), strings(&[world.a_account]));
    assert_eq!(
        ids(&data["contacts"]["items"]),
        strings(&[world.a_direct, world.a_account_contact, world.shared_ab])
    );
    assert_eq!(data["contacts"]["totalCount"], 3);
    assert_eq!(
        ids(&data["a"]["contacts"]),
        strings(&[world.a_direct, world.shared_ab])
    );
    assert_eq!(ids(&data["a"]["accounts"]), strings(&[world.a_account]));
    assert_eq!(data["b"], Value::Null);
    assert_eq!(data["aAccount"]["customer"]["id"], world.a.to_string());
    assert_eq!(data["bAccount"], Value::Null);
    assert_eq!(data["aDirect"]["id"], world.a_direct.to_string());
    assert_eq!(data["bDirect"], Value::Null);
    assert_eq!(data["bAccountContact"], Value::Null);
    assert_eq!(data["sharedB"], Value::Null);
    // The shared contact is linked to A and B, but B must stay invisible.
    assert_eq!(
        ids(&data["sharedAb"]["linkedCustomers"]),
        strings(&[world.a])
    );
    assert_eq!(
        data["bContactsByFilter"],
        json!({ "totalCount": 0, "items": [] })
    );
    assert_eq!(
        data["bAccountsByFilter"],
        json!({ "totalCount": 0, "items": [] })
    );
}

backend_tests! {
    async fn admin_and_service_see_everything(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        for role in [Role::Admin, Role::Service] {
            let data = reach(&app, &world, &[role], None).await;
            assert_eq!(data["customers"]["totalCount"], 2, "{role:?}");
            assert_eq!(data["accounts"]["totalCount"], 2, "{role:?}");
            assert_eq!(data["contacts"]["totalCount"], 6, "{role:?}");
            assert_eq!(data["b"]["id"], world.b.to_string());
            assert_eq!(
                ids(&data["sharedAb"]["linkedCustomers"]),
                strings(&[world.a, world.b])
            );
            assert_eq!(data["bContactsByFilter"]["totalCount"], 4);
        }
    }

    async fn customer_delegate_and_intermediary_see_their_customers_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        for role in [Role::Customer, Role::Delegate, Role::Intermediary] {
            let data = reach(&app, &world, &[role], Some(vec![world.a])).await;
            assert_customer_level_view_of_a(&data, &world);
        }
    }

    async fn a_customer_of_both_sees_both(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = reach(&app, &world, &[Role::Customer], Some(vec![world.a, world.b])).await;
        assert_eq!(data["customers"]["totalCount"], 2);
        assert_eq!(data["contacts"]["totalCount"], 6);
        assert_eq!(ids(&data["sharedAb"]["linkedCustomers"]), strings(&[world.a, world.b]));
    }

    async fn agency_sees_account_level_data_of_its_customers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = reach(&app, &world, &[Role::Agency], Some(vec![world.a])).await;
        assert_eq!(data["customers"], json!({ "totalCount": 0, "items": [] }));
        assert_eq!(data["a"], Value::Null);
        assert_eq!(ids(&data["accounts"]["items"]), strings(&[world.a_account]));
        assert_eq!(ids(&data["contacts"]["items"]), strings(&[world.a_account_contact]));
        // The account is visible, its customer is not.
        assert_eq!(data["aAccount"]["customer"], Value::Null);
        assert_eq!(ids(&data["aAccount"]["contacts"]), strings(&[world.a_account_contact]));
        assert_eq!(data["aAccountContact"]["customer"], Value::Null);
        assert_eq!(data["aAccountContact"]["account"]["id"], world.a_account.to_string());
        assert_eq!(data["aDirect"], Value::Null);
        assert_eq!(data["sharedAb"], Value::Null);
        assert_eq!(data["bAccount"], Value::Null);
        assert_eq!(data["bAccountContact"], Value::Null);
    }

    async fn agency_without_customers_claim_sees_every_account(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = reach(&app, &world, &[Role::Agency], None).await;
        assert_eq!(data["customers"]["totalCount"], 0);
        assert_eq!(
            ids(&data["accounts"]["items"]),
            strings(&[world.a_account, world.b_account])
        );
        assert_eq!(
            ids(&data["contacts"]["items"]),
            strings(&[world.a_account_contact, world.b_account_contact])
        );
        assert_eq!(data["bAccountsByFilter"]["totalCount"], 1);
        assert_eq!(data["bContactsByFilter"]["totalCount"], 1);
        assert_eq!(data["sharedAb"], Value::Null);
    }

    async fn a_token_without_known_roles_sees_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = reach(&app, &world, &[], Some(vec![world.a])).await;
        assert_eq!(data["customers"]["totalCount"], 0);
        assert_eq!(data["accounts"]["totalCount"], 0);
        assert_eq!(data["contacts"]["totalCount"], 0);
        assert_eq!(data["a"], Value::Null);
        assert_eq!(data["sharedAb"], Value::Null);
    }

    async fn customer_role_without_customers_sees_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = reach(&app, &world, &[Role::Customer], None).await;
        assert_eq!(data["customers"]["totalCount"], 0);
        assert_eq!(data["contacts"]["totalCount"], 0);
        assert_eq!(data["aAccount"], Value::Null);
    }

    async fn roles_combine_as_a_union(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        // Customer-level on A plus AGENCY on A: still no B data, no extra A data.
        let data = reach(&app, &world, &[Role::Customer, Role::Agency], Some(vec![world.a])).await;
        assert_customer_level_view_of_a(&data, &world);
    }
}
