//! Win-notice delivery: signed POSTs to winners' webhooks, retried with backoff.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use gavel_domain::notice::{backoff, signed_text};
use gavel_domain::WinNotice;
use gavel_storage::{Attempt, DueNotice, StorageError};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::Services;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Attempts before a notice is marked failed.
    pub max_attempts: u32,
    /// No answer within this is a failed attempt.
    pub timeout: Duration,
    /// First retry delay; doubles each time.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            timeout: Duration::from_secs(5),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

/// Notices claimed per round.
const BATCH: i64 = 32;

/// The `Gavel-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(signed_text(timestamp, body).as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The body a winner receives, as the contract spells it.
#[derive(Serialize)]
struct WinNoticeBody<'a> {
    event: &'static str,
    notice_id: &'a str,
    auction_id: i64,
    bid_id: i64,
    bidder_id: i64,
    clearing_price: String,
    currency: &'a str,
    closed_at: String,
}

/// Renders a notice; the same facts give the same body at every attempt.
pub fn notice_body(n: &WinNotice) -> String {
    let body = WinNoticeBody {
        event: "auction.won",
        notice_id: &n.notice_id,
        auction_id: n.auction_id.get(),
        bid_id: n.bid_id.get(),
        bidder_id: n.bidder_id.get(),
        clearing_price: n.clearing_price.to_string(),
        currency: &n.currency,
        closed_at: n.closed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

impl Services {
    /// Delivers every due notice once; returns how many were attempted.
    pub async fn deliver_notices(&self) -> usize {
        let settings = &self.webhooks;
        // The lease outlives one attempt, so no other instance sends the same notice meanwhile.
        let lease = (settings.timeout.as_secs() as i32).saturating_add(30);
        let due = match self.storage.claim_due_notices(BATCH, lease).await {
            Ok(due) => due,
            Err(StorageError::Unavailable) => return 0,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim win notices");
                return 0;
            }
        };
        let n = due.len();
        let attempts = due.into_iter().map(|notice| self.deliver_one(notice));
        futures::future::join_all(attempts).await;
        n
    }

    /// One attempt at one notice, recorded whatever its outcome.
    async fn deliver_one(&self, due: DueNotice) {
        let settings = &self.webhooks;
        let notice = &due.notice;
        let body = notice_body(notice);
        let sig = signature(&due.webhook_secret, Utc::now().timestamp(), &body);
        let sent = self
            .http_client
            .post(&due.url)
            .timeout(settings.timeout)
            .header("content-type", "application/json")
            .header("gavel-notice-id", &notice.notice_id)
            .header("gavel-signature", sig)
            .body(body)
            .send()
            .await;
        let made = due.attempts as u32 + 1;
        let attempt = match sent {
            Ok(r) if r.status().is_success() => Attempt::Delivered,
            other => {
                let error = match other {
                    Ok(r) => format!("answered {}", r.status().as_u16()),
                    Err(e) if e.is_timeout() => "no answer in time".to_string(),
                    Err(_) => "could not connect".to_string(),
                };
                let retry_at = (made < settings.max_attempts).then(|| {
                    let delay = backoff(made, settings.backoff_base, settings.backoff_max);
                    Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default()
                });
                Attempt::Failed { error, retry_at }
            }
        };
        match &attempt {
            Attempt::Delivered => {
                tracing::info!(auction_id = notice.auction_id.get(), notice_id = %notice.notice_id, "win notice delivered")
            }
            Attempt::Failed { error, retry_at } => tracing::warn!(
                auction_id = notice.auction_id.get(),
                notice_id = %notice.notice_id,
                attempt = made,
                error = %error,
                gives_up = retry_at.is_none(),
                "win notice not delivered"
            ),
        }
        if let Err(e) = self.storage.record_attempt(due.id, &attempt).await {
            // The lease runs out and the notice is tried again: at least once, never lost.
            tracing::warn!(error = %e, "could not record a win-notice attempt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_format() {
        let s = signature("whsec_x", 1700000000, "{}");
        let (t, v1) = s.split_once(",v1=").unwrap();
        assert_eq!(t, "t=1700000000");
        assert_eq!(v1.len(), 64);
        assert_eq!(s, signature("whsec_x", 1700000000, "{}"));
        assert_ne!(s, signature("whsec_y", 1700000000, "{}"));
    }
}
