//! Schema behaviour: several instances starting at once against one PostgreSQL database all
//! come up, contact search can use its trigram index, and contact numbers become unique per
//! customer on a database that already holds data.

use std::sync::Arc;

use entity::contact;
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
    TransactionTrait,
};

use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn concurrent_start_ups_migrate_once() {
    let backend = Backend::postgres();
    // A server whose database is created but which we then reset to empty, so that three
    // fresh instances race to migrate it.
    let app = TestApp::spawn(backend).await;
    let url = app.database_url.clone();
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
    )
    .await
    .expect("reset schema");
    let starts = (0..3).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            kith::db::connect(
                &url,
                2,
                std::time::Duration::from_secs(3),
                Arc::new(kith::metrics::Metrics::default()),
            )
            .await
        })
    });
    for start in futures_util::future::join_all(starts).await {
        let db = start.expect("task").expect("instance started and migrated");
        db.close().await.expect("close");
    }
    let data = app
        .query(
            &app.admin(),
            "{ customers { totalCount } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(data["customers"]["totalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn contact_search_can_use_its_trigram_index() {
    let backend = Backend::postgres();
    let app = TestApp::spawn(backend).await;
    // The statement the server sends for `contacts(filter: {search: "ada love"})`, built by
    // the server's own code, so a drift between it and the index expression fails here.
    let condition = kith::contact::service::search_condition(DbBackend::Postgres, "ada love");
    let select = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(condition)
        .build(DbBackend::Postgres);
    let txn = app.db.begin().await.expect("begin");
    // An empty table is cheapest to scan; forbid that to see whether the index is usable.
    txn.execute_unprepared("SET LOCAL enable_seqscan = off")
        .await
        .expect("set");
    let plan = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("EXPLAIN {}", select.sql),
            select.values.expect("values").0,
        ))
        .await
        .expect("explain");
    let plan: Vec<String> = plan
        .iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("plan line"))
        .collect();

    assert!(
        plan.iter().any(|line| line.contains("ix_contact_search")),
        "{}",
        plan.join("\n")
    );
}

/// Every order of every list is an index scan on PostgreSQL, its first page and a keyset page
/// after a cursor alike, with no sort step: the statements are built by the server's own code
/// (`Ordering::apply`, `Ordering::beyond`), so a drift between them and the index expressions
/// (the `COALESCE(number, '') COLLATE "C"` of `NUMBER`) fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn every_order_is_an_index_scan_from_any_cursor() {
    use chrono::Utc;
    use kith::ordering::{
        Direction, Ordering, Position, Side, SortField, SortKey, SortValue, Sortable,
    };
    use sea_orm::{QueryTrait, Select};

    async fn plans<S: Sortable>(
        app: &TestApp,
        table: &str,
        select: impl Fn() -> Select<S::Entity>,
    ) {
        let fields = [
            (SortField::Name, "name", SortValue::Text("m".to_owned())),
            (
                SortField::Number,
                "number",
                SortValue::Text("N-5".to_owned()),
            ),
            (SortField::CreatedAt, "created", SortValue::Time(Utc::now())),
            (SortField::UpdatedAt, "updated", SortValue::Time(Utc::now())),
        ];
        for (field, index, value) in fields {
            for direction in [Direction::Asc, Direction::Desc] {
                let ordering = Ordering::new(vec![SortKey { field, direction }]).expect("order");
                let position = Position {
                    values: vec![value.clone()],
                    id: uuid::Uuid::nil(),
                };
                let first = ordering.apply::<S>(DbBackend::Postgres, select()).limit(26);
                let after = ordering
                    .apply::<S>(DbBackend::Postgres, select())
                    .filter(ordering.beyond::<S>(DbBackend::Postgres, &position, Side::After))
                    .limit(26);
                for statement in [first, after] {
                    let plan = explain(app, statement.build(DbBackend::Postgres)).await;
                    let index = format!("ix_{table}_sort_{index}");
                    assert!(
                        plan.contains(&index) && !plan.contains("Sort"),
                        "{table} by {field:?} {direction:?}: {plan}"
                    );
                }
            }
        }
    }

    async fn explain(app: &TestApp, statement: Statement) -> String {
        let txn = app.db.begin().await.expect("begin");
        // Empty tables are cheapest to scan and sort; forbid both to see what the indexes serve.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
            .await
            .expect("set");
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("EXPLAIN {}", statement.sql),
                statement.values.expect("values").0,
            ))
            .await
            .expect("explain");
        rows.iter()
            .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("plan line"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    let app = TestApp::spawn(Backend::postgres()).await;
    plans::<entity::customer::Model>(&app, "customer", entity::customer::Entity::find).await;
    plans::<entity::account::Model>(&app, "account", entity::account::Entity::find).await;
    plans::<contact::Model>(&app, "contact", contact::Entity::find).await;
}

/// The migration that makes contact numbers unique per customer, applied to a database that
/// already holds data (on SQLite it rebuilds the contact table).
mod contact_numbers_per_customer {
    use entity::{contact_point, customer};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ActiveValue::Set;
    use sea_orm::sea_query::Expr;
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
        DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
        Statement,
    };
    use uuid::Uuid;

    use crate::support::fixtures::{self, Owner, World};
    use crate::support::fresh_database;

    /// Migrations before the per-customer contact numbers.
    const BEFORE: u32 = 2;

    /// The contact table as this migration knows it: today's model names columns later
    /// migrations add (`sort_name`), which the schema under test does not have yet.
    mod contact {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "contact")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub customer_id: Option<Uuid>,
            pub account_id: Option<Uuid>,
            pub subtype: String,
            pub role: String,
            pub title: Option<String>,
            pub first_name: Option<String>,
            pub last_name: Option<String>,
            pub company_name: Option<String>,
            pub position: Option<String>,
            pub email_address: Option<String>,
            pub website: Option<String>,
            pub tax_id: Option<String>,
            pub is_used_for_tax: bool,
            pub contact_number: Option<String>,
            pub contact_type: Option<String>,
            pub dealer_code: Option<String>,
            pub status: String,
            pub bank_account_details: Option<String>,
            pub account_password_hash: Option<String>,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            pub version: i32,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    /// Rows in each table, counted in SQL (a model would name columns of later migrations).
    async fn counts(db: &DatabaseConnection) -> [i64; 5] {
        let mut counts = [0; 5];
        let tables = [
            "customer",
            "contact",
            "contact_point",
            "contact_address",
            "shared_contact_link",
        ];
        for (count, table) in counts.iter_mut().zip(tables) {
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("count")
                .expect("a row");
            *count = row.try_get::<i64>("", "n").expect("n");
        }
        counts
    }

    async fn contacts(db: &DatabaseConnection) -> Vec<contact::Model> {
        contact::Entity::find()
            .order_by_asc(contact::Column::Id)
            .all(db)
            .await
            .expect("read")
    }

    async fn numbered(db: &DatabaseConnection, owner: Owner, last: &str, number: &str) -> Uuid {
        fixtures::contact_with(db, owner, "Numbered", last, |row| {
            row.contact_number = Some(number.to_owned());
        })
        .await
    }

    /// Names of the indexes on `contact`.
    async fn contact_indexes(db: &DatabaseConnection) -> Vec<String> {
        let sql = match db.get_database_backend() {
            DbBackend::Postgres => {
                "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'contact'"
            }
            _ => "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact'",
        };
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("indexes");
        rows.iter()
            .map(|row| row.try_get::<String>("", "name").expect("name"))
            .collect()
    }

    /// Insert a contact with `number`, returning the database's answer.
    async fn fixtures_insert(
        db: &DatabaseConnection,
        owner: Owner,
        number: &str,
    ) -> Result<contact::Model, sea_orm::DbErr> {
        let (customer_id, account_id) = match owner {
            Owner::Customer(customer) => (Some(customer), None),
            Owner::Account { customer, account } => (Some(customer), Some(account)),
            Owner::Shared => (None, None),
        };
        let now = chrono::Utc::now();
        contact::ActiveModel {
            id: Set(Uuid::now_v7()),
            customer_id: Set(customer_id),
            account_id: Set(account_id),
            subtype: Set("COMPANY".to_owned()),
            company_name: Set(Some("Probe".to_owned())),
            contact_number: Set(Some(number.to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
    }

    /// Insert a contact point of `contact_id`, returning the database's answer.
    async fn fixtures_insert_point(
        db: &DatabaseConnection,
        contact_id: Uuid,
    ) -> Result<contact_point::Model, sea_orm::DbErr> {
        let now = chrono::Utc::now();
        contact_point::ActiveModel {
            id: Set(Uuid::now_v7()),
            contact_id: Set(contact_id),
            kind: Set("OTHER".to_owned()),
            value: Set(Some("x".to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
    }

    backend_tests! {
        async fn applies_to_stored_data_and_keeps_every_row_and_reference(backend: Backend) {
            let (url, _guard) = fresh_database(backend).await;
            // One connection: on SQLite the migration switches foreign keys off on the
            // connection it rebuilds with, and must switch them back on before it returns it.
            let mut options = ConnectOptions::new(url.clone());
            options.max_connections(1).sqlx_logging(false);
            let db = Database::connect(options).await.expect("connect");
            Migrator::up(&db, Some(BEFORE)).await.expect("older migrations");
            let world = World::create(&db).await;
            numbered(&db, Owner::Customer(world.a), "A", "N-1").await;
            numbered(&db, Owner::Customer(world.b), "B", "N-2").await;
            let rows_before = contacts(&db).await;
            let counts_before = counts(&db).await;
            let indexes_before = contact_indexes(&db).await;

            // This migration only, so that `down(1)` below undoes it and no later one.
            Migrator::up(&db, Some(1)).await.expect("migrate stored data");

            assert_eq!(contacts(&db).await, rows_before, "every contact as it was");
            assert_eq!(counts(&db).await, counts_before, "no child row lost");
            let indexes = contact_indexes(&db).await;
            // Every index but the global unique key's (PostgreSQL's constraint index, one of
            // SQLite's automatic ones: the primary key has the other) stays.
            let global_key = |name: &&String| {
                name.starts_with("sqlite_autoindex") || name.as_str() == "contact_contact_number_key"
            };
            assert_eq!(
                indexes_before.iter().filter(global_key).count(),
                indexes.iter().filter(global_key).count() + 1,
                "{indexes_before:?} then {indexes:?}"
            );
            for name in indexes_before.iter().filter(|name| !global_key(name)) {
                assert!(indexes.contains(name), "{name} kept: {indexes:?}");
            }
            for name in ["ux_contact_number_per_customer", "ix_contact_contact_number"] {
                assert!(indexes.contains(&name.to_owned()), "{name} made: {indexes:?}");
            }
            // Numbers are now unique per customer, not across customers.
            numbered(&db, Owner::Customer(world.b), "B2", "N-1").await;
            let account_level = Owner::Account { customer: world.a, account: world.a_account };
            let taken = fixtures_insert(&db, account_level, "N-1").await;
            assert!(taken.is_err(), "N-1 is taken in A");
            numbered(&db, Owner::Shared, "S", "N-1").await;
            // References to the rebuilt table still hold and still cascade.
            let orphan = fixtures_insert_point(&db, Uuid::now_v7()).await;
            assert!(orphan.is_err(), "a contact point needs its contact");
            customer::Entity::delete_by_id(world.a).exec(&db).await.expect("delete A");
            for id in [world.a_direct, world.a_account_contact] {
                let points = contact_point::Entity::find()
                    .filter(contact_point::Column::ContactId.eq(id))
                    .count(&db)
                    .await
                    .expect("count");
                assert_eq!(points, 0, "cascaded through the rebuilt contact table");
            }
            assert!(
                contact::Entity::find_by_id(world.shared_ab).one(&db).await.expect("read").is_some(),
                "shared contacts survive their customers"
            );

            // Down refuses, changing nothing, while two customers share a number...
            assert!(Migrator::down(&db, Some(1)).await.is_err());
            assert!(contact_indexes(&db).await.contains(&"ux_contact_number_per_customer".to_owned()));
            // ...and restores the global key once they do not.
            contact::Entity::update_many()
                .col_expr(contact::Column::ContactNumber, Expr::value(Option::<String>::None))
                .filter(contact::Column::ContactNumber.eq("N-1"))
                .exec(&db)
                .await
                .expect("clear");
            let before_down = contacts(&db).await;
            Migrator::down(&db, Some(1)).await.expect("down");
            assert_eq!(contacts(&db).await, before_down);
            numbered(&db, Owner::Customer(world.b), "B3", "G-1").await;
            assert!(fixtures_insert(&db, Owner::Shared, "G-1").await.is_err(), "global again");
            Migrator::up(&db, None).await.expect("up again");
            assert_eq!(contacts(&db).await.len(), before_down.len() + 1);
            assert!(fixtures_insert(&db, Owner::Shared, "G-1").await.is_ok(), "per customer again");
        }
    }
}

/// The migration that adds the sort keys, applied to a database that already holds data: every
/// stored row gets the `sort_name` the server would have written, and each order its index.
mod sort_keys {
    use entity::{account, contact, customer};
    use kith::contact::input::display_name;
    use kith::ordering::sort_name;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database, DbBackend, EntityTrait, Statement};

    use crate::support::fixtures::{self, Owner, World};
    use crate::support::fresh_database;

    /// Migrations before the sort keys.
    const BEFORE: u32 = 4;

    backend_tests! {
        async fn stored_rows_get_their_sort_name_and_every_order_its_index(backend: Backend) {
            let (url, _guard) = fresh_database(backend).await;
            let db = Database::connect(url.as_str()).await.expect("connect");
            Migrator::up(&db, Some(BEFORE)).await.expect("older migrations");
            let world = World::create(&db).await;
            let accented = fixtures::customer(&db, "Émile Zola ÅB").await;
            fixtures::contact_with(&db, Owner::Customer(accented), "Ödön", "İnce", |row| {
                row.title = Some("DR".to_owned());
            })
            .await;

            Migrator::up(&db, None).await.expect("the sort keys");

            let customers = customer::Entity::find().all(&db).await.expect("read");
            assert!(customers.len() >= 3, "the world and the accented customer");
            for row in &customers {
                assert_eq!(row.sort_name, sort_name(&row.name), "{}", row.name);
            }
            assert!(customers.iter().any(|row| row.sort_name == "émile zola åb"));
            for row in account::Entity::find().all(&db).await.expect("read") {
                assert_eq!(row.sort_name, sort_name(&row.name));
            }
            let contacts = contact::Entity::find().all(&db).await.expect("read");
            assert!(contacts.iter().any(|row| row.id == world.a_direct));
            for row in &contacts {
                assert_eq!(row.sort_name, sort_name(&display_name(row)), "{:?}", row.id);
            }
            assert!(contacts.iter().any(|row| row.sort_name == "dr ödön i\u{307}nce"));

            let sql = match db.get_database_backend() {
                DbBackend::Postgres => "SELECT indexname AS name FROM pg_indexes",
                _ => "SELECT name FROM sqlite_master WHERE type = 'index'",
            };
            let indexes: Vec<String> = db
                .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("indexes")
                .iter()
                .map(|row| row.try_get::<String>("", "name").expect("name"))
                .collect();
            for table in ["customer", "account", "contact"] {
                for key in ["name", "number", "created", "updated"] {
                    let name = format!("ix_{table}_sort_{key}");
                    assert!(indexes.contains(&name), "{name} in {indexes:?}");
                }
            }

            Migrator::down(&db, Some(1)).await.expect("down");
            Migrator::up(&db, None).await.expect("up again");
        }
    }
}
