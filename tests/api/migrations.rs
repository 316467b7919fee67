//! PostgreSQL-only schema behaviour: several instances starting at once against one database
//! all come up, and contact search can use its trigram index.

use std::sync::Arc;

use entity::contact;
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
    TransactionTrait,
};

use crate::helpers::{Backend, TestApp};

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
            kith::db::connect(&url, 2, Arc::new(kith::metrics::Metrics::default())).await
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
