//! Contact mutations, one file per behaviour: `create`, `update`, `delete`, `validation` (input
//! rules), `uniqueness` (roles and numbers) and `access` (who may do what). Also home of the
//! helpers the other contact-related tests share (`crate::mutations::contacts::...`).

use chrono::{DateTime, Utc};
use entity::{address, contact, contact_address, contact_point, shared_contact_link};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

mod access;
mod create;
mod delete;
mod uniqueness;
mod update;
mod validation;

/// Every field of a contact the tests look at.
pub const CONTACT_FIELDS: &str = r#"
fragment ContactFields on Contact {
  id subtype role title firstName lastName companyName position displayName emailAddress
  website contactNumber isShared hasAccountPassword version createdAt updatedAt
  customer { id } account { id } linkedCustomers { id }
  primaryAddress { id line1 line2 city state postalCode country isPrimary }
  addresses { id addressType line1 city isPrimary }
  contactPoints { id kind value countryCode areaCode number formatted isPrimary }
}"#;

const CREATE: &str = r#"
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { ...ContactFields } userErrors { field message code } }
}"#;

const UPDATE: &str = r#"
mutation($id: ID!, $input: UpdateContactInput!, $expectedVersion: Int) {
  updateContact(id: $id, input: $input, expectedVersion: $expectedVersion) {
    contact { ...ContactFields } userErrors { field message code }
  }
}"#;

const DELETE: &str = r#"
mutation($id: ID!) { deleteContact(id: $id) { deletedId userErrors { field message code } } }"#;

const READ: &str = r#"query($id: ID!) { contact(id: $id) { ...ContactFields } }"#;

/// A query or mutation followed by the contact fragment.
pub fn with_fields(operation: &str) -> String {
    format!("{operation}\n{CONTACT_FIELDS}")
}

/// Run a mutation that must not fail as a whole; returns its payload (`data[field]`).
pub async fn mutate(app: &TestApp, token: &str, query: &str, vars: Value, field: &str) -> Value {
    app.query(token, query, vars).await[field].clone()
}

/// `contact(id)` as `token` sees it.
pub async fn read_contact(app: &TestApp, token: &str, id: &str) -> Value {
    app.query(token, &with_fields(READ), json!({ "id": id }))
        .await["contact"]
        .clone()
}

/// A user error as `(code, path)`.
pub fn error(code: &str, path: &[&str]) -> (String, Vec<String>) {
    (
        code.to_owned(),
        path.iter().map(|segment| (*segment).to_owned()).collect(),
    )
}

/// The `userErrors` of a payload as `(code, path)`, sorted.
pub fn user_errors(payload: &Value) -> Vec<(String, Vec<String>)> {
    let mut errors: Vec<_> = payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected userErrors: {payload}"))
        .iter()
        .map(|e| {
            let path = e["field"]
                .as_array()
                .map(|p| p.iter().map(|s| s.as_str().expect("segment").to_owned()))
                .into_iter()
                .flatten()
                .collect();
            (e["code"].as_str().expect("code").to_owned(), path)
        })
        .collect();
    errors.sort();
    errors
}

/// Assert a payload wrote something: no user errors.
pub fn assert_ok(payload: &Value) {
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
}

/// Assert a payload was refused with exactly these user errors (in any order).
pub fn assert_refused(payload: &Value, object: &str, expected: &[(String, Vec<String>)]) {
    assert_eq!(payload[object], Value::Null, "{payload}");
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(user_errors(payload), expected, "{payload}");
}

/// Row counts of every table a contact write touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub contacts: u64,
    pub contact_points: u64,
    pub addresses: u64,
    pub contact_addresses: u64,
    pub links: u64,
}

impl Counts {
    pub async fn of(db: &DatabaseConnection) -> Counts {
        Counts {
            contacts: contact::Entity::find().count(db).await.expect("count"),
            contact_points: contact_point::Entity::find()
                .count(db)
                .await
                .expect("count"),
            addresses: address::Entity::find().count(db).await.expect("count"),
            contact_addresses: contact_address::Entity::find()
                .count(db)
                .await
                .expect("count"),
            links: shared_contact_link::Entity::find()
                .count(db)
                .await
                .expect("count"),
        }
    }
}

/// The stored contact row.
pub async fn contact_row(db: &DatabaseConnection, id: &str) -> Option<contact::Model> {
    let id = Uuid::parse_str(id).expect("uuid");
    contact::Entity::find_by_id(id).one(db).await.expect("read")
}

/// The stored contact points of a contact.
pub async fn point_rows(db: &DatabaseConnection, contact_id: Uuid) -> Vec<contact_point::Model> {
    contact_point::Entity::find()
        .filter(contact_point::Column::ContactId.eq(contact_id))
        .all(db)
        .await
        .expect("read points")
}

/// Ids of the addresses attached to a contact.
pub async fn attached_addresses(db: &DatabaseConnection, contact_id: Uuid) -> Vec<Uuid> {
    contact_address::Entity::find()
        .filter(contact_address::Column::ContactId.eq(contact_id))
        .all(db)
        .await
        .expect("read links")
        .into_iter()
        .map(|link| link.address_id)
        .collect()
}

/// Make the database itself refuse to insert an address in `city`: a failure no input check
/// can foresee, to prove a write is all or nothing.
pub async fn fail_address_inserts_in(db: &DatabaseConnection, city: &str) {
    let statements = match db.get_database_backend() {
        DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_city() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.city = '{city}' THEN RAISE EXCEPTION 'injected failure'; END IF; \
                 RETURN NEW; END $$"
            ),
            "CREATE TRIGGER refuse_city BEFORE INSERT ON address FOR EACH ROW \
             EXECUTE FUNCTION refuse_city()"
                .to_owned(),
        ],
        _ => vec![format!(
            "CREATE TRIGGER refuse_city BEFORE INSERT ON address WHEN NEW.city = '{city}' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
    };
    for statement in statements {
        db.execute_unprepared(&statement)
            .await
            .expect("install trigger");
    }
}

pub fn timestamp(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("expected a timestamp: {value}"))
        .with_timezone(&Utc)
}

/// A complete address input.
pub fn address_input(city: &str) -> Value {
    json!({ "line1": "1 Main Street", "city": city, "state": "CA", "postalCode": "94105" })
}

/// A valid person at `owner` (`{"customerId": ..}`, `{"accountId": ..}` or `{}`).
pub fn person(owner: Value, first: &str, last: &str) -> Value {
    let mut input = owner;
    input["subtype"] = json!("PERSON");
    input["firstName"] = json!(first);
    input["lastName"] = json!(last);
    input
}

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    mutate(
        app,
        token,
        &with_fields(CREATE),
        json!({ "input": input }),
        "createContact",
    )
    .await
}

async fn update(app: &TestApp, token: &str, id: impl ToString, input: Value) -> Value {
    update_at(app, token, id, input, None).await
}

async fn update_at(
    app: &TestApp,
    token: &str,
    id: impl ToString,
    input: Value,
    expected_version: Option<i32>,
) -> Value {
    let vars = json!({ "id": id.to_string(), "input": input, "expectedVersion": expected_version });
    mutate(app, token, &with_fields(UPDATE), vars, "updateContact").await
}

/// Nested lists every valid create below carries.
fn with_nested_lists(mut input: Value) -> Value {
    input["primaryAddress"] = address_input("San Francisco");
    input["addresses"] = json!([address_input("Oakland")]);
    input["contactPoints"] = json!([
        { "kind": "PHONE", "number": "555 0100" },
        { "kind": "EMAIL", "value": "someone@example.com" },
    ]);
    input
}
