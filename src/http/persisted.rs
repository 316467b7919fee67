//! Persisted documents: Apollo's automatic persisted queries (APQ) and trusted documents.
//!
//! - **APQ** (<https://www.apollographql.com/docs/apollo-server/performance/apq>): a client
//!   sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the query; an unknown
//!   hash answers `PERSISTED_QUERY_NOT_FOUND`, and the client sends the query once more with
//!   its hash, which registers it. The cache is bounded in entries and in bytes, so a client
//!   registering junk only evicts older entries.
//! - **Trusted documents** (`KITH_TRUSTED_DOCUMENTS`): a JSON manifest `{hash: document}`, as
//!   GraphQL Code Generator's persisted documents and the Relay compiler write it, read at
//!   start-up (every document must parse). Then only those documents run: by their hash (the
//!   same `persistedQuery` extension), or sent whole when their SHA-256 is in the manifest.
//!   Nothing is registered at run time.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{Request, Value};
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The request extension that names a persisted document.
pub const EXTENSION: &str = "persistedQuery";

/// Documents the APQ cache keeps at most.
const CACHE_ENTRIES: usize = 1_000;

/// Bytes of document text the APQ cache keeps at most.
const CACHE_BYTES: usize = 8 * 1024 * 1024;

/// Why a request's persisted document cannot run; each is a request error with this code.
#[derive(Debug, PartialEq, Eq)]
pub enum PersistedError {
    /// The hash is not known (APQ: send the query with it; trusted mode: not allowed).
    NotFound,
    /// The query sent does not have the hash sent with it.
    HashMismatch,
    /// Not `{version: 1, sha256Hash: "<64 hex digits>"}`.
    Malformed(&'static str),
    /// Trusted-documents mode, and this document is not in the manifest.
    NotTrusted,
}

impl PersistedError {
    /// The error's `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            PersistedError::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            PersistedError::NotTrusted => "PERSISTED_QUERY_NOT_TRUSTED",
            PersistedError::HashMismatch | PersistedError::Malformed(_) => "BAD_REQUEST",
        }
    }

    /// The error's message (APQ clients look for `PersistedQueryNotFound`).
    pub fn message(&self) -> String {
        match self {
            PersistedError::NotFound => "PersistedQueryNotFound".to_owned(),
            PersistedError::HashMismatch => "provided sha256Hash does not match query".to_owned(),
            PersistedError::Malformed(what) => format!("extensions.persistedQuery: {what}"),
            PersistedError::NotTrusted => "this server runs trusted documents only, and this \
                                           document is not one of them"
                .to_owned(),
        }
    }
}

/// The APQ cache, or the trusted manifest.
pub struct Persisted {
    /// `KITH_TRUSTED_DOCUMENTS`, by lower-case hex SHA-256 (or the manifest's own key).
    trusted: Option<HashMap<String, Arc<str>>>,
    cache: Mutex<Cache>,
}

struct Cache {
    documents: LruCache<String, Arc<str>>,
    bytes: usize,
}

impl Persisted {
    /// APQ with an empty cache, or trusted documents from the manifest at `manifest`.
    pub fn new(manifest: Option<&Path>) -> Result<Persisted, AppError> {
        let trusted = manifest.map(read_manifest).transpose()?;
        Ok(Persisted {
            trusted,
            cache: Mutex::new(Cache {
                documents: LruCache::new(
                    NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
                ),
                bytes: 0,
            }),
        })
    }

    /// Whether only trusted documents run.
    pub fn trusted_only(&self) -> bool {
        self.trusted.is_some()
    }

    /// Put the document `request` names in its `query` (or check and register the one it
    /// sent); in trusted mode, refuse any other.
    pub fn resolve(&self, request: &mut Request) -> Result<(), PersistedError> {
        let hash = persisted_hash(request)?;
        match (&self.trusted, hash) {
            (Some(manifest), Some(hash)) => {
                let document = manifest.get(&hash).ok_or(PersistedError::NotFound)?;
                if !request.query.is_empty() && request.query != **document {
                    return Err(PersistedError::HashMismatch);
                }
                request.query = document.to_string();
                Ok(())
            }
            (Some(manifest), None) => {
                if manifest.contains_key(&sha256_hex(&request.query)) {
                    Ok(())
                } else {
                    Err(PersistedError::NotTrusted)
                }
            }
            (None, Some(hash)) if request.query.is_empty() => {
                let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
                let document = cache.documents.get(&hash).ok_or(PersistedError::NotFound)?;
                request.query = document.to_string();
                Ok(())
            }
            (None, Some(hash)) => {
                if sha256_hex(&request.query) != hash {
                    return Err(PersistedError::HashMismatch);
                }
                self.register(hash, &request.query);
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    fn register(&self, hash: String, document: &str) {
        if document.len() > CACHE_BYTES {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.documents.contains(&hash) {
            return;
        }
        cache.bytes += document.len();
        if let Some((_, evicted)) = cache.documents.push(hash, Arc::from(document)) {
            cache.bytes -= evicted.len();
        }
        while cache.bytes > CACHE_BYTES {
            match cache.documents.pop_lru() {
                Some((_, evicted)) => cache.bytes -= evicted.len(),
                None => break,
            }
        }
    }
}

/// The hash `extensions.persistedQuery` names, if it names one.
fn persisted_hash(request: &Request) -> Result<Option<String>, PersistedError> {
    let Some(persisted) = request.extensions.get(EXTENSION) else {
        return Ok(None);
    };
    let Value::Object(persisted) = persisted else {
        return Err(PersistedError::Malformed("must be an object"));
    };
    match persisted.get("version") {
        Some(Value::Number(version)) if version.as_u64() == Some(1) => {}
        _ => return Err(PersistedError::Malformed("`version` must be 1")),
    }
    match persisted.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(PersistedError::Malformed(
            "`sha256Hash` must be 64 hexadecimal digits",
        )),
    }
}

/// Lower-case hex SHA-256 of `text`, as APQ clients compute it.
fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// Read a manifest `{hash: document}`; keys may carry the `sha256:` prefix of the GraphQL over
/// HTTP persisted-documents draft. A manifest that cannot be read or holds a document that
/// does not parse stops the start, naming the problem.
fn read_manifest(path: &Path) -> Result<HashMap<String, Arc<str>>, AppError> {
    let invalid = |problem: String| {
        AppError::internal(format!(
            "KITH_TRUSTED_DOCUMENTS ({}): {problem}",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(path).map_err(|error| invalid(error.to_string()))?;
    let manifest: HashMap<String, String> = serde_json::from_str(&text)
        .map_err(|error| invalid(format!("not a JSON object of strings: {error}")))?;
    if manifest.is_empty() {
        return Err(invalid("the manifest holds no document".to_owned()));
    }
    manifest
        .into_iter()
        .map(|(key, document)| {
            async_graphql::parser::parse_query(&document)
                .map_err(|error| invalid(format!("document `{key}` does not parse: {error}")))?;
            let key = key
                .strip_prefix("sha256:")
                .unwrap_or(&key)
                .to_ascii_lowercase();
            Ok((key, Arc::from(document)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apq(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            EXTENSION.to_owned(),
            async_graphql::value!({ "version": 1, "sha256Hash": hash }),
        );
        request
    }

    #[test]
    fn hashes_as_apq_clients_do() {
        // FIPS 180-2's test vectors.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn an_unknown_hash_is_not_found_until_registered() {
        let persisted = Persisted::new(None).expect("apq");
        let query = "{ me { subject } }";
        let hash = sha256_hex(query);
        assert_eq!(
            persisted.resolve(&mut apq("", &hash)),
            Err(PersistedError::NotFound)
        );
        assert_eq!(persisted.resolve(&mut apq(query, &hash)), Ok(()));
        let mut by_hash = apq("", &hash);
        assert_eq!(persisted.resolve(&mut by_hash), Ok(()));
        assert_eq!(by_hash.query, query);
        let wrong = "0".repeat(64);
        assert_eq!(
            persisted.resolve(&mut apq(query, &wrong)),
            Err(PersistedError::HashMismatch)
        );
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let persisted = Persisted::new(None).expect("apq");
        let big = format!("{{ me {{ subject }} }} #{}", "x".repeat(CACHE_BYTES / 3));
        for index in 0..10 {
            let query = format!("{big}{index}");
            assert_eq!(
                persisted.resolve(&mut apq(&query, &sha256_hex(&query))),
                Ok(())
            );
        }
        let cache = persisted.cache.lock().expect("cache");
        assert!(cache.bytes <= CACHE_BYTES, "{}", cache.bytes);
        assert_eq!(cache.documents.len(), 2);
    }
}
