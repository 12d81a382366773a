//! Secrets: bidder API keys, webhook secrets, and how tokens are compared.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of bidder API keys, so a leaked key is recognisable in a secret scanner.
pub const API_KEY_PREFIX: &str = "gvl_";
/// Prefix of webhook secrets.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// 32 random bytes, URL-safe base64, behind `prefix`.
fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new bidder API key.
pub fn new_api_key() -> String {
    random_token(API_KEY_PREFIX)
}

/// A new webhook signing secret.
pub fn new_webhook_secret() -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_prefixed() {
        let a = new_api_key();
        let b = new_api_key();
        assert_ne!(a, b);
        assert!(a.starts_with(API_KEY_PREFIX));
        assert_eq!(a.len(), API_KEY_PREFIX.len() + 43);
    }

    #[test]
    fn hash_comparison() {
        assert!(hashes_equal(&hash_token("a"), &hash_token("a")));
        assert!(!hashes_equal(&hash_token("a"), &hash_token("b")));
    }
}
