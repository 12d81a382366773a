//! Shared state handed to every handler.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use gavel_cache::Cache;
use gavel_storage::Storage;

use crate::keys::hash_token;

/// Most API-key hashes remembered in memory before the memo starts over.
const KEY_MEMO_CAPACITY: usize = 100_000;

/// Everything handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, the source of truth.
    pub storage: Storage,
    /// Redis fast path (possibly disabled).
    pub cache: Cache,
    /// SHA-256 of the admin token; the token itself is not kept.
    pub admin_token_hash: [u8; 32],
    /// Known API-key hashes → bidder ids, so a bid that the cache turns away needs no
    /// database round trip. Keys cannot be revoked yet, so entries never go stale; only
    /// keys found in the database are remembered, so junk tokens cannot fill it.
    pub key_memo: Arc<RwLock<HashMap<[u8; 32], i64>>>,
}

impl AppState {
    /// Builds the state.
    pub fn new(storage: Storage, cache: Cache, admin_token: &str) -> Self {
        Self {
            storage,
            cache,
            admin_token_hash: hash_token(admin_token),
            key_memo: Arc::new(RwLock::new(HashMap::new())),
        }
    }

    /// A remembered bidder id for an API-key hash.
    pub fn memo_get(&self, hash: &[u8; 32]) -> Option<i64> {
        self.key_memo.read().ok()?.get(hash).copied()
    }

    /// Remembers a bidder id for an API-key hash.
    pub fn memo_put(&self, hash: [u8; 32], bidder_id: i64) {
        if let Ok(mut m) = self.key_memo.write() {
            if m.len() >= KEY_MEMO_CAPACITY {
                m.clear();
            }
            m.insert(hash, bidder_id);
        }
    }
}

impl axum::extract::FromRef<AppState> for Storage {
    fn from_ref(state: &AppState) -> Storage {
        state.storage.clone()
    }
}
