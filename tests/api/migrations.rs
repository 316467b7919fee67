//! Several instances starting at once against one PostgreSQL database all come up.

use std::sync::Arc;

use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_start_ups_migrate_once() {
    let Some(backend) = Backend::postgres() else {
        eprintln!("KITH_TEST_DATABASE_URL is not set: PostgreSQL-only test not run");
        return;
    };
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
