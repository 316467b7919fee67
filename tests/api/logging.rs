//! What the server logs: a failed batch once, not once per field that waited on it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::support::SECRET;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_is_logged_once() {
    let path = std::env::temp_dir().join(format!("kith-log-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let kith = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kith"));
        command
            .env("DATABASE_URL", &url)
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "info");
        command
    };
    let seeded = kith()
        .args(["seed", "--customers", "20", "--seed", "5"])
        .output()
        .expect("kith seed");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let token = kith()
        .args(["token", "--role", "ADMIN"])
        .output()
        .expect("kith token");
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();

    let mut server = kith()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kith serve");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = server.stderr.take().expect("stderr");
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            collected.lock().expect("lines").push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let found = lines.lock().expect("lines").iter().find_map(|line| {
            let start = line.find("GraphQL on http://")? + "GraphQL on ".len();
            Some(line[start..].trim_end_matches("/graphql").trim().to_owned())
        });
        if let Some(base) = found {
            break base;
        }
        assert!(
            Instant::now() < deadline,
            "server did not start: {:?}",
            lines.lock().expect("lines")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Take the contact points away under the running server: every batch that reads them fails.
    let db = Database::connect(&url).await.expect("connect");
    db.execute_unprepared("ALTER TABLE contact_point RENAME TO contact_point_gone")
        .await
        .expect("rename");
    let query =
        "{ customers(page: { pageSize: 20 }) { items { contacts { contactPoints { id } } } } }";
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST");
    let body: Value = response.json().await.expect("json");
    let _ = server.kill();
    let _ = server.wait();
    let errors = body["errors"].as_array().expect("errors").clone();
    assert!(
        errors.len() > 10,
        "every contact's contactPoints failed: {body}"
    );
    assert!(
        errors.iter().all(|e| e["extensions"]["code"] == "INTERNAL"),
        "{body}"
    );
    assert!(
        !body.to_string().contains("contact_point"),
        "no SQL text reaches the client: {body}"
    );

    std::thread::sleep(Duration::from_millis(200));
    let logged = lines.lock().expect("lines").clone();
    let error_lines: Vec<_> = logged
        .iter()
        .filter(|line| line.contains("ERROR"))
        .collect();
    assert_eq!(
        error_lines.len(),
        1,
        "one ERROR line for one failed batch: {error_lines:#?}"
    );
    assert!(
        error_lines[0].contains("ContactPointsByContact"),
        "{}",
        error_lines[0]
    );
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}
