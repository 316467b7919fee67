//! Region names in `state`: up to 100 characters (counted as characters, not bytes), stored
//! as given, on every path that takes an address, and the migration that widened the column.

use entity::address;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    Counts, assert_ok, assert_refused, attached_addresses, error, mutate, person,
};
use crate::support::TestApp;
use crate::support::fixtures::World;

/// Seed 002's `stateCode` and three real regions the old 8-character limit refused.
const REGIONS: [&str; 4] = [
    "Sample Text Data",
    "New South Wales",
    "Wellington",
    "Baden-Württemberg",
];

const ADDRESS_FIELDS: &str = "address { id state } userErrors { field message code }";

fn address_in(state: &str) -> Value {
    json!({ "line1": "1 Main Street", "city": "Town", "state": state, "postalCode": "2000" })
}

/// The `state` of every stored address of a contact, sorted.
async fn stored_states(app: &TestApp, contact_id: Uuid) -> Vec<String> {
    let ids = attached_addresses(&app.db, contact_id).await;
    let mut states: Vec<String> = address::Entity::find()
        .filter(address::Column::Id.is_in(ids))
        .all(&app.db)
        .await
        .expect("read addresses")
        .into_iter()
        .map(|row| row.state_code)
        .collect();
    states.sort();
    states
}

/// The `state` of every address of a contact as the API shows it, sorted.
async fn read_states(app: &TestApp, contact_id: Uuid) -> Vec<String> {
    let data = app
        .query(
            &app.admin(),
            "query($id: ID!) { contact(id: $id) { addresses { state } } }",
            json!({ "id": contact_id }),
        )
        .await;
    let mut states: Vec<String> = data["contact"]["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|a| a["state"].as_str().expect("state").to_owned())
        .collect();
    states.sort();
    states
}

fn sorted(values: &[&str]) -> Vec<String> {
    let mut values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    values.sort();
    values
}

fn contact_id(payload: &Value, object: &str) -> Uuid {
    assert_ok(payload);
    Uuid::parse_str(payload[object]["id"].as_str().expect("id")).expect("uuid")
}

async fn create_with(app: &TestApp, customer: Uuid, states: &[&str]) -> Value {
    let mut input = person(json!({ "customerId": customer }), "Ada", "Lovelace");
    input["primaryAddress"] = address_in(states[0]);
    input["addresses"] = states[1..].iter().map(|s| address_in(s)).collect();
    mutate(
        app,
        &app.admin(),
        "mutation($input: CreateContactInput!) {
           createContact(input: $input) { contact { id } userErrors { field message code } } }",
        json!({ "input": input }),
        "createContact",
    )
    .await
}

backend_tests! {
    async fn region_names_round_trip_through_create_update_and_save(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        // createContact: primaryAddress and addresses.
        let created = create_with(&app, world.a, &REGIONS).await;
        let id = contact_id(&created, "contact");
        assert_eq!(stored_states(&app, id).await, sorted(&REGIONS));
        assert_eq!(read_states(&app, id).await, sorted(&REGIONS));

        // updateContact: lists given replace the stored ones.
        let update = mutate(
            &app,
            &admin,
            "mutation($id: ID!, $input: UpdateContactInput!) {
               updateContact(id: $id, input: $input) { contact { id } userErrors { field code } } }",
            json!({ "id": world.b_direct, "input": {
                "primaryAddress": address_in(REGIONS[3]),
                "addresses": [address_in(REGIONS[0]), address_in(REGIONS[1]), address_in(REGIONS[2])]
            } }),
            "updateContact",
        )
        .await;
        assert_eq!(contact_id(&update, "contact"), world.b_direct);
        assert_eq!(stored_states(&app, world.b_direct).await, sorted(&REGIONS));

        // saveContact: a new contact with the four.
        let mut input = person(json!({ "customerId": world.b }), "Grace", "Hopper");
        input["primaryAddress"] = address_in(REGIONS[1]);
        input["addresses"] = json!([address_in(REGIONS[0]), address_in(REGIONS[2]), address_in(REGIONS[3])]);
        let saved = mutate(
            &app,
            &admin,
            "mutation($input: SaveContactInput!) {
               saveContact(input: $input) { created contact { id } userErrors { field code } } }",
            json!({ "input": input }),
            "saveContact",
        )
        .await;
        let saved_id = contact_id(&saved, "contact");
        assert_eq!(read_states(&app, saved_id).await, sorted(&REGIONS));
    }

    async fn region_names_round_trip_through_address_mutations_and_patches(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let attach_query = format!(
            "mutation($contactId: ID!, $input: AddressInput) {{
               attachAddress(contactId: $contactId, input: $input) {{ {ADDRESS_FIELDS} }} }}"
        );
        let update_query = format!(
            "mutation($id: ID!, $input: AddressInput!) {{
               updateAddress(id: $id, input: $input) {{ {ADDRESS_FIELDS} }} }}"
        );

        for region in REGIONS {
            // attachAddress with a new address, then updateAddress to the same region.
            let attached = mutate(
                &app,
                &admin,
                &attach_query,
                json!({ "contactId": world.a_direct, "input": address_in("CA") }),
                "attachAddress",
            )
            .await;
            let address_id = contact_id(&attached, "address");
            let updated = mutate(
                &app,
                &admin,
                &update_query,
                json!({ "id": address_id, "input": { "state": region } }),
                "updateAddress",
            )
            .await;
            assert_ok(&updated);
            assert_eq!(updated["address"]["state"], region);
            let row = address::Entity::find_by_id(address_id)
                .one(&app.db)
                .await
                .expect("read")
                .expect("stored");
            assert_eq!(row.state_code, region);

            let attached = mutate(
                &app,
                &admin,
                &attach_query,
                json!({ "contactId": world.b_direct, "input": address_in(region) }),
                "attachAddress",
            )
            .await;
            assert_ok(&attached);
            assert_eq!(attached["address"]["state"], region);
        }
        let mut with_fixture = REGIONS.to_vec();
        with_fixture.push("LND");
        assert_eq!(read_states(&app, world.a_direct).await, sorted(&with_fixture));
        assert_eq!(read_states(&app, world.b_direct).await, sorted(&with_fixture));

        // patchContact: CREATE with each, and UPDATE of the fixture address.
        let fixture = attached_addresses(&app.db, world.a_account_contact).await[0];
        let mut items: Vec<Value> = REGIONS
            .iter()
            .enumerate()
            .map(|(index, region)| {
                let mut item = address_in(region);
                item["patchType"] = json!("CREATE");
                item["patchClientId"] = json!(index);
                item
            })
            .collect();
        items.push(json!({ "patchType": "UPDATE", "patchClientId": "fixture", "id": fixture,
                           "state": REGIONS[3] }));
        let patched = mutate(
            &app,
            &admin,
            "mutation($id: ID!, $patch: ContactPatchInput!) {
               patchContact(id: $id, patch: $patch) { contact { id } userErrors { field code } } }",
            json!({ "id": world.a_account_contact, "patch": { "addresses": items } }),
            "patchContact",
        )
        .await;
        assert_ok(&patched);
        let mut expected = REGIONS.to_vec();
        expected.push(REGIONS[3]);
        assert_eq!(stored_states(&app, world.a_account_contact).await, sorted(&expected));
    }

    async fn regions_are_counted_in_characters_up_to_100(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        // 100 characters, 200 bytes in UTF-8: fits a varchar(100) on PostgreSQL.
        let longest = "ü".repeat(100);
        let created = create_with(&app, world.a, &[&longest]).await;
        let id = contact_id(&created, "contact");
        assert_eq!(read_states(&app, id).await, vec![longest.clone()]);

        let before = Counts::of(&app.db).await;
        let too_long = format!("{longest}ü");
        let refused = create_with(&app, world.a, &["CA", &too_long]).await;
        assert_refused(
            &refused,
            "contact",
            &[error("TOO_LONG", &["input", "addresses", "0", "state"])],
        );
        let blank = create_with(&app, world.a, &["  "]).await;
        assert_refused(
            &blank,
            "contact",
            &[error("REQUIRED", &["input", "primaryAddress", "state"])],
        );
        assert_eq!(Counts::of(&app.db).await, before, "nothing written");

        // Surrounding spaces go; case and inner spacing stay.
        let created = create_with(&app, world.a, &["  new South  wales "]).await;
        let id = contact_id(&created, "contact");
        assert_eq!(read_states(&app, id).await, vec!["new South  wales".to_owned()]);
    }
}

/// The migration that widened `address.state_code`, applied to a database that holds
/// addresses with codes.
mod widening {
    use entity::address;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ActiveValue::Set;
    use sea_orm::{
        ActiveModelTrait, ConnectOptions, Database, DatabaseConnection, DbBackend, EntityTrait,
        IntoActiveModel,
    };

    use super::REGIONS;
    use crate::support::fixtures::World;
    use crate::support::fresh_database;

    /// Migrations before the wider region column.
    const BEFORE: u32 = 3;

    /// A new connection: PostgreSQL refuses a statement prepared before a column's type
    /// changed ("cached plan must not change result type"), so each step after a migration
    /// reads through a connection opened after it, as a server started after it would.
    async fn connect(url: &str) -> DatabaseConnection {
        let mut options = ConnectOptions::new(url.to_owned());
        options.max_connections(1).sqlx_logging(false);
        Database::connect(options).await.expect("connect")
    }

    async fn migrate(url: &str, step: impl AsyncFnOnce(&DatabaseConnection)) {
        let db = connect(url).await;
        step(&db).await;
        db.close().await.expect("close");
    }

    backend_tests! {
        async fn existing_codes_stay_and_names_fit_after_the_migration(backend: Backend) {
            let (url, _guard) = fresh_database(backend).await;
            let db = connect(&url).await;
            Migrator::up(&db, Some(BEFORE)).await.expect("older migrations");
            World::create(&db).await;
            let before = address::Entity::find().all(&db).await.expect("read");
            assert!(!before.is_empty());
            db.close().await.expect("close");

            migrate(&url, async |db| Migrator::up(db, Some(1)).await.expect("widen")).await;

            let db = connect(&url).await;
            assert_eq!(address::Entity::find().all(&db).await.expect("read"), before);
            let mut row = before[0].clone().into_active_model();
            for region in REGIONS.iter().copied().chain([&*"ü".repeat(100)]) {
                row.state_code = Set(region.to_owned());
                let stored = row.clone().update(&db).await.expect("a region name fits");
                assert_eq!(stored.state_code, region);
            }

            if db.get_database_backend() == DbBackend::Postgres {
                // Down refuses, changing nothing, while a longer region is stored...
                migrate(&url, async |db| {
                    assert!(Migrator::down(db, Some(1)).await.is_err());
                })
                .await;
                row.state_code = Set("NSW".to_owned());
                row.update(&db).await.expect("a code");
                db.close().await.expect("close");
                // ...and narrows the column again once none is.
                migrate(&url, async |db| Migrator::down(db, Some(1)).await.expect("down")).await;
                let db = connect(&url).await;
                let mut row = before[0].clone().into_active_model();
                row.state_code = Set(REGIONS[0].to_owned());
                assert!(row.update(&db).await.is_err(), "8 characters again");
                db.close().await.expect("close");
                migrate(&url, async |db| Migrator::up(db, None).await.expect("up again")).await;
            }
        }
    }
}
