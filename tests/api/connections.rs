//! Relay cursor connections beside the paged lists (`customersConnection`,
//! `accountsConnection`, `contactsConnection`): walks forward with `first`/`after` and backward
//! with `last`/`before` that visit every row once in the paged list's order, `pageInfo` at
//! either end, `totalCount`, sizes and their limits, cursors bound to their list, order and
//! filter, scope, and pages that stay put when rows are inserted before the cursor.

use chrono::{TimeDelta, Utc};
use kith::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::fixtures::{self, Owner, World};
use crate::support::{GqlResponse, TestApp, ids};

/// A connection and the paged list it sits beside, with the types of their arguments.
struct Connection {
    field: &'static str,
    list: &'static str,
    filter: &'static str,
    order: &'static str,
}

const CUSTOMERS: Connection = Connection {
    field: "customersConnection",
    list: "customers",
    filter: "CustomerFilter",
    order: "CustomerOrder",
};

const ACCOUNTS: Connection = Connection {
    field: "accountsConnection",
    list: "accounts",
    filter: "AccountFilter",
    order: "AccountOrder",
};

const CONTACTS: Connection = Connection {
    field: "contactsConnection",
    list: "contacts",
    filter: "ContactFilter",
    order: "ContactOrder",
};

impl Connection {
    /// The connection with every argument taken from variables.
    fn query(&self) -> String {
        let Connection {
            field,
            filter,
            order,
            ..
        } = self;
        format!(
            "query($first: Int, $after: String, $last: Int, $before: String,
      $filter: {filter}, $orderBy: [{order}!]) {{
  {field}(first: $first, after: $after, last: $last, before: $before,
      filter: $filter, orderBy: $orderBy) {{
    totalCount
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ id }} }}
  }}
}}"
        )
    }

    /// The whole paged list with the same filter and order.
    fn list_query(&self) -> String {
        let Connection {
            list,
            filter,
            order,
            ..
        } = self;
        format!(
            "query($filter: {filter}, $orderBy: [{order}!]) {{
  {list}(page: {{ pageSize: 100 }}, filter: $filter, orderBy: $orderBy) {{
    totalCount items {{ id }}
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

/// `orderBy` with a single key.
fn key(field: &str, direction: &str) -> Value {
    order(&[(field, direction)])
}

/// Variables with `filter` and `orderBy` unless null: a left-out argument is absent, not null.
fn args(filter: &Value, order_by: &Value) -> Value {
    let mut vars = json!({});
    if !filter.is_null() {
        vars["filter"] = filter.clone();
    }
    if !order_by.is_null() {
        vars["orderBy"] = order_by.clone();
    }
    vars
}

/// `vars` with one more argument.
fn with(mut vars: Value, name: &str, value: impl Into<Value>) -> Value {
    vars[name] = value.into();
    vars
}

/// A connection request that may fail.
async fn attempt(app: &TestApp, token: &str, of: &Connection, vars: Value) -> GqlResponse {
    app.graphql(Some(token), &of.query(), vars).await
}

/// One page of a connection that must succeed, checked for what every page must hold.
async fn fetch(app: &TestApp, token: &str, of: &Connection, vars: Value) -> Value {
    let page = app.query(token, &of.query(), vars).await[of.field].clone();
    assert_cursors_match_edges(&page);
    page
}

/// Paging forward (`first`, `after`) or backward (`last`, `before`).
type Way = (&'static str, &'static str);
const FORWARD: Way = ("first", "after");
const BACKWARD: Way = ("last", "before");

/// Two rows beside `cursor` in `way`, with this filter and order.
fn two_from(filter: &Value, order_by: &Value, (size, side): Way, cursor: &str) -> Value {
    with(with(args(filter, order_by), size, 2), side, cursor)
}

/// A page's `endCursor`, which must be set.
fn end_cursor(page: &Value) -> String {
    let cursor = page["pageInfo"]["endCursor"].as_str();
    cursor
        .unwrap_or_else(|| panic!("expected an endCursor: {page}"))
        .to_owned()
}

/// The ids of a page's nodes, in order.
fn edge_ids(page: &Value) -> Vec<String> {
    edges(page)
        .iter()
        .map(|edge| id_of(&edge["node"]))
        .collect()
}

/// The cursors of a page's edges, in order.
fn cursors(page: &Value) -> Vec<String> {
    edges(page)
        .iter()
        .map(|edge| edge["cursor"].as_str().expect("a cursor").to_owned())
        .collect()
}

fn edges(page: &Value) -> &[Value] {
    page["edges"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("expected edges: {page}"))
}

fn id_of(node: &Value) -> String {
    node["id"].as_str().expect("an id").to_owned()
}

/// `(hasPreviousPage, hasNextPage)`.
fn sides(page: &Value) -> (bool, bool) {
    let info = &page["pageInfo"];
    let flag = |name: &str| {
        info[name]
            .as_bool()
            .unwrap_or_else(|| panic!("{name}: {page}"))
    };
    (flag("hasPreviousPage"), flag("hasNextPage"))
}

/// `pageInfo.startCursor` and `endCursor` are the first and last edges' cursors, or null.
fn assert_cursors_match_edges(page: &Value) {
    let edges = edges(page);
    let cursor = |edge: Option<&Value>| edge.map_or(Value::Null, |edge| edge["cursor"].clone());
    assert_eq!(
        page["pageInfo"]["startCursor"],
        cursor(edges.first()),
        "{page}"
    );
    assert_eq!(
        page["pageInfo"]["endCursor"],
        cursor(edges.last()),
        "{page}"
    );
    for edge in edges {
        let text = edge["cursor"].as_str().unwrap_or_default();
        assert!(!text.is_empty(), "every edge has a cursor: {page}");
    }
}

/// A request refused as a whole: BAD_USER_INPUT and no edges in `data`.
fn assert_refused(response: &GqlResponse, of: &Connection) {
    assert_eq!(response.error_code(), "BAD_USER_INPUT", "{}", response.body);
    assert!(response.status < 500, "{}", response.body);
    let edges = &response.body["data"][of.field]["edges"];
    assert!(edges.is_null(), "no edges: {}", response.body);
}

/// The paged list beside `of` as `token` sees it, with this filter and order: the ids a walk
/// must visit, in order, and the list's `totalCount`.
async fn listed(
    app: &TestApp,
    token: &str,
    of: &Connection,
    filter: &Value,
    order_by: &Value,
) -> (Vec<String>, Value) {
    let data = app
        .query(token, &of.list_query(), args(filter, order_by))
        .await;
    let list = &data[of.list];
    (ids(&list["items"]), list["totalCount"].clone())
}

/// Every page from the start with `first: size`, following `endCursor`, until `hasNextPage`
/// is false; returns the ids in the order visited and the `totalCount` every page reported.
async fn walk_forward(
    app: &TestApp,
    token: &str,
    of: &Connection,
    size: usize,
    filter: &Value,
    order_by: &Value,
) -> (Vec<String>, Value) {
    // With pages of one, "rows before the cursor" would be ambiguous on the second page.
    assert!(size >= 2);
    let mut visited = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    for _ in 0..100 {
        let mut vars = with(args(filter, order_by), "first", size);
        if let Some(cursor) = &after {
            vars = with(vars, "after", cursor.as_str());
        }
        let page = fetch(app, token, of, vars).await;
        let edges = edge_ids(&page);
        let (previous, next) = sides(&page);
        assert_eq!(
            previous,
            after.is_some(),
            "rows before every page but the first: {page}"
        );
        assert!(edges.len() <= size, "{page}");
        if next {
            assert_eq!(edges.len(), size, "only the last page may be short: {page}");
        } else {
            assert!(
                !edges.is_empty() || after.is_none(),
                "no empty last page: {page}"
            );
        }
        let count = total.get_or_insert_with(|| page["totalCount"].clone());
        assert_eq!(page["totalCount"], *count, "the same total on every page");
        visited.extend(edges);
        if !next {
            return (visited, page["totalCount"].clone());
        }
        after = Some(end_cursor(&page));
    }
    panic!("the walk did not end: {} rows so far", visited.len());
}

/// Every page from the end with `last: size`, following `startCursor` as `before`, until
/// `hasPreviousPage` is false; returns the ids in list order and the `totalCount`.
async fn walk_backward(
    app: &TestApp,
    token: &str,
    of: &Connection,
    size: usize,
    filter: &Value,
    order_by: &Value,
) -> (Vec<String>, Value) {
    assert!(size >= 2);
    let mut visited = Vec::new();
    let mut before: Option<String> = None;
    let mut total = None;
    for _ in 0..100 {
        let mut vars = with(args(filter, order_by), "last", size);
        if let Some(cursor) = &before {
            vars = with(vars, "before", cursor.as_str());
        }
        let page = fetch(app, token, of, vars).await;
        let edges = edge_ids(&page);
        let (previous, next) = sides(&page);
        assert_eq!(
            next,
            before.is_some(),
            "rows after every page but the last: {page}"
        );
        assert!(edges.len() <= size, "{page}");
        if previous {
            assert_eq!(
                edges.len(),
                size,
                "only the first page may be short: {page}"
            );
        } else {
            assert!(
                !edges.is_empty() || before.is_none(),
                "no empty first page: {page}"
            );
        }
        let count = total.get_or_insert_with(|| page["totalCount"].clone());
        assert_eq!(page["totalCount"], *count, "the same total on every page");
        // Each page is in forward order and comes before the pages already seen.
        visited = [edges, visited].concat();
        if !previous {
            return (visited, page["totalCount"].clone());
        }
        before = Some(
            page["pageInfo"]["startCursor"]
                .as_str()
                .expect("startCursor")
                .to_owned(),
        );
    }
    panic!("the walk did not end: {} rows so far", visited.len());
}

/// The world and ten more contacts: names that tie (in any case, and across customers),
/// numbers and missing numbers, both statuses, and timestamps out of id order with ties.
async fn crowd(app: &TestApp) -> World {
    let world = World::create(&app.db).await;
    let a = Owner::Customer(world.a);
    let a_account = Owner::Account {
        customer: world.a,
        account: world.a_account,
    };
    let b = Owner::Customer(world.b);
    let rows = [
        (a, "dup", "name", Some("K-2"), "ACTIVE"),
        (a, "Dup", "Name", None, "ARCHIVED"),
        (a_account, "DUP", "NAME", Some("K-1"), "ACTIVE"),
        (b, "Dup", "name", Some("K-2"), "ACTIVE"),
        (a, "Zoe", "Zed", Some("K-3"), "ACTIVE"),
        (Owner::Shared, "aaron", "able", None, "ACTIVE"),
        (a, "Émile", "Zola", Some("k-0"), "ARCHIVED"),
        (b, "Ada", "Lovelace", None, "ACTIVE"),
        (a_account, "Mid", "Dle", Some("K-4"), "ACTIVE"),
        (a, "ada", "lovelace", Some("K-5"), "ACTIVE"),
    ];
    let now = Utc::now();
    for (n, (owner, first, last, number, status)) in rows.into_iter().enumerate() {
        let n = i64::try_from(n).expect("small");
        fixtures::contact_with(&app.db, owner, first, last, |c| {
            c.contact_number = number.map(str::to_owned);
            c.status = status.to_owned();
            c.created_at = now - TimeDelta::minutes(n % 3);
            c.updated_at = now + TimeDelta::minutes((n * 5) % 4);
        })
        .await;
    }
    world
}

/// Orders to walk in: the default, each direction, mixed directions, ties on names and on
/// missing numbers.
fn orderings() -> Vec<Value> {
    vec![
        Value::Null,
        key("NAME", "ASC"),
        key("NAME", "DESC"),
        order(&[("NAME", "ASC"), ("CREATED_AT", "DESC")]),
        key("UPDATED_AT", "DESC"),
        key("NUMBER", "ASC"),
        order(&[("NUMBER", "DESC"), ("NAME", "ASC")]),
    ]
}

const CREATE_CONTACT: &str = "mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code message } }
}";

const CREATE_ACCOUNT: &str = "mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } userErrors { code message } }
}";

/// Run a mutation as ADMIN that must write; returns the id of `payload.object`.
async fn write(app: &TestApp, query: &str, vars: Value, payload: &str, object: &str) -> String {
    let data = app.query(&app.admin(), query, vars).await;
    let payload = &data[payload];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    id_of(&payload[object])
}

fn strings(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

backend_tests! {
    async fn first_and_after_visit_every_row_once_in_list_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = crowd(&app).await;
        let admin = app.admin();
        let filters = [
            Value::Null,
            json!({ "customerId": world.a }),
            json!({ "status": "ACTIVE" }),
        ];
        for order_by in orderings() {
            for filter in &filters {
                let (expected, total) = listed(&app, &admin, &CONTACTS, filter, &order_by).await;
                assert!(expected.len() > 6, "several pages to walk: {filter}");
                let (walked, walk_total) =
                    walk_forward(&app, &admin, &CONTACTS, 3, filter, &order_by).await;
                assert_eq!(walked, expected, "orderBy {order_by}, filter {filter}");
                assert_eq!(walk_total, total, "orderBy {order_by}, filter {filter}");
            }
        }
    }

    async fn last_and_before_visit_every_row_once_walking_back(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = crowd(&app).await;
        let admin = app.admin();
        let filters = [
            Value::Null,
            json!({ "customerId": world.a }),
            json!({ "status": "ACTIVE" }),
        ];
        for order_by in orderings() {
            for filter in &filters {
                let (expected, total) = listed(&app, &admin, &CONTACTS, filter, &order_by).await;
                // `last` alone: the end of the list, still in forward order.
                let vars = with(args(filter, &order_by), "last", 3);
                let tail = fetch(&app, &admin, &CONTACTS, vars).await;
                assert_eq!(edge_ids(&tail), expected[expected.len() - 3..], "{order_by}");
                assert_eq!(sides(&tail), (true, false));

                let (walked, walk_total) =
                    walk_backward(&app, &admin, &CONTACTS, 3, filter, &order_by).await;
                assert_eq!(walked, expected, "orderBy {order_by}, filter {filter}");
                assert_eq!(walk_total, total, "orderBy {order_by}, filter {filter}");
            }
        }
    }

    async fn page_info_and_cursors_at_every_position(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let mut created = Vec::new();
        for name in ["echo", "Delta", "charlie", "Bravo", "alpha"] {
            created.push(fixtures::customer(&app.db, name).await);
        }
        // By name, the reverse of creation.
        let rows: Vec<String> = created.iter().rev().map(ToString::to_string).collect();
        let by_name = args(&Value::Null, &key("NAME", "ASC"));
        let page = |extra: Value| {
            let mut vars = by_name.clone();
            for (name, value) in extra.as_object().expect("arguments") {
                vars[name] = value.clone();
            }
            vars
        };

        let all = fetch(&app, &admin, &CUSTOMERS, page(json!({ "first": 5 }))).await;
        assert_eq!(edge_ids(&all), rows);
        assert_eq!(sides(&all), (false, false));
        assert_eq!(all["totalCount"], 5);
        let at = cursors(&all);

        // (arguments, rows expected, (hasPreviousPage, hasNextPage))
        let cases = [
            (json!({ "first": 2 }), &rows[0..2], (false, true)),
            (json!({ "first": 2, "after": at[1] }), &rows[2..4], (true, true)),
            (json!({ "first": 2, "after": at[3] }), &rows[4..], (true, false)),
            (json!({ "first": 2, "after": at[4] }), &rows[5..], (true, false)),
            (json!({ "first": 6 }), &rows[..], (false, false)),
            (json!({ "last": 2 }), &rows[3..], (true, false)),
            (json!({ "last": 2, "before": at[3] }), &rows[1..3], (true, true)),
            (json!({ "last": 2, "before": at[1] }), &rows[0..1], (false, true)),
            (json!({ "last": 2, "before": at[0] }), &rows[..0], (false, true)),
            (json!({ "last": 5 }), &rows[..], (false, false)),
        ];
        for (arguments, expected, expected_sides) in cases {
            let got = fetch(&app, &admin, &CUSTOMERS, page(arguments.clone())).await;
            assert_eq!(edge_ids(&got), expected, "{arguments}");
            assert_eq!(sides(&got), expected_sides, "{arguments}");
            assert_eq!(got["totalCount"], 5, "{arguments}");
        }

        // Every edge's cursor leads to the rows after it, and (as `before`) to those before.
        for (n, cursor) in at.iter().enumerate() {
            let vars = page(json!({ "first": 5, "after": cursor }));
            let after = fetch(&app, &admin, &CUSTOMERS, vars).await;
            assert_eq!(edge_ids(&after), rows[n + 1..], "after row {n}");
            let vars = page(json!({ "last": 5, "before": cursor }));
            let before = fetch(&app, &admin, &CUSTOMERS, vars).await;
            assert_eq!(edge_ids(&before), rows[..n], "before row {n}");
        }

        // Nothing matches: no edges, no cursors, nothing either side.
        let nothing = with(page(json!({ "first": 2 })), "filter", json!({ "search": "zzzz" }));
        let empty = fetch(&app, &admin, &CUSTOMERS, nothing).await;
        assert_eq!(empty["totalCount"], 0);
        assert_eq!(edge_ids(&empty), Vec::<String>::new());
        assert_eq!(sides(&empty), (false, false));
        let nothing = with(page(json!({ "last": 2 })), "filter", json!({ "search": "zzzz" }));
        let empty = fetch(&app, &admin, &CUSTOMERS, nothing).await;
        assert_eq!(edge_ids(&empty), Vec::<String>::new());
        assert_eq!(sides(&empty), (false, false));
    }

    async fn total_count_counts_the_filtered_rows_in_scope_whatever_the_window(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        // World's two ACTIVE accounts, three more ACTIVE ones for A, two SUSPENDED for B.
        for n in 0..3 {
            fixtures::account(&app.db, world.a, &format!("A extra {n}")).await;
        }
        for n in 0..2 {
            let input = json!({
                "customerId": world.b, "name": format!("B held {n}"), "status": "SUSPENDED",
            });
            let vars = json!({ "input": input });
            write(&app, CREATE_ACCOUNT, vars, "createAccount", "account").await;
        }
        let admin = app.admin();
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let active = json!({ "status": "ACTIVE" });
        let suspended = json!({ "status": "SUSPENDED" });
        let cases = [
            (&admin, Value::Null, 7),
            (&admin, active.clone(), 5),
            (&admin, suspended.clone(), 2),
            (&admin, json!({ "customerId": world.b }), 3),
            (&customer_a, Value::Null, 4),
            (&customer_a, active, 4),
            (&customer_a, suspended, 0),
        ];
        let by_name = key("NAME", "ASC");
        for (token, filter, count) in cases {
            let (_, listed_total) = listed(&app, token, &ACCOUNTS, &filter, &by_name).await;
            assert_eq!(listed_total, count, "{filter}");
            let base = args(&filter, &by_name);
            let first = fetch(&app, token, &ACCOUNTS, with(base.clone(), "first", 1)).await;
            assert_eq!(first["totalCount"], count, "first: 1, {filter}");
            let last = fetch(&app, token, &ACCOUNTS, with(base.clone(), "last", 1)).await;
            assert_eq!(last["totalCount"], count, "last: 1, {filter}");
            if let Some(cursor) = first["pageInfo"]["endCursor"].as_str() {
                let vars = with(with(base, "first", 1), "after", cursor);
                let second = fetch(&app, token, &ACCOUNTS, vars).await;
                assert_eq!(second["totalCount"], count, "after a cursor, {filter}");
            }
        }
    }

    async fn twenty_by_default_and_sizes_are_validated(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let mut created = Vec::new();
        for n in 0..25 {
            created.push(fixtures::customer(&app.db, &format!("Customer {n}")).await);
        }

        // Neither first nor last: the first twenty, in id order.
        let default = fetch(&app, &admin, &CUSTOMERS, json!({})).await;
        assert_eq!(edge_ids(&default), strings(&created[..20]));
        assert_eq!(sides(&default), (false, true));
        assert_eq!(default["totalCount"], 25);

        let most = fetch(&app, &admin, &CUSTOMERS, json!({ "first": 100 })).await;
        assert_eq!(edge_ids(&most), strings(&created));
        let most = fetch(&app, &admin, &CUSTOMERS, json!({ "last": 100 })).await;
        assert_eq!(edge_ids(&most), strings(&created));

        // Zero is a size (Relay's spec refuses only negative ones): no edges, and whether
        // rows lie beyond.
        let none = fetch(&app, &admin, &CUSTOMERS, json!({ "first": 0 })).await;
        assert_eq!(edge_ids(&none), Vec::<String>::new());
        assert_eq!(sides(&none), (false, true));
        assert_eq!(none["pageInfo"]["endCursor"], Value::Null);
        let none = fetch(&app, &admin, &CUSTOMERS, json!({ "last": 0 })).await;
        assert_eq!(edge_ids(&none), Vec::<String>::new());
        assert_eq!(none["totalCount"], 25);

        for bad in [
            json!({ "first": 2, "last": 2 }),
            json!({ "first": -1 }),
            json!({ "first": 101 }),
            json!({ "last": -1 }),
            json!({ "last": 101 }),
        ] {
            let response = attempt(&app, &admin, &CUSTOMERS, bad).await;
            assert_refused(&response, &CUSTOMERS);
        }
    }

    async fn cursors_are_bound_to_their_list_order_and_filter(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = crowd(&app).await;
        let admin = app.admin();
        let (none, by_name) = (Value::Null, key("NAME", "ASC"));
        let active = json!({ "status": "ACTIVE" });
        let first_two = |filter: &Value| with(args(filter, &by_name), "first", 2);
        let cursor = end_cursor(&fetch(&app, &admin, &CONTACTS, first_two(&none)).await);
        let active_cursor = end_cursor(&fetch(&app, &admin, &CONTACTS, first_two(&active)).await);

        // Each cursor works where it was taken: the refusals below are about the cursor.
        let same = two_from(&none, &by_name, FORWARD, &cursor);
        assert_eq!(edge_ids(&fetch(&app, &admin, &CONTACTS, same).await).len(), 2);
        let same = two_from(&active, &by_name, FORWARD, &active_cursor);
        assert_eq!(edge_ids(&fetch(&app, &admin, &CONTACTS, same).await).len(), 2);

        let other_orders = [
            key("CREATED_AT", "ASC"),
            key("NAME", "DESC"),
            order(&[("NAME", "ASC"), ("NUMBER", "ASC")]),
            Value::Null,
        ];
        for other in &other_orders {
            for way in [FORWARD, BACKWARD] {
                let vars = two_from(&none, other, way, &cursor);
                assert_refused(&attempt(&app, &admin, &CONTACTS, vars).await, &CONTACTS);
            }
        }

        let other_filters = [
            json!({ "status": "ARCHIVED" }),
            json!({ "status": "ACTIVE", "customerId": world.a }),
            Value::Null,
        ];
        for other in &other_filters {
            let vars = two_from(other, &by_name, FORWARD, &active_cursor);
            assert_refused(&attempt(&app, &admin, &CONTACTS, vars).await, &CONTACTS);
        }
        // And the unfiltered cursor under a filter.
        let vars = two_from(&active, &by_name, FORWARD, &cursor);
        assert_refused(&attempt(&app, &admin, &CONTACTS, vars).await, &CONTACTS);

        // A contact's cursor means nothing to the other connections, even in the same order,
        // nor a customer's to the contacts.
        for list in [&CUSTOMERS, &ACCOUNTS] {
            let vars = two_from(&none, &by_name, FORWARD, &cursor);
            assert_refused(&attempt(&app, &admin, list, vars).await, list);
        }
        let customer_cursor = end_cursor(&fetch(&app, &admin, &CUSTOMERS, first_two(&none)).await);
        let vars = two_from(&none, &by_name, FORWARD, &customer_cursor);
        assert_refused(&attempt(&app, &admin, &CONTACTS, vars).await, &CONTACTS);

        for garbage in ["abc", ""] {
            for way in [FORWARD, BACKWARD] {
                let vars = two_from(&none, &by_name, way, garbage);
                assert_refused(&attempt(&app, &admin, &CONTACTS, vars).await, &CONTACTS);
            }
        }
    }

    async fn connections_are_scoped(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let customer_a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let agency_a = app.token(&[Role::Agency], Some(vec![world.a]), &[]);
        let by_name = key("NAME", "ASC");
        let none = Value::Null;

        let (everything, total) = walk_forward(&app, &admin, &CONTACTS, 2, &none, &by_name).await;
        assert_eq!(total, 6);
        assert_eq!(everything.len(), 6);

        let cases = [
            (&customer_a, vec![world.a_direct, world.a_account_contact, world.shared_ab]),
            (&agency_a, vec![world.a_account_contact]),
        ];
        for (token, visible) in cases {
            let (walked, total) = walk_forward(&app, token, &CONTACTS, 2, &none, &by_name).await;
            assert_eq!(total, visible.len());
            assert_eq!(sorted(walked.clone()), sorted(strings(&visible)));
            // In the same order as the caller's own paged list, and as ADMIN's without the rest.
            let (expected, _) = listed(&app, token, &CONTACTS, &none, &by_name).await;
            assert_eq!(walked, expected);
            let within: Vec<String> =
                everything.iter().filter(|id| walked.contains(id)).cloned().collect();
            assert_eq!(walked, within);
        }

        let customers = fetch(&app, &customer_a, &CUSTOMERS, json!({ "first": 10 })).await;
        assert_eq!(edge_ids(&customers), strings(&[world.a]));
        assert_eq!(customers["totalCount"], 1);
        let customers = fetch(&app, &agency_a, &CUSTOMERS, json!({ "first": 10 })).await;
        assert_eq!(edge_ids(&customers), Vec::<String>::new());
        assert_eq!(customers["totalCount"], 0);
        let accounts = fetch(&app, &agency_a, &ACCOUNTS, json!({ "first": 10 })).await;
        assert_eq!(edge_ids(&accounts), strings(&[world.a_account]));
    }

    async fn rows_inserted_before_the_cursor_do_not_shift_the_next_page(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let customer = fixtures::customer(&app.db, "Keyset").await;
        let mut contacts = Vec::new();
        for first in ["Bea", "Cal", "Dan", "Eve", "Fay"] {
            let owner = Owner::Customer(customer);
            contacts.push(fixtures::contact(&app.db, owner, first, "Smith").await.to_string());
        }
        let [bea, cal, dan, eve, _fay] = [0, 1, 2, 3, 4].map(|n| contacts[n].clone());
        let filter = json!({ "customerId": customer });
        let base = args(&filter, &key("NAME", "ASC"));

        let first = fetch(&app, &admin, &CONTACTS, with(base.clone(), "first", 2)).await;
        assert_eq!(edge_ids(&first), [bea.clone(), cal.clone()]);
        let cursor = end_cursor(&first);

        // Through the API, so the new row's sort key is whatever the server keeps up to date.
        let create = |name: &str| {
            let input = json!({
                "customerId": customer, "subtype": "PERSON", "firstName": name,
                "lastName": "Smith",
            });
            json!({ "input": input })
        };
        let aaron = write(&app, CREATE_CONTACT, create("Aaron"), "createContact", "contact").await;
        let next_vars = with(with(base.clone(), "first", 2), "after", cursor.as_str());
        let next = fetch(&app, &admin, &CONTACTS, next_vars.clone()).await;
        assert_eq!(edge_ids(&next), [dan.clone(), eve.clone()], "Aaron sorts first: no shift");
        assert_eq!(sides(&next), (true, true));
        assert_eq!(next["totalCount"], 6);

        // A row after the cursor is simply the next one.
        let cara = write(&app, CREATE_CONTACT, create("Cara"), "createContact", "contact").await;
        let next = fetch(&app, &admin, &CONTACTS, next_vars).await;
        assert_eq!(edge_ids(&next), [cara.clone(), dan.clone()]);
        // Walking back from Dan's cursor sees both sides of the insertion.
        let dan_cursor = next["edges"][1]["cursor"].as_str().expect("a cursor");
        let back = with(with(base.clone(), "last", 2), "before", dan_cursor);
        assert_eq!(edge_ids(&fetch(&app, &admin, &CONTACTS, back).await), [cal.clone(), cara]);

        // From the start, the new row leads.
        let fresh = fetch(&app, &admin, &CONTACTS, with(base, "first", 3)).await;
        assert_eq!(edge_ids(&fresh), [aaron, bea, cal]);
    }
}
