//! Every read path, as an ADMIN sees it.

use serde_json::json;

use crate::support::fixtures::{self, World};
use crate::support::{TestApp, ids};

const CUSTOMER_GRAPH: &str = r#"
query($id: ID!) {
  customer(id: $id) {
    id name customerNumber dealerCode version createdAt updatedAt
    accounts {
      id name status
      customer { id }
      contacts { id displayName isShared customer { id } account { id } }
    }
    contacts {
      id displayName isShared
      linkedCustomers { id }
      contactPoints { kind countryCode areaCode number formatted isPrimary }
      addresses { city state stateName country isPrimary }
      primaryAddress { city }
    }
  }
}"#;

/// Customer → accounts → contacts → contact points and addresses: a nested read as clients
/// make it (every scalar of every level would exceed the default complexity limit).
const NESTED: &str = r#"
query($id: ID!) {
  customer(id: $id) {
    id name taxId dealerCode version createdAt updatedAt
    accounts {
      id customerId name accountNumber status version createdAt updatedAt
      contacts {
        id customerId accountId subtype role displayName emailAddress taxId status isShared
        version updatedAt
        contactPoints { id kind formatted isPrimary }
        addresses { id addressType line1 city state postalCode country isPrimary }
      }
    }
  }
}"#;

backend_tests! {
    async fn a_nested_read_as_a_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        // A second account, and a second contact point and address, so lists show their order.
        let second = fixtures::account(&app.db, world.a, "Alpha Second").await;
        let owner = fixtures::Owner::Account { customer: world.a, account: second };
        let contact = fixtures::contact(&app.db, owner, "Grace", "Hopper").await;
        fixtures::phone(&app.db, contact).await;
        fixtures::address(&app.db, contact, "Arlington", true).await;
        fixtures::address(&app.db, contact, "New York", false).await;

        let response = app
            .graphql(Some(&app.admin()), NESTED, json!({ "id": world.a }))
            .await;

        assert_eq!(response.status, 200, "{}", response.body);
        assert_response_snapshot!("nested_customer_read", response.body);
    }

    async fn customer_reads_its_whole_graph(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = app.query(&app.admin(), CUSTOMER_GRAPH, json!({ "id": world.a })).await;
        let customer = &data["customer"];
        assert_eq!(customer["id"], world.a.to_string());
        assert_eq!(customer["name"], "Alpha Foods");
        assert_eq!(customer["version"], 1);

        let accounts = &customer["accounts"];
        assert_eq!(ids(accounts), vec![world.a_account.to_string()]);
        assert_eq!(accounts[0]["customer"]["id"], world.a.to_string());
        let account_contacts = &accounts[0]["contacts"];
        assert_eq!(ids(account_contacts), vec![world.a_account_contact.to_string()]);
        assert_eq!(account_contacts[0]["account"]["id"], world.a_account.to_string());
        assert_eq!(account_contacts[0]["customer"]["id"], world.a.to_string());

        // Direct contacts plus linked shared ones, oldest first; account-level ones are not here.
        let contacts = &customer["contacts"];
        assert_eq!(
            ids(contacts),
            vec![world.a_direct.to_string(), world.shared_ab.to_string()]
        );
        assert_eq!(contacts[0]["displayName"], "Ada Lovelace");
        assert_eq!(contacts[0]["isShared"], false);
        assert_eq!(contacts[0]["linkedCustomers"], json!([]));
        assert_eq!(contacts[1]["isShared"], true);
        assert_eq!(
            ids(&contacts[1]["linkedCustomers"]),
            vec![world.a.to_string(), world.b.to_string()]
        );
        let phone = &contacts[0]["contactPoints"][0];
        assert_eq!(phone["kind"], "PHONE");
        assert_eq!(phone["formatted"], "+44 20 79460000");
        assert_eq!(phone["isPrimary"], true);
        assert_eq!(
            contacts[0]["addresses"],
            json!([{ "city": "London", "state": "LND", "stateName": "London", "country": "GB", "isPrimary": true }])
        );
        assert_eq!(contacts[0]["primaryAddress"]["city"], "London");
    }

    async fn account_and_contact_by_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let data = app
            .query(
                &app.admin(),
                "query($a: ID!, $c: ID!, $s: ID!) {
                   account(id: $a) { name customerId customer { name } contacts { firstName lastName } }
                   contact(id: $c) { firstName customerId accountId customer { name } account { name } isShared }
                   shared: contact(id: $s) { customerId accountId customer { id } account { id } isShared linkedCustomers { name } }
                 }",
                json!({ "a": world.b_account, "c": world.b_account_contact, "s": world.shared_b }),
            )
            .await;
        assert_eq!(data["account"]["name"], "Beta Operations");
        assert_eq!(data["account"]["customer"]["name"], "Beta Energy");
        assert_eq!(
            data["account"]["contacts"],
            json!([{ "firstName": "Brian", "lastName": "Kernighan" }])
        );
        assert_eq!(data["contact"]["customer"]["name"], "Beta Energy");
        assert_eq!(data["contact"]["account"]["name"], "Beta Operations");
        assert_eq!(data["contact"]["isShared"], false);
        assert_eq!(data["shared"]["customer"], json!(null));
        assert_eq!(data["shared"]["account"], json!(null));
        assert_eq!(data["shared"]["isShared"], true);
        assert_eq!(data["shared"]["linkedCustomers"], json!([{ "name": "Beta Energy" }]));
        // Output objects carry their input's owner ids too.
        assert_eq!(data["account"]["customerId"], world.b.to_string());
        assert_eq!(
            [&data["contact"]["customerId"], &data["contact"]["accountId"]],
            [&json!(world.b.to_string()), &json!(world.b_account.to_string())]
        );
        assert_eq!(
            [&data["shared"]["customerId"], &data["shared"]["accountId"]],
            [&json!(null), &json!(null)]
        );
    }

    async fn agency_sees_the_customer_id_of_an_account_but_not_the_customer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let agency = app.token(&[kith::auth::Role::Agency], Some(vec![world.b]), &[]);

        let data = app
            .query(
                &agency,
                "query($a: ID!) { account(id: $a) { customerId customer { id } } }",
                json!({ "a": world.b_account }),
            )
            .await;

        assert_eq!(
            data["account"],
            json!({ "customerId": world.b.to_string(), "customer": null })
        );
    }

    async fn unknown_ids_are_null_and_malformed_ids_are_bad_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let missing = uuid::Uuid::now_v7();
        let data = app
            .query(
                &app.admin(),
                "query($id: ID!) { customer(id: $id) { id } account(id: $id) { id } contact(id: $id) { id } }",
                json!({ "id": missing }),
            )
            .await;
        assert_eq!(data, json!({ "customer": null, "account": null, "contact": null }));

        let response = app
            .graphql(Some(&app.admin()), "{ customer(id: \"not-a-uuid\") { id } }", json!({}))
            .await;
        assert_eq!(response.error_code(), "BAD_USER_INPUT");
        assert!(response.status < 500);
    }

    async fn contact_filters(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let archived = fixtures::contact_with(
            &app.db,
            fixtures::Owner::Customer(world.a),
            "Grace",
            "Hopper",
            |c| {
                c.status = "ARCHIVED".into();
                c.dealer_code = Some("D42".into());
                c.email_address = Some("GRACE@Navy.example".into());
            },
        )
        .await;
        let token = app.admin();
        let list = |filter: serde_json::Value| {
            let app = &app;
            let token = token.clone();
            async move {
                let data = app
                    .query(
                        &token,
                        "query($f: ContactFilter) { contacts(filter: $f, page: { pageSize: 100 }) { totalCount items { id } } }",
                        json!({ "f": filter }),
                    )
                    .await;
                let items = ids(&data["contacts"]["items"]);
                assert_eq!(data["contacts"]["totalCount"], items.len());
                items
            }
        };
        let s = |ids: &[uuid::Uuid]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();

        assert_eq!(list(json!({})).await.len(), 7);
        assert_eq!(
            list(json!({ "customerId": world.a })).await,
            s(&[world.a_direct, world.a_account_contact, world.shared_ab, archived])
        );
        assert_eq!(
            list(json!({ "accountId": world.b_account })).await,
            s(&[world.b_account_contact])
        );
        assert_eq!(list(json!({ "shared": true })).await, s(&[world.shared_ab, world.shared_b]));
        assert_eq!(list(json!({ "shared": false })).await.len(), 5);
        assert_eq!(list(json!({ "dealerCode": "D42" })).await, s(&[archived]));
        assert_eq!(list(json!({ "status": "ARCHIVED" })).await, s(&[archived]));
        assert_eq!(list(json!({ "status": "ACTIVE" })).await.len(), 6);
        // Case-insensitive, on names and on email, every term must match somewhere.
        assert_eq!(list(json!({ "search": "navy" })).await, s(&[archived]));
        assert_eq!(list(json!({ "search": "LOVELACE" })).await, s(&[world.a_direct]));
        assert_eq!(list(json!({ "search": "ada love" })).await, s(&[world.a_direct]));
        assert_eq!(list(json!({ "search": "ada kernighan" })).await, Vec::<String>::new());
        // LIKE wildcards in the search text are literal.
        assert_eq!(list(json!({ "search": "%" })).await, Vec::<String>::new());
        assert_eq!(
            list(json!({ "customerId": world.a, "status": "ACTIVE", "shared": false })).await,
            s(&[world.a_direct, world.a_account_contact])
        );
    }

    async fn customer_and_account_filters(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let token = app.admin();
        let data = app
            .query(
                &token,
                r#"query($b: ID!) {
                    byName: customers(filter: { search: "beta" }) { items { id } }
                    byDealer: customers(filter: { dealerCode: "D01" }) { totalCount }
                    none: customers(filter: { dealerCode: "nope" }) { totalCount items { id } }
                    accountsOfB: accounts(filter: { customerId: $b }) { items { id } }
                    accountSearch: accounts(filter: { search: "alpha BILL" }) { items { id } }
                    active: accounts(filter: { status: ACTIVE }) { totalCount }
                    closed: accounts(filter: { status: CLOSED }) { totalCount }
                }"#,
                json!({ "b": world.b }),
            )
            .await;
        assert_eq!(ids(&data["byName"]["items"]), vec![world.b.to_string()]);
        assert_eq!(data["byDealer"]["totalCount"], 2);
        assert_eq!(data["none"], json!({ "totalCount": 0, "items": [] }));
        assert_eq!(ids(&data["accountsOfB"]["items"]), vec![world.b_account.to_string()]);
        assert_eq!(ids(&data["accountSearch"]["items"]), vec![world.a_account.to_string()]);
        assert_eq!(data["active"]["totalCount"], 2);
        assert_eq!(data["closed"]["totalCount"], 0);
    }

    async fn me_reports_the_token(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let customer = uuid::Uuid::now_v7();
        let token = app.token(
            &[kith::auth::Role::Delegate],
            Some(vec![customer]),
            &["restunmasktaxid"],
        );
        let data = app
            .query(&token, "{ me { subject roles customers permissions canSeeTaxId } }", json!({}))
            .await;
        assert_eq!(
            data["me"],
            json!({
                "subject": "test-user",
                "roles": ["DELEGATE"],
                "customers": [customer.to_string()],
                "permissions": ["restunmasktaxid"],
                "canSeeTaxId": true,
            })
        );
    }
}
