//! Paging edges: partial last page, past the end, excluded totals, size limits, stable order.

use serde_json::{Value, json};

use crate::support::fixtures;
use crate::support::{TestApp, ids};

const PAGE: &str = "query($page: PageInput) {
  customers(page: $page) {
    pagination { pageNumber pageSize excludeTotalCount }
    totalCount hasNextPage items { id }
  }
}";

async fn page(app: &TestApp, page: Value) -> Value {
    app.query(&app.admin(), PAGE, json!({ "page": page })).await["customers"].clone()
}

backend_tests! {
    async fn pages_walk_the_list_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut created = Vec::new();
        for n in 0..7 {
            created.push(fixtures::customer(&app.db, &format!("Customer {n}")).await.to_string());
        }
        let first = page(&app, json!({ "pageNumber": 1, "pageSize": 3 })).await;
        assert_eq!(
            first["pagination"],
            json!({ "pageNumber": 1, "pageSize": 3, "excludeTotalCount": false })
        );
        assert_eq!(first["totalCount"], 7);
        assert_eq!(first["hasNextPage"], true);
        let second = page(&app, json!({ "pageNumber": 2, "pageSize": 3 })).await;
        let last = page(&app, json!({ "pageNumber": 3, "pageSize": 3 })).await;
        assert_eq!(ids(&last["items"]).len(), 1, "last page is partial");
        assert_eq!(last["hasNextPage"], false);
        let walked: Vec<String> = [first, second, last]
            .iter()
            .flat_map(|p| ids(&p["items"]))
            .collect();
        assert_eq!(walked, created);

        let beyond = page(&app, json!({ "pageNumber": 4, "pageSize": 3 })).await;
        assert_eq!(beyond["items"], json!([]));
        assert_eq!(beyond["totalCount"], 7);
        assert_eq!(beyond["hasNextPage"], false);
    }

    async fn defaults_apply_without_a_page_argument(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for n in 0..25 {
            fixtures::customer(&app.db, &format!("Customer {n}")).await;
        }
        let default = app.query(&app.admin(), PAGE, json!({})).await["customers"].clone();
        assert_eq!(
            default["pagination"],
            json!({ "pageNumber": 1, "pageSize": 20, "excludeTotalCount": false })
        );
        assert_eq!(ids(&default["items"]).len(), 20);
        assert_eq!(default["totalCount"], 25);
        // API.md's `pageNumber: Int = 1`...: an explicit null is the default too.
        let nulls = page(
            &app,
            json!({ "pageNumber": null, "pageSize": null, "excludeTotalCount": null }),
        )
        .await;
        assert_eq!(nulls, default);
    }

    async fn excluded_total_is_null_and_not_counted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for n in 0..3 {
            fixtures::customer(&app.db, &format!("Customer {n}")).await;
        }
        let before = app.db_queries().await;
        let excluded = page(&app, json!({ "pageSize": 2, "excludeTotalCount": true })).await;
        let with_exclusion = app.db_queries().await - before;
        assert_eq!(excluded["totalCount"], Value::Null);
        assert_eq!(excluded["hasNextPage"], true);
        assert_eq!(excluded["pagination"]["excludeTotalCount"], true);

        let before = app.db_queries().await;
        let counted = page(&app, json!({ "pageSize": 2 })).await;
        let with_count = app.db_queries().await - before;
        assert_eq!(counted["totalCount"], 3);
        assert_eq!(with_count, with_exclusion + 1, "the count is one statement, skipped when excluded");
    }

    async fn page_size_and_number_are_validated(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.max_page_size = 50).await;
        for bad in [
            json!({ "pageSize": 51 }),
            json!({ "pageSize": 0 }),
            json!({ "pageSize": -1 }),
            json!({ "pageNumber": 0 }),
        ] {
            let response = app.graphql(Some(&app.admin()), PAGE, json!({ "page": bad })).await;
            assert_eq!(response.error_code(), "BAD_USER_INPUT", "{bad}");
            assert!(response.status < 500);
        }
        let ok = page(&app, json!({ "pageSize": 50 })).await;
        assert_eq!(ok["pagination"]["pageSize"], 50);
    }
}
