//! Snapshots of whole responses (`insta`), with what differs from run to run redacted.
//!
//! One snapshot per scenario, in `snapshots/` beside the test file: the SQLite and the
//! PostgreSQL variant of a test compare against the same file, so both backends must answer
//! alike. Ids become `[id N]`, numbered in order of first appearance, so a snapshot still shows
//! which ids are the same one; timestamps become `[timestamp]`. A value under an id or a
//! timestamp key that is not one is left as it is, for the snapshot to show.
//!
//! Nothing is written in CI: with `CI` set, insta's default (`INSTA_UPDATE=auto`) only
//! compares. Locally a mismatch or a new snapshot leaves a `.snap.new` beside it and fails;
//! accept it with `cargo insta review`, or rerun the test with `INSTA_UPDATE=always`.

use std::sync::{Arc, Mutex};

use chrono::DateTime;
use insta::internals::{Content, ContentPath, Redaction};
use uuid::Uuid;

/// Assert that a response body (a `serde_json::Value`) matches `snapshots/<name>.snap` beside
/// the calling test file.
macro_rules! assert_response_snapshot {
    ($name:literal, $body:expr $(,)?) => {
        $crate::support::snapshot::settings().bind(|| insta::assert_json_snapshot!($name, $body))
    };
}

/// The keys whose values are ids, at any depth.
const ID_KEYS: [&str; 6] = [
    "id",
    "deletedId",
    "customerId",
    "accountId",
    "contactId",
    "addressId",
];

/// The keys whose values are timestamps, at any depth.
const TIMESTAMP_KEYS: [&str; 2] = ["createdAt", "updatedAt"];

/// The settings every response snapshot is taken with.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    // The name alone, not the module path: `sqlite::x` and `postgres::x` share one snapshot.
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // One selector for all the id keys: ids are numbered in one pass, in reading order.
    settings.add_redaction(&any_depth(&ID_KEYS), IdNumbers::default().redaction());
    settings.add_redaction(
        &any_depth(&TIMESTAMP_KEYS),
        insta::dynamic_redaction(redact_timestamp),
    );
    settings.add_redaction(".**.trackingId", "[tracking id]");
    settings
}

/// A selector for each of `keys` at any depth.
fn any_depth(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!(".**.{key}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids seen so far in one snapshot, in order of first appearance.
#[derive(Clone, Default)]
struct IdNumbers(Arc<Mutex<Vec<String>>>);

impl IdNumbers {
    fn redaction(&self) -> Redaction {
        let seen = self.clone();
        insta::dynamic_redaction(move |value: Content, _: ContentPath<'_>| {
            match value.as_str().filter(|s| Uuid::parse_str(s).is_ok()) {
                Some(id) => Content::String(format!("[id {}]", seen.number(id))),
                None => value,
            }
        })
    }

    fn number(&self, id: &str) -> usize {
        let mut seen = self.0.lock().expect("id numbers");
        let index = match seen.iter().position(|known| known == id) {
            Some(index) => index,
            None => {
                seen.push(id.to_owned());
                seen.len() - 1
            }
        };
        index + 1
    }
}

fn redact_timestamp(value: Content, _: ContentPath<'_>) -> Content {
    match value.as_str() {
        Some(s) if DateTime::parse_from_rfc3339(s).is_ok() => "[timestamp]".into(),
        _ => value,
    }
}
