//! Writing JSON straight into the response buffer: no intermediate value tree, no
//! allocation per scalar.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

/// The response being written.
pub struct Out {
    buf: Vec<u8>,
}

impl Out {
    /// An empty buffer with room for a typical nested page.
    pub fn new() -> Out {
        Out {
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// The JSON written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Raw bytes: punctuation, or a key rendered by [`key`].
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// JSON written elsewhere, or `null`.
    pub fn opt_raw(&mut self, json: Option<&str>) {
        match json {
            Some(json) => self.raw(json.as_bytes()),
            None => self.null(),
        }
    }

    /// A JSON string.
    pub fn str(&mut self, value: &str) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, value);
    }

    /// A string, or `null`.
    pub fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.str(value),
            None => self.null(),
        }
    }

    /// `null`.
    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    /// `true` or `false`.
    pub fn bool(&mut self, value: bool) {
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// An integer.
    pub fn int(&mut self, value: impl itoa::Integer) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// A float, or `null` when it has no JSON form (as async-graphql writes it).
    pub fn opt_float(&mut self, value: Option<f64>) {
        match value {
            Some(value) if value.is_finite() => {
                let _ = serde_json::to_writer(&mut self.buf, &value);
            }
            _ => self.null(),
        }
    }

    /// A UUID as an `ID`: a quoted lower-case hyphenated string.
    pub fn id(&mut self, value: Uuid) {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        self.buf.push(b'"');
        self.buf
            .extend_from_slice(value.hyphenated().encode_lower(&mut text).as_bytes());
        self.buf.push(b'"');
    }

    /// A UUID, or `null`.
    pub fn opt_id(&mut self, value: Option<Uuid>) {
        match value {
            Some(value) => self.id(value),
            None => self.null(),
        }
    }

    /// A `DateTime` as async-graphql's scalar writes it (`to_rfc3339`).
    pub fn date_time(&mut self, value: &DateTime<Utc>) {
        self.str(&value.to_rfc3339_opts(SecondsFormat::AutoSi, false));
    }

    /// A list: `[`, each item written by `item`, separated by commas, `]`.
    pub fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Out, &T)) {
        self.buf.push(b'[');
        for (index, value) in items.iter().enumerate() {
            if index > 0 {
                self.buf.push(b',');
            }
            item(self, value);
        }
        self.buf.push(b']');
    }
}

/// A response key rendered once per plan, with its quotes and colon: `"firstName":`.
pub fn key(name: &str) -> Box<[u8]> {
    let mut key = Vec::with_capacity(name.len() + 3);
    let _ = serde_json::to_writer(&mut key, name);
    key.push(b':');
    key.into_boxed_slice()
}
