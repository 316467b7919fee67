//! The change feed across instances (API.md): PostgreSQL's `NOTIFY`, sent in the writing
//! transaction, reaches every instance's subscribers; after a PostgreSQL restart, what the
//! instance missed is read back from the history in order.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kith::auth::Role;
use serde_json::json;

use super::subscriptions::{Incoming, Ws};
use crate::support::fixtures::World;
use crate::support::process::start_server;
use crate::support::{Backend, SECRET, TestApp};

const CUSTOMER_CHANGED: &str = "subscription($id: ID!) { customerChanged(customerId: $id) { \
    change { id action objectId changes { field newValue } } } }";

/// A `kith serve` process, killed when dropped.
struct ServerProcess {
    child: Child,
    address: String,
}

impl ServerProcess {
    fn start(database_url: &str) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kith"));
        command
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .env("KITH_LOG_FORMAT", "text")
            .args(["serve", "--bind", "127.0.0.1:0"]);
        let (child, address) = start_server(command);
        ServerProcess { child, address }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn rename(app: &TestApp, id: uuid::Uuid, name: &str) {
    // Retried: right after a PostgreSQL restart the first statements may find the server
    // still starting (503 UNAVAILABLE), which a client would retry too.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = app
            .graphql(
                Some(&app.admin()),
                "mutation($id: ID!, $name: String!) { updateCustomer(id: $id, input: {name: $name}) { userErrors { message } } }",
                json!({ "id": id, "name": name }),
            )
            .await;
        if response.status == 200 && response.body.get("errors").is_none() {
            assert_eq!(
                response.body["data"]["updateCustomer"]["userErrors"],
                json!([])
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the write kept failing: {}",
            response.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `name` values of the next `count` events of subscription `id`, in arrival order, with
/// their change ids.
async fn names(ws: &mut Ws, id: &str, count: usize) -> Vec<(u64, String)> {
    let mut seen = Vec::new();
    while seen.len() < count {
        let payload = ws.event(id).await;
        let change = &payload["data"]["customerChanged"]["change"];
        let name = change["changes"]
            .as_array()
            .and_then(|fields| fields.iter().find(|f| f["field"] == "name"))
            .and_then(|f| f["newValue"].as_str())
            .unwrap_or_default()
            .to_owned();
        let change_id = change["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("id");
        seen.push((change_id, name));
    }
    seen
}

async fn quiet(ws: &mut Ws) {
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv().await, Incoming::Json(json!({ "type": "pong" })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn a_write_through_one_process_reaches_subscribers_of_another() {
    let app = TestApp::spawn(Backend::postgres()).await;
    let world = World::create(&app.db).await;
    let other = ServerProcess::start(&app.database_url);
    let a = app.token(&[Role::Customer], Some(vec![world.a]), &[]);
    let b = app.token(&[Role::Customer], Some(vec![world.b]), &[]);
    let mut on_other = Ws::connected(&other.address, &a).await;
    on_other
        .subscribe("a", CUSTOMER_CHANGED, json!({ "id": world.a }))
        .await;
    let mut other_customer = Ws::connected(&other.address, &b).await;
    other_customer
        .subscribe("b", CUSTOMER_CHANGED, json!({ "id": world.b }))
        .await;
    let mut on_this = Ws::connected(&app.address, &a).await;
    on_this
        .subscribe("a", CUSTOMER_CHANGED, json!({ "id": world.a }))
        .await;
    for ws in [&mut on_other, &mut other_customer, &mut on_this] {
        quiet(ws).await;
    }

    let started = Instant::now();
    rename(&app, world.a, "Alpha One").await;
    assert_eq!(names(&mut on_other, "a", 1).await[0].1, "Alpha One");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "across processes within 1 s: {:?}",
        started.elapsed()
    );
    assert_eq!(names(&mut on_this, "a", 1).await[0].1, "Alpha One");
    assert_eq!(
        other_customer.recv_within(Duration::from_secs(1)).await,
        None,
        "another customer hears nothing"
    );

    // And the other way: a write through the second process reaches this one's subscriber.
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", other.address))
        .bearer_auth(app.admin())
        .json(&json!({ "query": "mutation($id: ID!) { updateCustomer(id: $id, input: {name: \"Alpha Two\"}) { userErrors { message } } }", "variables": { "id": world.a } }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(names(&mut on_this, "a", 1).await[0].1, "Alpha Two");
    assert_eq!(names(&mut on_other, "a", 1).await[0].1, "Alpha Two");
}

/// A throwaway PostgreSQL cluster in a temporary directory, stopped and removed when dropped.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries under /usr/lib/postgresql")
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .expect("initdb");
        let dir =
            std::env::temp_dir().join(format!("kith-cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let cluster = Cluster { dir, bin, port };
        cluster.chown();
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        cluster.pg_ctl("start");
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// PostgreSQL refuses to run as root: the cluster belongs to `postgres` then.
    fn as_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
    }

    fn chown(&self) {
        if Cluster::as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.dir)
                .status()
                .expect("chown");
            assert!(status.success());
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if Cluster::as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect(program);
        assert!(
            output.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-m",
                "fast",
                "-w",
                action,
            ],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(if Cluster::as_root() {
            "runuser"
        } else {
            "true"
        })
        .args(if Cluster::as_root() {
            vec!["-u", "postgres", "--"]
        } else {
            vec![]
        })
        .arg(self.bin.join("pg_ctl"))
        .args(["-D", &self.data(), "-m", "immediate", "stop"])
        .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP proxy to PostgreSQL that can cut an instance off: every connection through it
/// dropped, new ones refused, until healed.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let task = tokio::spawn({
            let (open, links) = (open.clone(), links.clone());
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue;
                    }
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) =
                            tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                        {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    links.lock().expect("links").push(link);
                }
            }
        });
        Proxy {
            port,
            open,
            links,
            task,
        }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn heal(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kith_pg_tests), ignore = "KITH_TEST_DATABASE_URL is not set")]
async fn after_a_postgresql_restart_subscriptions_go_on_and_missed_changes_arrive_in_order() {
    let cluster = Cluster::start();
    let writer = TestApp::spawn(Backend::Postgres(cluster.url())).await;
    let world = World::create(&writer.db).await;
    // A second instance reaches PostgreSQL through a proxy that can cut it off.
    let proxy = Proxy::start(cluster.port).await;
    let through_proxy = writer
        .database_url
        .replace(&format!(":{}/", cluster.port), &format!(":{}/", proxy.port));
    let reader = TestApp::spawn_at(&through_proxy).await;
    let watcher = writer.token(&[Role::Customer], Some(vec![world.a]), &[]);
    let mut on_writer = Ws::connected(&writer.address, &watcher).await;
    let mut on_reader = Ws::connected(&reader.address, &watcher).await;
    for ws in [&mut on_writer, &mut on_reader] {
        ws.subscribe("a", CUSTOMER_CHANGED, json!({ "id": world.a }))
            .await;
        quiet(ws).await;
    }
    rename(&writer, world.a, "before restart").await;
    assert_eq!(names(&mut on_writer, "a", 1).await[0].1, "before restart");
    assert_eq!(names(&mut on_reader, "a", 1).await[0].1, "before restart");

    // The reader instance loses PostgreSQL, which restarts (every connection cut) and takes
    // writes through the other instance: the reader's LISTEN connection hears none of them.
    proxy.cut();
    cluster.pg_ctl("restart");
    let written: Vec<String> = (1..=5).map(|n| format!("after restart {n}")).collect();
    for name in &written {
        rename(&writer, world.a, name).await;
    }
    let expected: Vec<&str> = written.iter().map(String::as_str).collect();
    // The writer's own subscribers go on.
    let seen = names(&mut on_writer, "a", written.len()).await;
    assert_eq!(
        seen.iter()
            .map(|(_, name)| name.as_str())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        on_reader.recv_within(Duration::from_secs(1)).await,
        None,
        "cut off: nothing yet"
    );

    // Back in reach, the reader catches up from the history: every missed change, in order,
    // once.
    proxy.heal();
    let seen = names(&mut on_reader, "a", written.len()).await;
    assert_eq!(
        seen.iter()
            .map(|(_, name)| name.as_str())
            .collect::<Vec<_>>(),
        expected,
        "all of them, in order"
    );
    assert!(
        seen.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "in change order: {seen:?}"
    );
    assert_eq!(
        on_reader.recv_within(Duration::from_secs(2)).await,
        None,
        "and each once"
    );
    rename(&writer, world.a, "live again").await;
    assert_eq!(names(&mut on_reader, "a", 1).await[0].1, "live again");
    reader.stop().await;
    writer.stop().await;
}
