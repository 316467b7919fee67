//! Shared contacts: `convertToSharedContact`, `addSharedContact`, `removeSharedContact`.

use entity::shared_contact_link;
use kith::auth::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mutations::contacts::{
    Counts, assert_ok, assert_refused, contact_row, error, mutate, read_contact, with_fields,
};
use crate::support::fixtures::{self, Owner, World};
use crate::support::{TestApp, ids};

const CONVERT: &str = r#"
mutation($id: ID!) {
  convertToSharedContact(id: $id) { contact { ...ContactFields } userErrors { field message code } }
}"#;

const LINK_FIELDS: &str =
    "contact { id isShared linkedCustomers { id } } userErrors { field message code }";

async fn convert(app: &TestApp, token: &str, id: Uuid) -> Value {
    let vars = json!({ "id": id });
    mutate(
        app,
        token,
        &with_fields(CONVERT),
        vars,
        "convertToSharedContact",
    )
    .await
}

async fn link_mutation(
    app: &TestApp,
    token: &str,
    mutation: &str,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Value {
    let query = format!(
        "mutation($customerId: ID!, $contactId: ID!) {{
           {mutation}(customerId: $customerId, contactId: $contactId) {{ {LINK_FIELDS} }} }}"
    );
    let vars = json!({ "customerId": customer_id, "contactId": contact_id });
    mutate(app, token, &query, vars, mutation).await
}

async fn add_link(app: &TestApp, token: &str, customer_id: Uuid, contact_id: Uuid) -> Value {
    link_mutation(app, token, "addSharedContact", customer_id, contact_id).await
}

async fn remove_link(app: &TestApp, token: &str, customer_id: Uuid, contact_id: Uuid) -> Value {
    link_mutation(app, token, "removeSharedContact", customer_id, contact_id).await
}

/// Customers a shared contact is linked to, as stored.
async fn links_of(app: &TestApp, contact_id: Uuid) -> Vec<Uuid> {
    let mut customers: Vec<Uuid> = shared_contact_link::Entity::find()
        .filter(shared_contact_link::Column::ContactId.eq(contact_id))
        .all(&app.db)
        .await
        .expect("read links")
        .into_iter()
        .map(|link| link.customer_id)
        .collect();
    customers.sort();
    customers
}

/// Ids of `Customer.contacts` as an ADMIN sees them.
async fn contacts_of_customer(app: &TestApp, customer_id: Uuid) -> Vec<String> {
    let query = "query($id: ID!) { customer(id: $id) { contacts { id } } }";
    let data = app
        .query(&app.admin(), query, json!({ "id": customer_id }))
        .await;
    ids(&data["customer"]["contacts"])
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

backend_tests! {
    async fn convert_add_and_remove_as_a_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let contact = world.a_direct;
        let whole = |mutation: &str| {
            with_fields(&format!(
                "mutation($customerId: ID!, $contactId: ID!) {{
                   {mutation}(customerId: $customerId, contactId: $contactId) {{
                     contact {{ ...ContactFields }} userErrors {{ field message code }} }} }}"
            ))
        };

        let converted = app
            .graphql(Some(&admin), &with_fields(CONVERT), json!({ "id": contact }))
            .await;
        let added = app
            .graphql(
                Some(&admin),
                &whole("addSharedContact"),
                json!({ "customerId": world.b, "contactId": contact }),
            )
            .await;
        let removed = app
            .graphql(
                Some(&admin),
                &whole("removeSharedContact"),
                json!({ "customerId": world.a, "contactId": contact }),
            )
            .await;

        let steps = [&converted, &added, &removed];
        for (step, field) in steps.iter().zip(["convertToSharedContact", "addSharedContact", "removeSharedContact"]) {
            assert_ok(&step.data()[field]);
        }
        assert_response_snapshot!("shared_contact_lifecycle", steps.map(|step| &step.body));
    }

    async fn a_direct_contact_becomes_shared_and_stays_linked(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let payload = convert(&app, &customer, world.a_direct).await;

        assert_ok(&payload);
        let converted = &payload["contact"];
        assert_eq!(converted["isShared"], true);
        assert_eq!(converted["customer"], Value::Null);
        assert_eq!(converted["account"], Value::Null);
        assert_eq!(
            converted["linkedCustomers"],
            json!([{ "id": world.a.to_string() }])
        );
        assert_eq!(converted["version"], 2);
        let row = contact_row(&app.db, &world.a_direct.to_string())
            .await
            .expect("stored");
        assert_eq!(
            (row.customer_id, row.account_id, row.version),
            (None, None, 2)
        );
        assert_eq!(links_of(&app, world.a_direct).await, vec![world.a]);
        assert!(
            contacts_of_customer(&app, world.a)
                .await
                .contains(&world.a_direct.to_string())
        );
        assert_eq!(
            read_contact(&app, &customer, &world.a_direct.to_string()).await,
            *converted
        );
    }

    async fn only_direct_contacts_can_be_converted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = Counts::of(&app.db).await;
        let account_before = contact_row(&app.db, &world.a_account_contact.to_string()).await;
        let shared_before = contact_row(&app.db, &world.shared_ab.to_string()).await;

        let account_level = convert(&app, &admin, world.a_account_contact).await;
        let already_shared = convert(&app, &admin, world.shared_ab).await;

        assert_refused(&account_level, "contact", &[error("INVALID", &["id"])]);
        assert_refused(&already_shared, "contact", &[error("INVALID", &["id"])]);
        assert_eq!(Counts::of(&app.db).await, before);
        assert_eq!(
            contact_row(&app.db, &world.a_account_contact.to_string()).await,
            account_before
        );
        assert_eq!(
            contact_row(&app.db, &world.shared_ab.to_string()).await,
            shared_before
        );
    }

    async fn converting_out_of_scope_is_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);

        let payload = convert(&app, &customer, world.b_direct).await;

        assert_refused(&payload, "contact", &[error("NOT_FOUND", &["id"])]);
        let row = contact_row(&app.db, &world.b_direct.to_string())
            .await
            .expect("stored");
        assert_eq!((row.customer_id, row.version), (Some(world.b), 1));
    }

    async fn add_shared_contact_links_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();
        let before = Counts::of(&app.db).await;

        let first = add_link(&app, &admin, world.a, world.shared_b).await;
        let second = add_link(&app, &admin, world.a, world.shared_b).await;

        assert_ok(&first);
        assert_eq!(
            sorted(
                ids(&first["contact"]["linkedCustomers"])
                    .iter()
                    .map(|id| id.parse().expect("uuid"))
                    .collect()
            ),
            sorted(vec![world.a, world.b])
        );
        assert_ok(&second);
        assert_eq!(second["contact"], first["contact"]);
        assert_eq!(
            links_of(&app, world.shared_b).await,
            sorted(vec![world.a, world.b])
        );
        assert_eq!(
            Counts::of(&app.db).await,
            Counts {
                links: before.links + 1,
                ..before
            }
        );
        assert!(
            contacts_of_customer(&app, world.a)
                .await
                .contains(&world.shared_b.to_string())
        );
    }

    async fn concurrent_links_of_the_same_pair_make_one_link(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let admin = app.admin();

        for round in 0..5 {
            let shared =
                fixtures::contact(&app.db, Owner::Shared, "Race", &format!("Round{round}")).await;

            let (left, right) = tokio::join!(
                add_link(&app, &admin, world.a, shared),
                add_link(&app, &admin, world.a, shared),
            );

            assert_ok(&left);
            assert_ok(&right);
            assert_eq!(links_of(&app, shared).await, vec![world.a], "round {round}");
        }
    }

    async fn only_shared_contacts_can_be_linked(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let before = Counts::of(&app.db).await;

        let payload = add_link(&app, &app.admin(), world.b, world.a_direct).await;

        assert_refused(&payload, "contact", &[error("INVALID", &["contactId"])]);
        assert_eq!(Counts::of(&app.db).await, before);
        assert!(
            !contacts_of_customer(&app, world.b)
                .await
                .contains(&world.a_direct.to_string())
        );
    }

    async fn remove_shared_contact_unlinks_and_is_idempotent(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.b]), &[]);

        let removed = remove_link(&app, &customer, world.b, world.shared_ab).await;
        let again = remove_link(&app, &app.admin(), world.b, world.shared_ab).await;

        assert_ok(&removed);
        assert_eq!(removed["contact"]["isShared"], true);
        assert_ok(&again);
        assert_eq!(
            again["contact"]["linkedCustomers"],
            json!([{ "id": world.a.to_string() }])
        );
        assert_eq!(links_of(&app, world.shared_ab).await, vec![world.a]);
        assert!(
            contact_row(&app.db, &world.shared_ab.to_string())
                .await
                .is_some(),
            "the contact survives"
        );
        assert!(
            !contacts_of_customer(&app, world.b)
                .await
                .contains(&world.shared_ab.to_string())
        );
        assert!(
            contacts_of_customer(&app, world.a)
                .await
                .contains(&world.shared_ab.to_string())
        );
    }

    async fn a_customer_links_within_its_own_customers_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let customer = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
        let shared_a = fixtures::contact(&app.db, Owner::Shared, "Only", "Alpha").await;
        fixtures::link(&app.db, world.a, shared_a).await;
        let before = Counts::of(&app.db).await;

        let link_to_b = add_link(&app, &customer, world.b, shared_a).await;
        let unlink_from_b = remove_link(&app, &customer, world.b, world.shared_ab).await;
        let invisible_contact = add_link(&app, &customer, world.a, world.shared_b).await;

        assert_refused(
            &link_to_b,
            "contact",
            &[error("NOT_FOUND", &["customerId"])],
        );
        assert_refused(
            &unlink_from_b,
            "contact",
            &[error("NOT_FOUND", &["customerId"])],
        );
        assert_refused(
            &invisible_contact,
            "contact",
            &[error("NOT_FOUND", &["contactId"])],
        );
        assert_eq!(Counts::of(&app.db).await, before);
        assert_eq!(
            links_of(&app, world.shared_ab).await,
            sorted(vec![world.a, world.b])
        );
        assert_eq!(links_of(&app, shared_a).await, vec![world.a]);
    }

    async fn agency_may_not_change_links(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let world = World::create(&app.db).await;
        let agency = app.token(&[Role::Agency], None, &[]);
        let before = Counts::of(&app.db).await;
        let vars = json!({ "customerId": world.a, "contactId": world.shared_b });

        let mut codes = Vec::new();
        for mutation in ["addSharedContact", "removeSharedContact"] {
            let query = format!(
                "mutation($customerId: ID!, $contactId: ID!) {{
                   {mutation}(customerId: $customerId, contactId: $contactId) {{
                     {LINK_FIELDS} }} }}"
            );
            let response = app.graphql(Some(&agency), &query, vars.clone()).await;
            codes.push(response.error_code().to_owned());
        }
        let converted = app
            .graphql(
                Some(&agency),
                &with_fields(CONVERT),
                json!({ "id": world.a_direct }),
            )
            .await;

        assert_eq!(codes, ["FORBIDDEN", "FORBIDDEN"]);
        assert_eq!(
            converted.body["data"]["convertToSharedContact"]["userErrors"][0]["code"],
            "NOT_FOUND"
        );
        assert_eq!(Counts::of(&app.db).await, before);
    }
}
