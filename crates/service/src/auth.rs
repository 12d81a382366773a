//! Who is calling: the admin token, bidders' API keys, and how tokens are made and compared.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gavel_domain::{BidderId, BidderStatus, Viewer};
use gavel_storage::{KeyOwner, Storage};
use rand::RngCore;
use rustc_hash::FxHashMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ServiceError;

/// Prefix of bidder API keys, so a leaked key is recognisable in a secret scanner.
pub const API_KEY_PREFIX: &str = "gvl_";
/// Prefix of webhook secrets.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";
/// Most API-key hashes remembered in memory before the memo starts over.
const KEY_MEMO_CAPACITY: usize = 100_000;
/// How long what PostgreSQL said of a key is trusted from memory: a revoked or expired
/// key, a disabled or enabled bidder, a new rate limit reach every instance this soon,
/// with or without Redis (each instance asks PostgreSQL again, once per key per period).
pub const KEY_MEMO_TTL: Duration = Duration::from_secs(2);

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// Holder of the admin token.
    Admin,
    /// Holder of a bidder's API key.
    Bidder(BidderId),
}

impl Caller {
    /// How the visibility rules see this caller.
    pub fn viewer(self) -> Viewer {
        match self {
            Caller::Admin => Viewer::Admin,
            Caller::Bidder(id) => Viewer::Bidder(id),
        }
    }
}

/// 32 random bytes, URL-safe base64, behind `prefix`.
fn random_token(prefix: &str) -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)).into()
}

/// A new bidder API key.
pub fn new_api_key() -> SecretString {
    random_token(API_KEY_PREFIX)
}

/// A new webhook signing secret.
pub fn new_webhook_secret() -> SecretString {
    random_token(WEBHOOK_SECRET_PREFIX)
}

/// SHA-256 of a token. Keys carry 256 random bits, so a fast hash is enough: there is
/// nothing to brute-force, and a slow hash would cost every bid a millisecond.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two hashes in constant time.
pub fn hashes_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Who called, and the limit that applies to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The caller.
    pub caller: Caller,
    /// A bidder's own bids-a-second limit (per instance); `None`: the server default.
    pub rate_limit: Option<u32>,
}

/// A key's owner as PostgreSQL last said, and when.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    bidder: BidderId,
    status: BidderStatus,
    rate_limit: Option<u32>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    fetched: Instant,
}

impl Remembered {
    fn of(owner: &KeyOwner) -> Self {
        Self {
            bidder: owner.bidder_id,
            status: owner.status,
            rate_limit: owner.rate_limit,
            expires_at: owner.expires_at,
            fetched: Instant::now(),
        }
    }

    /// What the key is worth now.
    fn identity(&self) -> Result<Identity, ServiceError> {
        if self.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            return Err(ServiceError::Unauthorized);
        }
        if self.status == BidderStatus::Disabled {
            return Err(ServiceError::BidderDisabled);
        }
        Ok(Identity {
            caller: Caller::Bidder(self.bidder),
            rate_limit: self.rate_limit,
        })
    }
}

/// Turns bearer tokens into callers.
pub struct Authenticator {
    /// SHA-256 of the admin token; the token itself is not kept.
    admin_token_hash: [u8; 32],
    /// Known API-key hashes → their owners, so that most requests need no database round
    /// trip; each entry is trusted for [`KEY_MEMO_TTL`]. Only keys found in the database
    /// are remembered, so junk tokens cannot fill it; their keys are SHA-256 digests of
    /// real keys, which no client can steer into one bucket, so hashed with Fx.
    key_memo: RwLock<FxHashMap<[u8; 32], Remembered>>,
}

impl Authenticator {
    /// Recognises `admin_token` as the admin.
    pub fn new(admin_token: &SecretString) -> Self {
        Self {
            admin_token_hash: hash_token(admin_token.expose_secret()),
            key_memo: RwLock::default(),
        }
    }

    /// Who `token` belongs to: `Unauthorized` for no live key, `BidderDisabled` for the
    /// key of a disabled bidder.
    pub async fn identify(&self, storage: &Storage, token: &str) -> Result<Identity, ServiceError> {
        let hash = hash_token(token);
        if hashes_equal(&hash, &self.admin_token_hash) {
            return Ok(Identity {
                caller: Caller::Admin,
                rate_limit: None,
            });
        }
        if let Some(known) = self.remembered(&hash) {
            return known.identity();
        }
        match storage.find_key(&hash).await? {
            Some(owner) if hashes_equal(&owner.key_hash, &hash) => {
                let known = Remembered::of(&owner);
                self.remember(hash, known);
                known.identity()
            }
            _ => {
                self.forget(&hash);
                Err(ServiceError::Unauthorized)
            }
        }
    }

    /// A fresh memo entry for `hash`.
    fn remembered(&self, hash: &[u8; 32]) -> Option<Remembered> {
        let memo = self.key_memo.read().ok()?;
        memo.get(hash)
            .filter(|r| r.fetched.elapsed() < KEY_MEMO_TTL)
            .copied()
    }

    fn remember(&self, hash: [u8; 32], known: Remembered) {
        if let Ok(mut m) = self.key_memo.write() {
            if m.len() >= KEY_MEMO_CAPACITY {
                m.clear();
            }
            m.insert(hash, known);
        }
    }

    /// Drops a key PostgreSQL no longer knows (revoked); junk tokens, never remembered,
    /// take only the read lock.
    fn forget(&self, hash: &[u8; 32]) {
        let known = self.key_memo.read().is_ok_and(|m| m.contains_key(hash));
        if known {
            if let Ok(mut m) = self.key_memo.write() {
                m.remove(hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_prefixed() {
        let a = new_api_key();
        let b = new_api_key();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with(API_KEY_PREFIX));
        assert_eq!(a.expose_secret().len(), API_KEY_PREFIX.len() + 43);
    }

    #[test]
    fn hash_comparison() {
        assert!(hashes_equal(&hash_token("a"), &hash_token("a")));
        assert!(!hashes_equal(&hash_token("a"), &hash_token("b")));
    }
}
