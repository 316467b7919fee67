//! Response fields come in the order the selection asked for them (API.md, GraphQL spec
//! "ExecuteSelectionSet"), whichever resolves first: queries, mutation payloads, aliases and
//! fragments. The checks read the raw body, since `serde_json::Value` sorts its keys.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::fixtures::World;

/// A JSON value whose objects keep their keys in the order the body lists them.
#[derive(Debug)]
enum Ordered {
    Object(Vec<(String, Ordered)>),
    List(Vec<Ordered>),
    Scalar,
}

impl Ordered {
    /// The member at `path` (object keys, or list indices as numbers).
    fn at(&self, path: &[&str]) -> &Ordered {
        path.iter().fold(self, |value, step| match value {
            Ordered::Object(members) => members
                .iter()
                .find(|(key, _)| key == step)
                .map(|(_, member)| member)
                .unwrap_or_else(|| panic!("no `{step}` in {value:?}")),
            Ordered::List(items) => {
                let index: usize = step.parse().expect("a list index");
                &items[index]
            }
            Ordered::Scalar => panic!("no `{step}` in a scalar"),
        })
    }

    /// The keys of the object at `path`, in body order.
    fn keys(&self, path: &[&str]) -> Vec<&str> {
        match self.at(path) {
            Ordered::Object(members) => members.iter().map(|(key, _)| key.as_str()).collect(),
            other => panic!("expected an object at {path:?}: {other:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ordered, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Ordered>()? {
            members.push(member);
        }
        Ok(Ordered::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Ordered>()? {
            items.push(item);
        }
        Ok(Ordered::List(items))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Ordered, E> {
        Ok(Ordered::Scalar)
    }
}

/// POST a GraphQL request as ADMIN and return the body with its key order, after checking it
/// has data and no errors.
async fn ordered(app: &TestApp, query: &str, variables: Value) -> Ordered {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(app.admin())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("\"errors\""), "unexpected errors: {text}");
    serde_json::from_str(&text).expect("a JSON body")
}

/// `contacts` first needs three database rounds (the page; each contact's customer, account,
/// links, points and addresses; the customers' accounts and the accounts' customers),
/// `customers` one, `me` none: they finish in the reverse of the order asked.
const SLOW_FIRST: &str = r#"{
  contacts(page: { pageSize: 10 }) {
    totalCount
    items {
      id
      customer { id accounts { id } }
      account { id customer { id } }
      linkedCustomers { id }
      contactPoints { id }
      addresses { id }
    }
  }
  me { subject roles }
  customers { totalCount items { id } }
}"#;

// `account` is the slow field: its customer and the customer's accounts are loaded after
// the write, while `userErrors` is ready at once.
const CREATE_ACCOUNT: &str = r#"mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id customer { id accounts { id } } } userErrors { code } }
}"#;

const CREATE_ACCOUNT_PLAIN: &str = r#"mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } userErrors { code } }
}"#;

const CREATE_ACCOUNT_REVERSED: &str = r#"mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { userErrors { code } account { id } }
}"#;

backend_tests! {
    async fn query_fields_come_in_selection_order_with_the_slow_field_first(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        World::create(&app.db).await;

        // Repeated: completion order varies from run to run, selection order must not.
        for _ in 0..3 {
            let body = ordered(&app, SLOW_FIRST, json!({})).await;
            assert_eq!(body.keys(&[]), ["data", "extensions"]);
            assert_eq!(body.keys(&["data"]), ["contacts", "me", "customers"]);
            assert_eq!(body.keys(&["data", "contacts"]), ["totalCount", "items"]);
            assert_eq!(
                body.keys(&["data", "contacts", "items", "0"]),
                ["id", "customer", "account", "linkedCustomers", "contactPoints", "addresses"]
            );
            assert_eq!(body.keys(&["data", "me"]), ["subject", "roles"]);
            assert_eq!(body.keys(&["data", "customers"]), ["totalCount", "items"]);
        }

        // The same fields asked the other way round come back the other way round.
        let body = ordered(
            &app,
            "{ customers { items { id } totalCount } me { roles subject } contacts { items { id } } }",
            json!({}),
        )
        .await;
        assert_eq!(body.keys(&["data"]), ["customers", "me", "contacts"]);
        assert_eq!(body.keys(&["data", "customers"]), ["items", "totalCount"]);
        assert_eq!(body.keys(&["data", "me"]), ["roles", "subject"]);
    }

    async fn mutation_payload_fields_come_in_selection_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;

        let created = json!({ "input": { "customerId": world.a, "name": "Ordered" } });
        let body = ordered(&app, CREATE_ACCOUNT, created.clone()).await;
        assert_eq!(body.keys(&["data", "createAccount"]), ["account", "userErrors"]);
        assert_eq!(
            body.keys(&["data", "createAccount", "account"]),
            ["id", "customer"]
        );
        let body = ordered(&app, CREATE_ACCOUNT_PLAIN, created.clone()).await;
        assert_eq!(body.keys(&["data", "createAccount"]), ["account", "userErrors"]);
        let body = ordered(&app, CREATE_ACCOUNT_REVERSED, created).await;
        assert_eq!(body.keys(&["data", "createAccount"]), ["userErrors", "account"]);

        // A refused write (a blank name) answers in the order asked too.
        let refused = json!({ "input": { "customerId": world.a, "name": " " } });
        let body = ordered(&app, CREATE_ACCOUNT, refused.clone()).await;
        assert_eq!(body.keys(&["data", "createAccount"]), ["account", "userErrors"]);
        let body = ordered(&app, CREATE_ACCOUNT_REVERSED, refused).await;
        assert_eq!(body.keys(&["data", "createAccount"]), ["userErrors", "account"]);

        // Several mutations in one operation answer in the order asked, each payload too.
        let body = ordered(
            &app,
            r#"mutation($c: ID!) {
              second: createAccount(input: { customerId: $c, name: "Two" }) { userErrors { code } account { id } }
              first: createAccount(input: { customerId: $c, name: "One" }) { account { customer { id } } userErrors { code } }
            }"#,
            json!({ "c": world.a }),
        )
        .await;
        assert_eq!(body.keys(&["data"]), ["second", "first"]);
        assert_eq!(body.keys(&["data", "second"]), ["userErrors", "account"]);
        assert_eq!(body.keys(&["data", "first"]), ["account", "userErrors"]);
    }

    async fn aliases_and_fragments_keep_their_positions(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        World::create(&app.db).await;

        // Aliases name the keys; the slow field is still first.
        let body = ordered(
            &app,
            r#"{
              zeta: contacts { items { id customer { accounts { id } } } }
              alpha: me { subject }
              mid: customers { totalCount }
            }"#,
            json!({}),
        )
        .await;
        assert_eq!(body.keys(&["data"]), ["zeta", "alpha", "mid"]);

        // A fragment spread and an inline fragment stand where they are written, their fields
        // in their own order; a field selected twice stays where it first appears.
        let body = ordered(
            &app,
            r#"{
              contacts { items { ... on Contact { lastName customer { id } } id firstName } }
              ...Middle
              me { subject }
              contacts { totalCount }
            }
            fragment Middle on Query { customers { totalCount } }"#,
            json!({}),
        )
        .await;
        assert_eq!(body.keys(&["data"]), ["contacts", "customers", "me"]);
        assert_eq!(body.keys(&["data", "contacts"]), ["items", "totalCount"]);
        assert_eq!(
            body.keys(&["data", "contacts", "items", "0"]),
            ["lastName", "customer", "id", "firstName"]
        );
    }
}
