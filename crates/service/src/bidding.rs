//! Placing a bid: the fast path, the atomic decision in PostgreSQL (with or without an
//! idempotency key), and what follows a commit (cache, metrics, event streams).

use gavel_domain::{AuctionEvent, BidOutcome, BidRejection, BidRequest, PlacedBid};
use gavel_storage::{IdempotencyKey, Keyed};
use sha2::{Digest, Sha256};

use crate::{ServiceError, Services};

/// How a bid was answered.
#[derive(Debug)]
pub enum BidAnswer {
    /// Accepted now.
    Placed(PlacedBid),
    /// A repeat of a keyed request: its stored first outcome.
    Replayed(BidOutcome),
}

impl Services {
    /// Places `req`, under `key` when the client sent an `Idempotency-Key`.
    pub async fn place_bid(
        &self,
        req: BidRequest,
        key: Option<&str>,
    ) -> Result<BidAnswer, ServiceError> {
        let Some(key) = key else {
            // The fast path answers only un-keyed bids: a keyed repeat must get its first
            // outcome, not a fresh refusal.
            let now_ms = chrono::Utc::now().timestamp_millis();
            if let Some(too_low) = self
                .cache
                .check_bid(req.auction_id, req.amount.money(), now_ms)
                .await
            {
                count_outcome("fast_rejected");
                return Err(ServiceError::BidRefused(BidRejection::TooLow {
                    min_amount: too_low.min_amount.as_decimal(),
                }));
            }
            let decision = self.storage.place_bid(&req).await?;
            return self.after_decision(decision).await.map(BidAnswer::Placed);
        };
        let fingerprint = Sha256::digest(req.fingerprint().as_bytes());
        let keyed = self
            .storage
            .place_bid_once(
                &req,
                IdempotencyKey {
                    key,
                    request_hash: &fingerprint,
                },
            )
            .await?;
        match keyed {
            Keyed::Fresh(decision) => self.after_decision(decision).await.map(BidAnswer::Placed),
            Keyed::Replay(outcome) => Ok(BidAnswer::Replayed(outcome)),
            Keyed::KeyReused => Err(ServiceError::IdempotencyKeyReused),
        }
    }

    /// After a commit: raise the cache entry, count it, tell the streams.
    async fn after_decision(
        &self,
        decision: Result<PlacedBid, BidRejection>,
    ) -> Result<PlacedBid, ServiceError> {
        let placed = match decision {
            Ok(p) => p,
            Err(rejection) => {
                count_outcome(rejection_name(&rejection));
                return Err(rejection.into());
            }
        };
        if placed.accepted.becomes_highest {
            if let Some(next_min) = placed.accepted.next_min {
                self.cache
                    .record_highest(
                        placed.bid.auction_id,
                        placed.bid.amount,
                        next_min,
                        placed.ends_at.timestamp_millis(),
                    )
                    .await;
            }
        }
        count_outcome("accepted");
        for event in AuctionEvent::for_placed(&placed) {
            self.events.publish(event);
        }
        Ok(placed)
    }
}

/// The metric label of a refusal (the contract's error code).
fn rejection_name(r: &BidRejection) -> &'static str {
    match r {
        BidRejection::UnknownAuction => "auction_not_found",
        BidRejection::NotOpen(_) => "auction_not_open",
        BidRejection::TooLow { .. } => "bid_too_low",
        BidRejection::AlreadyBid => "already_bid",
    }
}

/// Counts a bid outcome (`accepted`, a refusal's code, or `fast_rejected`).
fn count_outcome(outcome: &'static str) {
    metrics::counter!("gavel_bids_total", "outcome" => outcome).increment(1);
}
