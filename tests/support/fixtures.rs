//! Arranging data directly in the test database, below the API, so a test of one operation
//! does not depend on the others working.

use chrono::Utc;
use entity::{
    account, address, contact, contact_address, contact_point, customer, shared_contact_link,
};
use kith::contact::input::display_name;
use kith::ordering::sort_name;
use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    Statement,
};
use uuid::Uuid;

pub const TAX_ID: &str = "123-45-6789";
pub const MASKED_TAX_ID: &str = "***-**-6789";

pub async fn customer(db: &DatabaseConnection, name: &str) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut row = customer::Model {
        id,
        name: name.to_owned(),
        sort_name: sort_name(name),
        customer_number: Some(format!("N-{}", id.simple())),
        tax_id: Some(TAX_ID.to_owned()),
        dealer_code: Some("D01".to_owned()),
        created_at: now,
        updated_at: now,
        version: 1,
    }
    .into_active_model()
    .reset_all();
    if !has_sort_name(db, "customer").await {
        row.sort_name = NotSet;
    }
    customer::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .expect("insert customer");
    id
}

pub async fn account(db: &DatabaseConnection, customer_id: Uuid, name: &str) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut row = account::Model {
        id,
        customer_id,
        name: name.to_owned(),
        sort_name: sort_name(name),
        account_number: None,
        status: "ACTIVE".to_owned(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
    .into_active_model()
    .reset_all();
    if !has_sort_name(db, "account").await {
        row.sort_name = NotSet;
    }
    account::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .expect("insert account");
    id
}

/// Who owns a fixture contact.
#[derive(Clone, Copy)]
pub enum Owner {
    Customer(Uuid),
    Account { customer: Uuid, account: Uuid },
    Shared,
}

/// A PERSON contact named `first last`, role OTHER, with an email, a tax id and bank details.
pub async fn contact(db: &DatabaseConnection, owner: Owner, first: &str, last: &str) -> Uuid {
    contact_with(db, owner, first, last, |_| {}).await
}

pub async fn contact_with(
    db: &DatabaseConnection,
    owner: Owner,
    first: &str,
    last: &str,
    adjust: impl FnOnce(&mut contact::Model),
) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let (customer_id, account_id) = match owner {
        Owner::Customer(customer) => (Some(customer), None),
        Owner::Account { customer, account } => (Some(customer), Some(account)),
        Owner::Shared => (None, None),
    };
    let mut model = contact::Model {
        id,
        customer_id,
        account_id,
        subtype: "PERSON".to_owned(),
        role: "OTHER".to_owned(),
        title: None,
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        company_name: None,
        position: None,
        email_address: Some(format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        )),
        website: None,
        tax_id: Some(TAX_ID.to_owned()),
        is_used_for_tax: false,
        contact_number: None,
        contact_type: None,
        dealer_code: None,
        status: "ACTIVE".to_owned(),
        bank_account_details: Some("GB29 NWBK 6016 1331 9268 19".to_owned()),
        account_password_hash: None,
        sort_name: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    adjust(&mut model);
    // As the server stores it: the key of `orderBy: NAME`, from the adjusted names.
    model.sort_name = sort_name(&display_name(&model));
    let mut row = model.into_active_model().reset_all();
    if !has_sort_name(db, "contact").await {
        row.sort_name = NotSet;
    }
    contact::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .expect("insert contact");
    id
}

pub async fn link(db: &DatabaseConnection, customer_id: Uuid, contact_id: Uuid) {
    shared_contact_link::Model {
        customer_id,
        contact_id,
        created_at: Utc::now(),
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await
    .expect("insert link");
}

pub async fn phone(db: &DatabaseConnection, contact_id: Uuid) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    contact_point::Model {
        id,
        contact_id,
        kind: "PHONE".to_owned(),
        value: None,
        country_code: Some("44".to_owned()),
        area_code: Some("20".to_owned()),
        number: Some("79460000".to_owned()),
        is_primary: true,
        created_at: now,
        updated_at: now,
        version: 1,
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await
    .expect("insert contact point");
    id
}

pub async fn address(
    db: &DatabaseConnection,
    contact_id: Uuid,
    city: &str,
    is_primary: bool,
) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    address::Model {
        id,
        address_type: "STREET".to_owned(),
        line1: "1 High Street".to_owned(),
        line2: None,
        line3: None,
        line4: None,
        city: city.to_owned(),
        state_code: "LND".to_owned(),
        state_name: Some("London".to_owned()),
        postal_code: "E1 6AN".to_owned(),
        country: Some("GB".to_owned()),
        latitude: Some(51.5),
        longitude: Some(-0.1),
        created_at: now,
        updated_at: now,
        version: 1,
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await
    .expect("insert address");
    contact_address::Model {
        contact_id,
        address_id: id,
        is_primary,
        created_at: now,
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await
    .expect("attach address");
    id
}

/// Two customers with one account each, a contact at every level, a shared contact linked to
/// both, and one linked to B only. Every contact has a phone and a primary address.
pub struct World {
    pub a: Uuid,
    pub b: Uuid,
    pub a_account: Uuid,
    pub b_account: Uuid,
    pub a_direct: Uuid,
    pub a_account_contact: Uuid,
    pub b_direct: Uuid,
    pub b_account_contact: Uuid,
    pub shared_ab: Uuid,
    pub shared_b: Uuid,
}

impl World {
    pub async fn create(db: &DatabaseConnection) -> World {
        let a = customer(db, "Alpha Foods").await;
        let b = customer(db, "Beta Energy").await;
        let a_account = account(db, a, "Alpha Billing").await;
        let b_account = account(db, b, "Beta Operations").await;
        let a_direct = contact(db, Owner::Customer(a), "Ada", "Lovelace").await;
        let a_account_contact = contact(
            db,
            Owner::Account {
                customer: a,
                account: a_account,
            },
            "Alan",
            "Turing",
        )
        .await;
        let b_direct = contact(db, Owner::Customer(b), "Barbara", "Liskov").await;
        let b_account_contact = contact(
            db,
            Owner::Account {
                customer: b,
                account: b_account,
            },
            "Brian",
            "Kernighan",
        )
        .await;
        let shared_ab = contact(db, Owner::Shared, "Sam", "Shared").await;
        link(db, a, shared_ab).await;
        link(db, b, shared_ab).await;
        let shared_b = contact(db, Owner::Shared, "Tess", "Onlybee").await;
        link(db, b, shared_b).await;
        for contact_id in [
            a_direct,
            a_account_contact,
            b_direct,
            b_account_contact,
            shared_ab,
            shared_b,
        ] {
            phone(db, contact_id).await;
            address(db, contact_id, "London", true).await;
        }
        World {
            a,
            b,
            a_account,
            b_account,
            a_direct,
            a_account_contact,
            b_direct,
            b_account_contact,
            shared_ab,
            shared_b,
        }
    }
}

/// Whether `table` has the `sort_name` column yet: tests of older migrations arrange data in a
/// schema from before it (m20261126_000005), with these same fixtures.
async fn has_sort_name(db: &DatabaseConnection, table: &str) -> bool {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT 1 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'sort_name'"
        }
        _ => "SELECT 1 FROM pragma_table_info(?) WHERE name = 'sort_name'",
    };
    db.query_one_raw(Statement::from_sql_and_values(backend, sql, [table.into()]))
        .await
        .expect("read the schema")
        .is_some()
}
