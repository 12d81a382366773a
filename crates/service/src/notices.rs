//! Notice delivery: signed POSTs to bidders' webhooks (wins and losses), retried with
//! backoff.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use gavel_domain::notice::{backoff, signed_text};
use gavel_domain::time::rfc3339_millis;
use gavel_domain::webhook::{may_reach, url_problem, Targets};
use gavel_domain::{LossNotice, Notice, WinNotice};
use gavel_storage::{Attempt, DueNotice, NoticeRef, StorageError};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::ServiceError;
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
    /// Whether notices may go to private addresses (`GAVEL_WEBHOOK_ALLOW_PRIVATE`).
    pub targets: Targets,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            timeout: Duration::from_secs(5),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            targets: Targets::PublicOnly,
        }
    }
}

/// Notices claimed per round.
pub(crate) const BATCH: i64 = 256;
/// Fresh notices being sent at once: past it, the next waits for a slot (so that a burst
/// of endings opens no more connections at once than a claimed round).
pub(crate) const IN_FLIGHT: usize = BATCH as usize;
/// Most notices handed from settlement to the sender and not yet sent.
const FRESH_CAP: usize = 20_000;

/// The `Gavel-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(signed_text(timestamp, body).as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The HTTP client for notices: rustls, no redirects, and a resolver that drops every
/// address `targets` does not allow, so a name that resolves inward (now or later) is never
/// connected to.
///
/// Fails rather than fall back to a default client, which would follow redirects and
/// connect anywhere.
pub fn notice_client(targets: Targets) -> Result<reqwest::Client, ServiceError> {
    reqwest::Client::builder()
        .user_agent(concat!("gavel/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(Guarded(targets)))
        .build()
        .map_err(|e| ServiceError::Setup(format!("the win-notice HTTP client: {e}")))
}

/// Resolves names to the addresses notices may reach.
struct Guarded(Targets);

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let targets = self.0;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<std::net::SocketAddr> =
                found.filter(|a| may_reach(a.ip(), targets)).collect();
            if allowed.is_empty() {
                return Err("the name resolves only to addresses notices may not reach".into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
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

/// The counter of attempts for a notice's kind.
fn attempts_metric(notice: &Notice) -> &'static str {
    match notice {
        Notice::Won(_) => "gavel_win_notice_attempts_total",
        Notice::Lost(_) => "gavel_loss_notice_attempts_total",
    }
}

/// The body a losing bidder receives, as the contract spells it: nothing of other bids
/// but the winner's price.
#[derive(Serialize)]
struct LossNoticeBody<'a> {
    event: &'static str,
    notice_id: &'a str,
    auction_id: i64,
    bidder_id: i64,
    bid_id: i64,
    loss_reason: i16,
    min_to_win: Option<String>,
    clearing_price: Option<String>,
    currency: &'a str,
    closed_at: String,
}

/// Renders a notice; the same facts give the same body at every attempt.
pub fn notice_body(notice: &Notice) -> String {
    let text = match notice {
        Notice::Won(n) => serde_json::to_string(&win_body(n)),
        Notice::Lost(n) => serde_json::to_string(&loss_body(n)),
    };
    // Structs of strings and numbers: serialising cannot fail.
    text.unwrap_or_default()
}

fn win_body(n: &WinNotice) -> WinNoticeBody<'_> {
    WinNoticeBody {
        event: "auction.won",
        notice_id: &n.notice_id,
        auction_id: n.auction_id.get(),
        bid_id: n.bid_id.get(),
        bidder_id: n.bidder_id.get(),
        clearing_price: n.clearing_price.to_string(),
        currency: &n.currency,
        closed_at: rfc3339_millis(&n.closed_at),
    }
}

fn loss_body(n: &LossNotice) -> LossNoticeBody<'_> {
    LossNoticeBody {
        event: "auction.lost",
        notice_id: &n.notice_id,
        auction_id: n.auction_id.get(),
        bidder_id: n.bidder_id.get(),
        bid_id: n.bid_id.get(),
        loss_reason: n.loss_reason.code(),
        min_to_win: n.min_to_win.map(gavel_domain::money::format_amount),
        clearing_price: n.clearing_price.map(|p| p.to_string()),
        currency: &n.currency,
        closed_at: rfc3339_millis(&n.closed_at),
    }
}

impl Services {
    /// Every notice owed for auction `id`, with its delivery state (the auction must exist).
    pub async fn notices_of(
        &self,
        id: gavel_domain::AuctionId,
    ) -> Result<Vec<gavel_domain::SentNotice>, ServiceError> {
        self.auction(id).await?;
        Ok(self.storage.notices_of(id).await?)
    }

    /// How long a notice is leased to the instance sending it: longer than one attempt, so
    /// no other instance sends the same notice meanwhile.
    pub(crate) fn notice_lease(&self) -> i32 {
        (self.webhooks.timeout.as_secs() as i32).saturating_add(30)
    }

    /// Passes notices this instance just queued (leased to it) to the sender, and wakes it.
    pub(crate) fn hand_to_sender(&self, notices: Vec<DueNotice>) {
        let mut fresh = self.fresh_notices.lock().unwrap_or_else(|e| e.into_inner());
        // Past the cap (webhooks slower than settlement), the rest wait in PostgreSQL for
        // their lease to run out, then are claimed like any due notice.
        let room = FRESH_CAP.saturating_sub(fresh.len());
        fresh.extend(notices.into_iter().take(room));
        drop(fresh);
        self.notices_queued.notify_one();
    }

    /// Sends the notices settlement handed over, each as soon as one of the
    /// [`IN_FLIGHT`] delivery slots is free (waiting for one when all are taken), and
    /// records their outcomes in the background ([`Services::record_soon`]).
    ///
    /// A notice does not wait for a round of others to finish, nor for PostgreSQL to
    /// record them: at 1,000 auctions a second, waiting on whole rounds held notices
    /// back by the slowest POST of the round before.
    pub async fn deliver_fresh_notices(self: &Arc<Self>) {
        let fresh: Vec<DueNotice> = {
            let mut fresh = self.fresh_notices.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *fresh)
        };
        for notice in fresh {
            let Ok(slot) = self.delivery_slots.clone().acquire_owned().await else {
                break;
            };
            let services = self.clone();
            tokio::spawn(async move {
                let made = services.deliver_one(notice).await;
                drop(slot);
                services.record_soon(made);
            });
        }
    }

    /// Queues an attempt's outcome for the recorder ([`Services::record_fresh_attempts`]).
    fn record_soon(&self, made: (NoticeRef, Attempt)) {
        self.attempts_made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(made);
        self.attempts_queued.notify_one();
    }

    /// Records every attempt queued by [`Services::record_soon`] in one statement; the
    /// recorder loop calls it whenever some are queued, so one statement is in flight at
    /// a time and covers whatever arrived meanwhile. An outcome not recorded (PostgreSQL
    /// away, or a stop first) leaves its notice leased: it is sent again when the lease
    /// runs out, at least once, never lost.
    pub async fn record_fresh_attempts(&self) {
        let made =
            std::mem::take(&mut *self.attempts_made.lock().unwrap_or_else(|e| e.into_inner()));
        if made.is_empty() {
            return;
        }
        if let Err(e) = self.storage.record_attempts(&made).await {
            tracing::warn!(error = %e, "could not record notice attempts");
        }
    }

    /// Resolves when attempts are waiting to be recorded.
    pub async fn attempts_queued(&self) {
        self.attempts_queued.notified().await;
    }

    /// Claims and delivers every due notice once (retries, and notices no instance is
    /// sending); returns how many were attempted.
    pub async fn deliver_notices(&self) -> usize {
        let due = match self
            .storage
            .claim_due_notices(BATCH, self.notice_lease())
            .await
        {
            Ok(due) => due,
            Err(StorageError::Unavailable) => return 0,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim notices");
                return 0;
            }
        };
        self.deliver(due).await
    }

    /// One attempt at each of `due`, at once, then their outcomes recorded.
    async fn deliver(&self, due: Vec<DueNotice>) -> usize {
        let n = due.len();
        if n == 0 {
            return 0;
        }
        let attempts = due.into_iter().map(|notice| self.deliver_one(notice));
        let made = futures::future::join_all(attempts).await;
        // One statement for the whole round: a busy exchange means hundreds a second.
        if let Err(e) = self.storage.record_attempts(&made).await {
            // The lease runs out and the notices are tried again: at least once, never lost.
            tracing::warn!(error = %e, "could not record notice attempts");
        }
        n
    }

    /// One attempt at one notice; what came of it, for the round to record.
    async fn deliver_one(&self, due: DueNotice) -> (NoticeRef, Attempt) {
        let which = (due.outbox, due.id);
        let settings = &self.webhooks;
        let notice = &due.notice;
        if let Some(problem) = url_problem(&due.url, settings.targets) {
            // The URL itself points inward (an address literal or a local name): no retry
            // can help.
            metrics::counter!(attempts_metric(notice), "outcome" => "failed").increment(1);
            let refused = Attempt::Failed {
                error: format!("refused: the webhook URL {problem}"),
                retry_at: None,
            };
            tracing::warn!(
                auction_id = notice.auction_id().get(),
                event = notice.event(),
                "notice refused: its URL points inward"
            );
            return (which, refused);
        }
        let body = notice_body(notice);
        let sig = signature(&due.webhook_secret, Utc::now().timestamp(), &body);
        let sent = self
            .http_client
            .post(&due.url)
            .timeout(settings.timeout)
            .header("content-type", "application/json")
            .header("gavel-notice-id", notice.notice_id())
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
        let outcome = match &attempt {
            Attempt::Delivered => "delivered",
            Attempt::Failed {
                retry_at: Some(_), ..
            } => "retry",
            Attempt::Failed { retry_at: None, .. } => "failed",
        };
        metrics::counter!(attempts_metric(notice), "outcome" => outcome).increment(1);
        match &attempt {
            Attempt::Delivered => {
                tracing::info!(auction_id = notice.auction_id().get(), notice_id = %notice.notice_id(), event = notice.event(), "notice delivered")
            }
            Attempt::Failed { error, retry_at } => tracing::warn!(
                auction_id = notice.auction_id().get(),
                notice_id = %notice.notice_id(), event = notice.event(),
                attempt = made,
                error = %error,
                gives_up = retry_at.is_none(),
                event = notice.event(),
                "notice not delivered"
            ),
        }
        (which, attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_resolving_inward_are_not_connected_to() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let name = || reqwest::dns::Name::from_str("localhost").unwrap();
        assert!(Guarded(Targets::PublicOnly).resolve(name()).await.is_err());
        let allowed: Vec<_> = Guarded(Targets::AllowPrivate)
            .resolve(name())
            .await
            .unwrap()
            .collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()) && !allowed.is_empty());
    }

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
