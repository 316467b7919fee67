//! The `kith` binary: schema, token, migrate, seed and `serve --demo`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{SECRET, TestApp, fresh_database};

pub(super) fn kith() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kith"));
    command
        .env_remove("JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

pub(super) fn temp_sqlite() -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("kith-cli-{}.db", uuid::Uuid::new_v4()));
    (format!("sqlite://{}?mode=rwc", path.display()), path)
}

pub(super) fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

#[test]
fn schema_file_matches_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    assert_eq!(
        kith::schema::sdl(),
        committed,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
    let output = kith().arg("schema").output().expect("kith schema");
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), committed);
}

#[test]
fn token_needs_a_secret_and_rejects_unknown_roles() {
    let output = kith()
        .args(["token", "--role", "ADMIN"])
        .output()
        .expect("kith token");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("JWT_SECRET"));
    let output = kith()
        .env("JWT_SECRET", SECRET)
        .args(["token", "--role", "KING"])
        .output()
        .expect("kith token");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role"));
}

/// Run `command` to completion (killed after 30 s: a server that should have refused to start
/// would otherwise hang the test); returns its exit status and stderr.
pub(super) fn run_briefly(mut command: Command) -> (std::process::ExitStatus, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kith");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kith kept running: it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    (status, stderr)
}

#[test]
fn short_secrets_are_refused() {
    for secret in [String::new(), "a".to_owned(), "x".repeat(31)] {
        let (url, path) = temp_sqlite();
        let mut serve = kith();
        serve
            .env("JWT_SECRET", &secret)
            .env("DATABASE_URL", &url)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        let (status, stderr) = run_briefly(serve);
        assert!(!status.success(), "serve with JWT_SECRET={secret:?}");
        assert!(stderr.contains("JWT_SECRET"), "{stderr}");
        assert!(stderr.contains("32"), "the message says how long: {stderr}");
        assert!(!path.exists(), "refused before touching the database");

        let mut token = kith();
        token
            .env("JWT_SECRET", &secret)
            .args(["token", "--role", "ADMIN"]);
        let (status, stderr) = run_briefly(token);
        assert!(!status.success(), "token with JWT_SECRET={secret:?}");
        assert!(stderr.contains("JWT_SECRET"), "{stderr}");
        remove_sqlite(&path);
    }
    let output = kith()
        .env("JWT_SECRET", "x".repeat(32))
        .args(["token", "--role", "ADMIN"])
        .output()
        .expect("kith token");
    assert!(
        output.status.success(),
        "32 bytes are enough: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn no_key_is_refused_beyond_loopback() {
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let (url, path) = temp_sqlite();
        let mut serve = kith();
        serve
            .env_remove("JWT_PUBLIC_KEY_FILE")
            .env("DATABASE_URL", &url)
            .args(["serve", "--bind", bind]);
        let (status, stderr) = run_briefly(serve);
        assert!(!status.success(), "serve on {bind} without a key");
        assert!(stderr.contains("JWT_SECRET"), "{stderr}");
        assert!(stderr.contains("JWT_PUBLIC_KEY_FILE"), "{stderr}");
        assert!(!path.exists(), "refused before touching the database");
        remove_sqlite(&path);
    }
}

#[test]
fn migrate_and_seed_are_deterministic() {
    let (url_a, path_a) = temp_sqlite();
    let (url_b, path_b) = temp_sqlite();
    let migrate = kith()
        .env("DATABASE_URL", &url_a)
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    for url in [&url_a, &url_b] {
        let seed = kith()
            .env("DATABASE_URL", url)
            .args(["seed", "--customers", "30", "--seed", "9"])
            .output()
            .expect("seed");
        assert!(
            seed.status.success(),
            "{}",
            String::from_utf8_lossy(&seed.stderr)
        );
        assert!(String::from_utf8_lossy(&seed.stdout).starts_with("30 customers, "));
    }
    let dump = |url: String| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            use sea_orm::{EntityTrait, QueryOrder};
            let db = sea_orm::Database::connect(&url).await.expect("connect");
            let contacts = entity::contact::Entity::find()
                .order_by_asc(entity::contact::Column::Id)
                .all(&db)
                .await
                .expect("contacts");
            let points = entity::contact_point::Entity::find()
                .order_by_asc(entity::contact_point::Column::Id)
                .all(&db)
                .await
                .expect("points");
            (contacts, points)
        })
    };
    let (contacts_a, points_a) = dump(url_a);
    let (contacts_b, points_b) = dump(url_b);
    assert!(contacts_a.len() > 60);
    assert_eq!(contacts_a, contacts_b, "same seed, same rows");
    assert_eq!(points_a, points_b);
    assert!(
        contacts_a.iter().any(|c| c.customer_id.is_none()),
        "shared contacts"
    );
    assert!(
        contacts_a.iter().any(|c| c.account_id.is_some()),
        "account-level contacts"
    );
    let kinds: std::collections::BTreeSet<_> = points_a.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds.len(), 7, "every kind of contact point: {kinds:?}");
    remove_sqlite(&path_a);
    remove_sqlite(&path_b);
}

/// `kith serve --demo` on an empty database: demo data, a printed ADMIN token that works, and
/// a clean exit on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_prints_a_working_token() {
    let (url, path) = temp_sqlite();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env_remove("JWT_SECRET")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kith serve --demo");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    // Both pipes are drained for the child's whole life: a reader that stops early would
    // make the server's later writes fail on a closed pipe.
    let (token_tx, token_rx) = std::sync::mpsc::channel();
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("eyJ") {
                let _ = token_tx.send(line.trim().to_owned());
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("GraphQL on ").nth(1) {
                let _ = address_tx.send(rest.trim().trim_end_matches("/graphql").to_owned());
            }
        }
    });
    let token = token_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("token printed");
    let address = address_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("address logged");
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { roles } customers { totalCount } }" }))
        .send()
        .await
        .expect("query")
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["me"]["roles"], json!(["ADMIN"]));
    assert!(
        body["data"]["customers"]["totalCount"]
            .as_u64()
            .expect("count")
            >= 10
    );
    // The playground is pre-authorised with the same development token.
    let page = reqwest::get(format!("{address}/"))
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains(&token));
    // SIGTERM: the server drains and exits cleanly.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status}");
    remove_sqlite(&path);
}

backend_tests! {
    async fn cli_tokens_are_accepted_by_the_server(backend: Backend) {
        let app = TestApp::spawn_with(backend, |settings| {
            settings.jwt_issuer = Some("https://kith.example".into());
            settings.jwt_audience = Some("crm".into());
        })
        .await;
        let customer = uuid::Uuid::now_v7();
        let output = kith()
            .env("JWT_SECRET", SECRET)
            .env("JWT_ISSUER", "https://kith.example")
            .env("JWT_AUDIENCE", "crm")
            .args(["token", "--role", "delegate", "--customer", &customer.to_string()])
            .args(["--permission", "restunmasktaxid", "--ttl", "5m", "--sub", "alice"])
            .output()
            .expect("kith token");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let token = String::from_utf8(output.stdout).expect("utf8");
        let data = app
            .query(token.trim(), "{ me { subject roles customers permissions } }", json!({}))
            .await;
        assert_eq!(
            data["me"],
            json!({
                "subject": "alice",
                "roles": ["DELEGATE"],
                "customers": [customer.to_string()],
                "permissions": ["restunmasktaxid"],
            })
        );
    }

    async fn migrate_applies_every_migration_once(backend: Backend) {
        let (url, _database) = fresh_database(backend).await;
        let migrate = || {
            kith()
                .env("DATABASE_URL", &url)
                .arg("migrate")
                .output()
                .expect("migrate")
        };

        let first = migrate();
        let second = migrate();

        for run in [&first, &second] {
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
        }
        use migration::MigratorTrait;
        // The first run names every migration it applied; the second has none left to apply.
        let names: Vec<String> = migration::Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect();
        let mut expected = format!("applied {} migration(s):\n", names.len());
        for name in &names {
            expected.push_str(&format!("  {name}\n"));
        }
        assert_eq!(String::from_utf8_lossy(&first.stdout), expected);
        assert_eq!(
            String::from_utf8_lossy(&second.stdout),
            "no pending migrations: the database is up to date\n"
        );
        use sea_orm::{ConnectionTrait, Statement};
        let db = sea_orm::Database::connect(&url).await.expect("connect");
        let applied = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM seaql_migrations",
            ))
            .await
            .expect("count migrations")
            .expect("a row")
            .try_get::<i64>("", "n")
            .expect("n");
        assert_eq!(applied, migration::Migrator::migrations().len() as i64);
        db.close().await.expect("close");
    }
}

#[test]
fn token_refuses_unknown_permissions() {
    let output = kith()
        .env("JWT_SECRET", SECRET)
        .args(["token", "--role", "ADMIN", "--permission", "nosuch"])
        .output()
        .expect("kith token");
    assert!(!output.status.success(), "an unknown permission is refused");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown permission `nosuch`"), "{stderr}");
    assert!(
        stderr.contains("restunmasktaxid"),
        "names the known ones: {stderr}"
    );
    let output = kith()
        .env("JWT_SECRET", SECRET)
        .args([
            "token",
            "--role",
            "ADMIN",
            "--permission",
            "RestUnmaskTaxId",
        ])
        .output()
        .expect("kith token");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn seeding_twice_with_one_seed_says_so() {
    let (url, path) = temp_sqlite();
    let seed = |seed: &str| {
        kith()
            .env("DATABASE_URL", &url)
            .args(["seed", "--customers", "3", "--seed", seed])
            .output()
            .expect("seed")
    };
    let first = seed("5");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = seed("5");
    assert!(!again.status.success(), "the same seed twice is refused");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already seeded with --seed 5"), "{stderr}");
    assert!(
        !stderr.contains("UNIQUE"),
        "no raw constraint text: {stderr}"
    );
    let other = seed("6");
    assert!(
        other.status.success(),
        "another seed adds different data: {}",
        String::from_utf8_lossy(&other.stderr)
    );
    remove_sqlite(&path);
}
