//! How many WebSocket connections each token holds open (`KITH_WS_MAX_CONNECTIONS_PER_TOKEN`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

/// Open WebSocket connections per token, across the server (`KITH_WS_MAX_CONNECTIONS_PER_TOKEN`).
#[derive(Debug, Default)]
pub struct Connections(Mutex<HashMap<[u8; 32], usize>>);

/// One counted connection; uncounted when dropped.
pub struct Counted {
    registry: Arc<Connections>,
    key: [u8; 32],
}

impl Connections {
    /// Count a connection with `token`, unless `limit` are open with it already.
    pub fn enter(self: &Arc<Self>, token: &str, limit: usize) -> Option<Counted> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(Counted {
            registry: self.clone(),
            key,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self
            .registry
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}
