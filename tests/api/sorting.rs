//! `orderBy` on the root lists and the nested ones: every field in both directions, names
//! compared by Unicode lowercase then code point, missing numbers as the empty string, ties
//! broken by id in the direction of the last key, several keys, the limit on keys, masked
//! fields left out, sort keys that follow writes made through the API, scope, and pages of a
//! sorted list that join up.

use std::collections::HashMap;

use chrono::{TimeDelta, Utc};
use kith::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::fixtures::{self, Owner, World};
use crate::support::{GqlResponse, TestApp, ids};

/// A root list: its field and the types of its `filter` and `orderBy` arguments.
struct List {
    field: &'static str,
    filter: &'static str,
    order: &'static str,
}

const CUSTOMERS: List = List {
    field: "customers",
    filter: "CustomerFilter",
    order: "CustomerOrder",
};

const ACCOUNTS: List = List {
    field: "accounts",
    filter: "AccountFilter",
    order: "AccountOrder",
};

const CONTACTS: List = List {
    field: "contacts",
    filter: "ContactFilter",
    order: "ContactOrder",
};

impl List {
    /// The list with its `page`, `filter` and `orderBy` taken from variables.
    fn query(&self) -> String {
        let List {
            field,
            filter,
            order,
        } = self;
        format!(
            "query($page: PageInput, $filter: {filter}, $orderBy: [{order}!]) {{
  {field}(page: $page, filter: $filter, orderBy: $orderBy) {{
    totalCount hasNextPage items {{ id }}
  }}
}}"
        )
    }
}

/// `orderBy` from `(field, direction)` pairs.
fn order(keys: &[(&str, &str)]) -> Value {
    keys.iter()
        .map(|(field, direction)| json!({ "field": field, "direction": direction }))
        .collect()
}

/// Variables for `List::query`: a null `filter` or `orderBy` is left out, so the argument is
/// absent rather than null.
fn variables(page: Value, filter: Value, order_by: Value) -> Value {
    let mut vars = json!({ "page": page });
    if !filter.is_null() {
        vars["filter"] = filter;
    }
    if !order_by.is_null() {
        vars["orderBy"] = order_by;
    }
    vars
}

/// One page of `list` as `token` sees it.
async fn page(
    app: &TestApp,
    token: &str,
    list: &List,
    page: Value,
    filter: Value,
    order_by: Value,
) -> Value {
    let vars = variables(page, filter, order_by);
    app.query(token, &list.query(), vars).await[list.field].clone()
}

/// Ids of the whole of `list` (up to 100 rows) in the order asked.
async fn sorted(
    app: &TestApp,
    token: &str,
    list: &List,
    filter: Value,
    order_by: Value,
) -> Vec<String> {
    let whole = page(
        app,
        token,
        list,
        json!({ "pageSize": 100 }),
        filter,
        order_by,
    )
    .await;
    ids(&whole["items"])
}

/// Ids of the whole of `list` as ADMIN sees it, unfiltered, in the order asked.
async fn as_admin(app: &TestApp, list: &List, order_by: Value) -> Vec<String> {
    sorted(app, &app.admin(), list, Value::Null, order_by).await
}

/// `orderBy` with a single key.
fn key(field: &str, direction: &str) -> Value {
    order(&[(field, direction)])
}

fn strings(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// The ids of `rows` picked by `picks`, in that order.
fn picked(rows: &[Uuid], picks: &[usize]) -> Vec<String> {
    picks.iter().map(|&i| rows[i].to_string()).collect()
}

/// A COMPANY contact, so that its `displayName` is exactly `name`.
async fn company(app: &TestApp, owner: Owner, name: &str) -> Uuid {
    fixtures::contact_with(&app.db, owner, "Unused", "Unused", |c| {
        c.subtype = "COMPANY".to_owned();
        c.company_name = Some(name.to_owned());
        c.first_name = None;
        c.last_name = None;
    })
    .await
}

/// A request refused as a whole: BAD_USER_INPUT, and no list at `path` in `data`.
fn assert_bad_input(response: &GqlResponse, path: &str) {
    assert_eq!(response.error_code(), "BAD_USER_INPUT", "{}", response.body);
    assert!(response.status < 500, "{}", response.body);
    let listed = response.body.pointer(path).unwrap_or(&Value::Null);
    assert!(
        listed.is_null(),
        "nothing returned at {path}: {}",
        response.body
    );
}

const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code message } }
}";

const UPDATE_CUSTOMER: &str = "mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id } userErrors { code message } }
}";

const CREATE_ACCOUNT: &str = "mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } userErrors { code message } }
}";

const UPDATE_ACCOUNT: &str = "mutation($id: ID!, $input: UpdateAccountInput!) {
  updateAccount(id: $id, input: $input) { account { id } userErrors { code message } }
}";

const CREATE_CONTACT: &str = "mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code message } }
}";

const UPDATE_CONTACT: &str = "mutation($id: ID!, $input: UpdateContactInput!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { code message } }
}";

/// Run a mutation as ADMIN that must write; returns the id of `payload.object`.
async fn write(app: &TestApp, query: &str, vars: Value, payload: &str, object: &str) -> String {
    let data = app.query(&app.admin(), query, vars).await;
    let payload = &data[payload];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    payload[object]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an id: {payload}"))
        .to_owned()
}

/// Let the clock move on, so the next write's timestamp is strictly later (they are stored to
/// the millisecond).
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
}

/// The nested lists of one customer, one account and one contact, with and without `orderBy`.
const NESTED: &str = r#"
query($customer: ID!, $account: ID!, $contact: ID!) {
  customer(id: $customer) {
    accounts { id }
    accountsByName: accounts(orderBy: [{ field: NAME, direction: DESC }]) { id }
    contacts { id }
    contactsByName: contacts(orderBy: [{ field: NAME, direction: DESC }]) { id }
  }
  account(id: $account) {
    contacts { id }
    contactsByName: contacts(orderBy: [{ field: NAME }]) { id }
  }
  contact(id: $contact) {
    linkedCustomers { id }
    linkedCustomersByName: linkedCustomers(orderBy: [{ field: NAME }]) { id }
  }
}"#;

backend_tests! {
    async fn names_sort_case_insensitively_on_every_root_list(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let names = ["bravo", "Alpha", "charlie", "ALPHA2"];
        let ascending = ["Alpha", "ALPHA2", "bravo", "charlie"];
        let mut customers = HashMap::new();
        for name in names {
            customers.insert(name, fixtures::customer(&app.db, name).await);
        }
        let owner = customers["bravo"];
        let mut accounts = HashMap::new();
        let mut contacts = HashMap::new();
        for name in names {
            accounts.insert(name, fixtures::account(&app.db, owner, name).await);
            contacts.insert(name, company(&app, Owner::Customer(owner), name).await);
        }

        let lists = [(&CUSTOMERS, &customers), (&ACCOUNTS, &accounts), (&CONTACTS, &contacts)];
        for (list, rows) in lists {
            let expected: Vec<String> = ascending.iter().map(|n| rows[n].to_string()).collect();
            let reversed: Vec<String> = expected.iter().rev().cloned().collect();
            // `direction` defaults to ASC.
            let default = as_admin(&app, list, json!([{ "field": "NAME" }])).await;
            assert_eq!(default, expected, "{}", list.field);
            let asc = as_admin(&app, list, key("NAME", "ASC")).await;
            assert_eq!(asc, expected, "{}", list.field);
            let desc = as_admin(&app, list, key("NAME", "DESC")).await;
            assert_eq!(desc, reversed, "{}", list.field);
        }
    }

    async fn names_compare_by_unicode_lowercase_then_code_point(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Lowered: "été", "zoe", "élan", "emma". In code-point order every ASCII letter comes
        // before 'é', so "zoe" precedes both; "élan" precedes "Été" only if 'É' is lowered too
        // (an ASCII-only lower() leaves U+00C9 ahead of U+00E9), and a locale's collation
        // would put them beside "Emma" instead.
        let names = ["Été", "zoe", "élan", "Emma"];
        let ascending = ["Emma", "zoe", "élan", "Été"];
        let mut customers = HashMap::new();
        for name in names {
            customers.insert(name, fixtures::customer(&app.db, name).await);
        }
        let owner = Owner::Customer(customers["Emma"]);
        let mut contacts = HashMap::new();
        for name in names {
            contacts.insert(name, company(&app, owner, name).await);
        }

        for (list, rows) in [(&CUSTOMERS, &customers), (&CONTACTS, &contacts)] {
            let expected: Vec<String> = ascending.iter().map(|n| rows[n].to_string()).collect();
            let reversed: Vec<String> = expected.iter().rev().cloned().collect();
            let asc = as_admin(&app, list, key("NAME", "ASC")).await;
            assert_eq!(asc, expected, "{}", list.field);
            let desc = as_admin(&app, list, key("NAME", "DESC")).await;
            assert_eq!(desc, reversed, "{}", list.field);
        }
    }

    async fn numbers_sort_by_code_point_with_missing_ones_as_empty(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let customer = fixtures::customer(&app.db, "Numbers").await;
        let numbers = [Some("C-1"), None, Some("A-10"), Some("b-1"), None, Some("A-9")];
        let mut contacts = Vec::new();
        for (n, number) in numbers.into_iter().enumerate() {
            let id = fixtures::contact_with(
                &app.db,
                Owner::Customer(customer),
                &format!("Person{n}"),
                "Numbered",
                |c| c.contact_number = number.map(str::to_owned),
            )
            .await;
            contacts.push(id);
        }

        // "" < "A-10" < "A-9" < "C-1" < "b-1": code points, not natural order, and case
        // matters. The two without a number tie, so id breaks it in the key's direction.
        let asc = as_admin(&app, &CONTACTS, key("NUMBER", "ASC")).await;
        assert_eq!(asc, picked(&contacts, &[1, 4, 2, 5, 0, 3]));
        let desc = as_admin(&app, &CONTACTS, key("NUMBER", "DESC")).await;
        assert_eq!(desc, picked(&contacts, &[3, 0, 5, 2, 4, 1]));
    }

    async fn timestamps_sort_and_an_update_moves_a_row_in_updated_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let customer = fixtures::customer(&app.db, "Clock").await;
        // Creation times out of id order, so CREATED_AT cannot pass by sorting on id.
        let now = Utc::now();
        let mut contacts = Vec::new();
        for (n, days_ago) in [1, 3, 2].into_iter().enumerate() {
            let id = fixtures::contact_with(
                &app.db,
                Owner::Customer(customer),
                &format!("Person{n}"),
                "Dated",
                |c| {
                    c.created_at = now - TimeDelta::days(days_ago);
                    c.updated_at = c.created_at;
                },
            )
            .await;
            contacts.push(id);
        }

        let created_asc = as_admin(&app, &CONTACTS, key("CREATED_AT", "ASC")).await;
        assert_eq!(created_asc, picked(&contacts, &[1, 2, 0]));
        let created_desc = as_admin(&app, &CONTACTS, key("CREATED_AT", "DESC")).await;
        assert_eq!(created_desc, picked(&contacts, &[0, 2, 1]));
        let updated_asc = as_admin(&app, &CONTACTS, key("UPDATED_AT", "ASC")).await;
        assert_eq!(updated_asc, picked(&contacts, &[1, 2, 0]));

        // The oldest, updated now, becomes the most recently updated; its creation stays put.
        let vars = json!({ "id": contacts[1], "input": { "position": "Moved" } });
        write(&app, UPDATE_CONTACT, vars, "updateContact", "contact").await;
        let updated_asc = as_admin(&app, &CONTACTS, key("UPDATED_AT", "ASC")).await;
        assert_eq!(updated_asc, picked(&contacts, &[2, 0, 1]));
        let updated_desc = as_admin(&app, &CONTACTS, key("UPDATED_AT", "DESC")).await;
        assert_eq!(updated_desc, picked(&contacts, &[1, 0, 2]));
        let created_asc = as_admin(&app, &CONTACTS, key("CREATED_AT", "ASC")).await;
        assert_eq!(created_asc, picked(&contacts, &[1, 2, 0]));
    }

    async fn ties_break_by_id_in_the_direction_of_the_last_key(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut customers = Vec::new();
        for name in ["Same", "Other", "same", "SAME"] {
            customers.push(fixtures::customer(&app.db, name).await);
        }
        let (s1, other, s2, s3) = (customers[0], customers[1], customers[2], customers[3]);

        // Without orderBy, or with an empty one: id ascending, i.e. creation order.
        let plain = "{ customers(page: { pageSize: 100 }) { items { id } } }";
        let plain = app.query(&app.admin(), plain, json!({})).await;
        assert_eq!(ids(&plain["customers"]["items"]), strings(&customers));
        let empty = as_admin(&app, &CUSTOMERS, json!([])).await;
        assert_eq!(empty, strings(&customers));

        // The three spellings of "same" are equal names.
        let asc = as_admin(&app, &CUSTOMERS, key("NAME", "ASC")).await;
        assert_eq!(asc, strings(&[other, s1, s2, s3]));
        let desc = as_admin(&app, &CUSTOMERS, key("NAME", "DESC")).await;
        assert_eq!(desc, strings(&[s3, s2, s1, other]));

        // Newest first among equal names: by creation time, and by id (descending, like the
        // last key) should two share a timestamp.
        let keys = order(&[("NAME", "ASC"), ("CREATED_AT", "DESC")]);
        let mixed = as_admin(&app, &CUSTOMERS, keys).await;
        assert_eq!(mixed, strings(&[other, s3, s2, s1]));
    }

    async fn several_keys_sort_lexicographically(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let customer = fixtures::customer(&app.db, "Keys").await;
        let rows = [
            ("Sam", "Same", Some("2")),
            ("Ann", "Other", Some("9")),
            ("sam", "same", Some("3")),
            ("SAM", "SAME", Some("1")),
            ("Ann", "Other", None),
        ];
        let mut contacts = Vec::new();
        for (first, last, number) in rows {
            let owner = Owner::Customer(customer);
            let id = fixtures::contact_with(&app.db, owner, first, last, |c| {
                c.contact_number = number.map(str::to_owned);
            })
            .await;
            contacts.push(id);
        }

        let keys = order(&[("NAME", "ASC"), ("NUMBER", "DESC")]);
        let name_then_number = as_admin(&app, &CONTACTS, keys).await;
        assert_eq!(name_then_number, picked(&contacts, &[1, 4, 2, 0, 3]));

        let keys = order(&[("NAME", "DESC"), ("NUMBER", "ASC")]);
        let reversed_names = as_admin(&app, &CONTACTS, keys).await;
        assert_eq!(reversed_names, picked(&contacts, &[3, 0, 2, 4, 1]));

        // Four distinct keys are allowed; the last two change nothing here.
        let keys = order(&[
            ("NAME", "ASC"),
            ("NUMBER", "DESC"),
            ("CREATED_AT", "ASC"),
            ("UPDATED_AT", "DESC"),
        ]);
        let four = as_admin(&app, &CONTACTS, keys).await;
        assert_eq!(four, name_then_number);
    }

    async fn too_many_keys_or_a_repeated_field_are_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        let five = order(&[
            ("NAME", "ASC"),
            ("NUMBER", "ASC"),
            ("CREATED_AT", "ASC"),
            ("UPDATED_AT", "ASC"),
            ("NAME", "DESC"),
        ]);
        let twice = order(&[("NAME", "ASC"), ("NAME", "DESC")]);
        let same_direction = order(&[("CREATED_AT", "ASC"), ("CREATED_AT", "ASC")]);
        for (list, keys) in [(&CUSTOMERS, five), (&CONTACTS, twice), (&ACCOUNTS, same_direction)] {
            let vars = variables(json!({ "pageSize": 100 }), Value::Null, keys);
            let response = app.graphql(Some(&admin), &list.query(), vars).await;
            assert_bad_input(&response, &format!("/data/{}/items", list.field));
        }

        let nested = "query($id: ID!) {
          customer(id: $id) {
            id
            contacts(orderBy: [{ field: UPDATED_AT }, { field: UPDATED_AT, direction: DESC }]) {
              id
            }
          }
        }";
        let response = app.graphql(Some(&admin), nested, json!({ "id": world.a })).await;
        assert_bad_input(&response, "/data/customer/contacts");
    }

    async fn masked_fields_are_not_sort_fields(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        World::create(&app.db).await;
        let admin = app.admin();

        let enum_values = r#"{ __type(name: "OrderField") { enumValues { name } } }"#;
        let data = app.query(&admin, enum_values, json!({})).await;
        let fields: Vec<&str> = data["__type"]["enumValues"]
            .as_array()
            .expect("enum values")
            .iter()
            .map(|value| value["name"].as_str().expect("name"))
            .collect();
        assert_eq!(fields, ["NAME", "NUMBER", "CREATED_AT", "UPDATED_AT"]);

        // The same list returns rows when sorted by a field that exists.
        let control = as_admin(&app, &CONTACTS, key("NAME", "ASC")).await;
        assert_eq!(control.len(), 6);

        for query in [
            "{ contacts(orderBy: [{ field: TAX_ID }]) { items { id } } }",
            "{ contacts(orderBy: [{ field: BANK_ACCOUNT_DETAILS }]) { items { id } } }",
            "{ customers(orderBy: [{ field: TAX_ID }]) { items { id } } }",
        ] {
            let response = app.graphql(Some(&admin), query, json!({})).await;
            let errors = response.body["errors"].as_array();
            assert!(errors.is_some_and(|e| !e.is_empty()), "{query}: {}", response.body);
            assert!(response.body["data"].is_null(), "{}", response.body);
            assert!(response.status < 500);
        }
        // Through a variable the value is refused just the same.
        let tax_id = json!([{ "field": "TAX_ID" }]);
        let vars = variables(json!({ "pageSize": 100 }), Value::Null, tax_id);
        let response = app.graphql(Some(&admin), &CONTACTS.query(), vars).await;
        let errors = response.body["errors"].as_array();
        assert!(errors.is_some_and(|e| !e.is_empty()), "{}", response.body);
        assert!(response.body["data"].is_null(), "{}", response.body);
    }

    async fn sort_keys_follow_writes_made_through_the_api(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut customers = Vec::new();
        for input in [
            json!({ "name": "Mango", "customerNumber": "C-300" }),
            json!({ "name": "apple", "customerNumber": "C-100" }),
            json!({ "name": "Kiwi" }),
        ] {
            let vars = json!({ "input": input });
            customers.push(write(&app, CREATE_CUSTOMER, vars, "createCustomer", "customer").await);
        }
        let [mango, apple, kiwi] =
            [&customers[0], &customers[1], &customers[2]].map(String::as_str);
        let names = as_admin(&app, &CUSTOMERS, key("NAME", "ASC")).await;
        assert_eq!(names, [apple, kiwi, mango]);
        let numbers = as_admin(&app, &CUSTOMERS, key("NUMBER", "ASC")).await;
        assert_eq!(numbers, [kiwi, apple, mango], "no number first");

        let mut contacts = Vec::new();
        for (first, last) in [("Zed", "Last"), ("Amy", "First"), ("Mia", "Middle")] {
            let input = json!({
                "customerId": apple, "subtype": "PERSON", "firstName": first, "lastName": last,
            });
            let vars = json!({ "input": input });
            contacts.push(write(&app, CREATE_CONTACT, vars, "createContact", "contact").await);
        }
        let input = json!({ "customerId": apple, "subtype": "COMPANY", "companyName": "Acme" });
        let vars = json!({ "input": input });
        contacts.push(write(&app, CREATE_CONTACT, vars, "createContact", "contact").await);
        let [zed, amy, mia, acme] =
            [&contacts[0], &contacts[1], &contacts[2], &contacts[3]].map(String::as_str);
        let names = as_admin(&app, &CONTACTS, key("NAME", "ASC")).await;
        assert_eq!(names, [acme, amy, mia, zed]);

        let mut accounts = Vec::new();
        for name in ["Zulu", "alpha"] {
            let vars = json!({ "input": { "customerId": apple, "name": name } });
            accounts.push(write(&app, CREATE_ACCOUNT, vars, "createAccount", "account").await);
        }
        let [zulu, alpha] = [&accounts[0], &accounts[1]].map(String::as_str);
        let names = as_admin(&app, &ACCOUNTS, key("NAME", "ASC")).await;
        assert_eq!(names, [alpha, zulu]);

        // Each change below alters what a sort reads: displayName includes the title and, for
        // a company, is the company name. The ticks keep the updates in a known order.
        tick().await;
        let vars = json!({ "id": mango, "input": { "name": "banana", "customerNumber": "C-050" } });
        write(&app, UPDATE_CUSTOMER, vars, "updateCustomer", "customer").await;
        tick().await;
        let vars = json!({ "id": zed, "input": { "firstName": "Aaron" } });
        write(&app, UPDATE_CONTACT, vars, "updateContact", "contact").await;
        tick().await;
        let vars = json!({ "id": acme, "input": { "companyName": "Zenith" } });
        write(&app, UPDATE_CONTACT, vars, "updateContact", "contact").await;
        tick().await;
        let vars = json!({ "id": amy, "input": { "title": "Sir" } });
        write(&app, UPDATE_CONTACT, vars, "updateContact", "contact").await;
        let vars = json!({ "id": zulu, "input": { "name": "aardvark" } });
        write(&app, UPDATE_ACCOUNT, vars, "updateAccount", "account").await;

        let names = as_admin(&app, &CUSTOMERS, key("NAME", "ASC")).await;
        assert_eq!(names, [apple, mango, kiwi], "Mango is now banana");
        let numbers = as_admin(&app, &CUSTOMERS, key("NUMBER", "ASC")).await;
        assert_eq!(numbers, [kiwi, mango, apple], "C-050 before C-100");
        let recent = as_admin(&app, &CUSTOMERS, key("UPDATED_AT", "DESC")).await;
        assert_eq!(recent[0], mango);

        // "Aaron Last", "Mia Middle", "Sir Amy First", "Zenith".
        let names = as_admin(&app, &CONTACTS, key("NAME", "ASC")).await;
        assert_eq!(names, [zed, mia, amy, acme]);
        let names = as_admin(&app, &CONTACTS, key("NAME", "DESC")).await;
        assert_eq!(names, [acme, amy, mia, zed]);
        let updated = as_admin(&app, &CONTACTS, key("UPDATED_AT", "ASC")).await;
        assert_eq!(updated, [mia, zed, acme, amy], "in the order they were last written");
        let nested = "query($id: ID!) {
          customer(id: $id) { contacts(orderBy: [{ field: NAME }]) { id } }
        }";
        let nested = app.query(&app.admin(), nested, json!({ "id": apple })).await;
        assert_eq!(ids(&nested["customer"]["contacts"]), [zed, mia, amy, acme]);

        let names = as_admin(&app, &ACCOUNTS, key("NAME", "ASC")).await;
        assert_eq!(names, [zulu, alpha], "Zulu is now aardvark");
    }

    async fn sorting_respects_scope(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        // Out of A's reach, and first by name: it must not lead A's list.
        let b_first = fixtures::contact(&app.db, Owner::Customer(world.b), "Aaron", "Bee").await;
        let a_last = fixtures::contact(&app.db, Owner::Customer(world.a), "Zoe", "Zed").await;
        let a_account = Owner::Account { customer: world.a, account: world.a_account };
        let a_account_second = fixtures::contact(&app.db, a_account, "Abe", "Account").await;

        let everyone = as_admin(&app, &CONTACTS, key("NAME", "ASC")).await;
        assert_eq!(everyone.len(), 9);
        assert_eq!(everyone[0], b_first.to_string());

        // Abe Account, Ada Lovelace, Alan Turing, Sam Shared, Zoe Zed: A's own and the
        // contact shared with A, nothing of B's.
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let seen = sorted(&app, &customer, &CONTACTS, Value::Null, key("NAME", "ASC")).await;
        let expected = [
            a_account_second,
            world.a_direct,
            world.a_account_contact,
            world.shared_ab,
            a_last,
        ];
        assert_eq!(seen, strings(&expected));
        // The same rows as ADMIN's sorted list, once B's are taken out.
        let within: Vec<String> = everyone.iter().filter(|id| seen.contains(id)).cloned().collect();
        assert_eq!(seen, within);
        let customers = sorted(&app, &customer, &CUSTOMERS, Value::Null, key("NAME", "DESC")).await;
        assert_eq!(customers, strings(&[world.a]));

        // AGENCY sees A's account-level contacts only.
        let agency = app.token(&[Role::Agency], Some(vec![world.a]), &[]);
        let seen = sorted(&app, &agency, &CONTACTS, Value::Null, key("NAME", "DESC")).await;
        assert_eq!(seen, strings(&[world.a_account_contact, a_account_second]));
        let accounts = sorted(&app, &agency, &ACCOUNTS, Value::Null, key("NAME", "DESC")).await;
        assert_eq!(accounts, strings(&[world.a_account]));
        let customers = sorted(&app, &agency, &CUSTOMERS, Value::Null, key("NAME", "ASC")).await;
        assert_eq!(customers, Vec::<String>::new());
    }

    async fn nested_lists_sort_and_keep_their_order_without_order_by(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let zeta = fixtures::account(&app.db, world.a, "zeta Ledger").await;
        let beta = fixtures::account(&app.db, world.a, "Beta Ledger").await;
        let zara = fixtures::contact(&app.db, Owner::Customer(world.a), "Zara", "Zed").await;
        let bob = fixtures::contact(&app.db, Owner::Customer(world.a), "Bob", "Brown").await;
        let a_account = Owner::Account { customer: world.a, account: world.a_account };
        let aaron = fixtures::contact(&app.db, a_account, "Aaron", "Able").await;
        let aardvark = fixtures::customer(&app.db, "Aardvark").await;
        fixtures::link(&app.db, aardvark, world.shared_ab).await;

        let vars = json!({
            "customer": world.a, "account": world.a_account, "contact": world.shared_ab,
        });
        let data = app.query(&app.admin(), NESTED, vars).await;
        let customer = &data["customer"];
        // Without orderBy: oldest first, as before sorting existed.
        assert_eq!(ids(&customer["accounts"]), strings(&[world.a_account, zeta, beta]));
        assert_eq!(ids(&customer["accountsByName"]), strings(&[zeta, beta, world.a_account]));
        assert_eq!(
            ids(&customer["contacts"]),
            strings(&[world.a_direct, world.shared_ab, zara, bob])
        );
        // Zara Zed, Sam Shared, Bob Brown, Ada Lovelace.
        assert_eq!(
            ids(&customer["contactsByName"]),
            strings(&[zara, world.shared_ab, bob, world.a_direct])
        );
        let account = &data["account"];
        assert_eq!(ids(&account["contacts"]), strings(&[world.a_account_contact, aaron]));
        assert_eq!(ids(&account["contactsByName"]), strings(&[aaron, world.a_account_contact]));
        let shared = &data["contact"];
        assert_eq!(ids(&shared["linkedCustomers"]), strings(&[world.a, world.b, aardvark]));
        assert_eq!(
            ids(&shared["linkedCustomersByName"]),
            strings(&[aardvark, world.a, world.b])
        );
    }

    async fn pages_of_a_sorted_list_join_up_without_overlap_or_gap(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let customer = fixtures::customer(&app.db, "Paged").await;
        let other = fixtures::customer(&app.db, "Elsewhere").await;
        let names = ["delta", "Alpha", "charlie", "alpha", "Bravo", "echo", "ALPHA"];
        let mut rows = Vec::new();
        for name in names {
            rows.push((name, company(&app, Owner::Customer(customer), name).await));
        }
        // Another customer's contact, which the filter keeps out.
        company(&app, Owner::Customer(other), "aaa").await;
        // Name descending, then id descending: computed from the rows written.
        rows.sort_by_key(|(name, id)| std::cmp::Reverse((name.to_lowercase(), *id)));
        let expected: Vec<String> = rows.iter().map(|(_, id)| id.to_string()).collect();

        let filter = json!({ "customerId": customer });
        let name_desc = key("NAME", "DESC");
        let whole = sorted(&app, &admin, &CONTACTS, filter.clone(), name_desc.clone()).await;
        assert_eq!(whole, expected);

        let mut walked = Vec::new();
        for number in 1..=4 {
            let size_two = json!({ "pageNumber": number, "pageSize": 2 });
            let listed =
                page(&app, &admin, &CONTACTS, size_two, filter.clone(), name_desc.clone()).await;
            assert_eq!(listed["totalCount"], 7);
            assert_eq!(listed["hasNextPage"], number < 4, "page {number}");
            walked.extend(ids(&listed["items"]));
        }
        assert_eq!(walked, expected);
    }
}
