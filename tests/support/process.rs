//! `kith serve` as a child process, for tests that need a server of their own outside this
//! process (environment settings, a second instance).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Spawn `command` (a `kith serve`) with its output piped, drain both pipes for the child's
/// whole life (a reader that stopped would make its later writes fail), and return the child
/// and the `http://IP:PORT` it logged.
pub fn start_server(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kith serve");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || BufReader::new(stdout).lines().for_each(drop));
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("GraphQL on ").nth(1) {
                let _ = address_tx.send(rest.trim().trim_end_matches("/graphql").to_owned());
            }
        }
    });
    let address = address_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("address logged");
    (child, address)
}
