//! Nested reads are batched: the statement count does not grow with the number of parents.
//! On PostgreSQL, up to ten root objects are written by one statement for all their lists.

use serde_json::json;

use crate::support::{Backend, TestApp};

const NESTED: &str = "query($size: Int!) {
  customers(page: { pageSize: $size }) {
    totalCount
    items {
      name
      accounts {
        name
        contacts {
          displayName
          contactPoints { kind formatted }
          addresses { city }
        }
      }
      contacts {
        displayName
        contactPoints { kind formatted }
        addresses { city }
      }
    }
  }
}";

/// Seed `customers` customers into a fresh server and count the statements of `NESTED`.
async fn statements_for(backend: Backend, customers: usize) -> (u64, usize) {
    // Fifty customers with everything nested are costed far above the default complexity
    // (contact points at their cap of 50 each): this test counts statements, not cost.
    let app = TestApp::spawn_with(backend, |s| s.max_complexity = 10_000_000).await;
    kith::seed::seed(&app.db, customers, 7).await.expect("seed");
    let before = app.db_queries().await;
    let data = app
        .query(&app.admin(), NESTED, json!({ "size": customers }))
        .await;
    let statements = app.db_queries().await - before;
    let items = data["customers"]["items"].as_array().expect("items");
    assert_eq!(items.len(), customers);
    let contacts: usize = items
        .iter()
        .map(|c| {
            c["contacts"].as_array().map_or(0, Vec::len)
                + c["accounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a["contacts"].as_array().map_or(0, Vec::len))
                    .sum::<usize>()
        })
        .sum();
    (statements, contacts)
}

backend_tests! {
    async fn one_and_fifty_customers_cost_the_same_statements(backend: Backend) {
        let postgres = matches!(backend, Backend::Postgres(_));
        let (one, one_contacts) = statements_for(backend.clone(), 1).await;
        let (twelve, _) = statements_for(backend.clone(), 12).await;
        let (fifty, fifty_contacts) = statements_for(backend, 50).await;
        eprintln!(
            "nested query: {one} statements for 1 customer ({one_contacts} contacts), \
             {twelve} for 12, {fifty} for 50 customers ({fifty_contacts} contacts)"
        );
        assert!(fifty_contacts > 50 * one_contacts.min(2), "the 50-customer graph is big");
        assert_eq!(twelve, fifty);
        // Page, count, and one statement per nested field and level.
        assert!(fifty <= 9, "{fifty} statements");
        if postgres {
            // Up to ten customers, PostgreSQL writes them whole: page, count, and one
            // statement for everything nested (src/read/sql.rs).
            assert_eq!(one, 3, "{one} statements");
        } else {
            assert_eq!(one, fifty);
        }
    }
}
