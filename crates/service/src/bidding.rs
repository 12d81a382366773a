//! Placing a bid: the fast path, the atomic decision in PostgreSQL (with or without an
//! idempotency key), and what follows a commit (cache, metrics, event streams).

use gavel_cache::{FastCheck, HighestRaise};
use gavel_domain::{AuctionEvent, BidOutcome, BidRejection, BidRequest, Money, PlacedBid};
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
    /// Places `req`, under `key` when the client sent an `Idempotency-Key`, decided by
    /// `deadline` or not at all (`Gavel-Deadline-Ms`).
    pub async fn place_bid(
        &self,
        req: BidRequest,
        key: Option<&str>,
        deadline: Option<std::time::Instant>,
    ) -> Result<BidAnswer, ServiceError> {
        let answer = self.place_bid_by(req, key, deadline).await;
        if let Err(ServiceError::DeadlineExceeded) = &answer {
            count_outcome("deadline_exceeded");
        }
        answer
    }

    async fn place_bid_by(
        &self,
        req: BidRequest,
        key: Option<&str>,
        deadline: Option<std::time::Instant>,
    ) -> Result<BidAnswer, ServiceError> {
        let Some(key) = key else {
            // The fast paths answer only un-keyed bids: a keyed repeat must get its first
            // outcome, not a fresh refusal.
            if let Some(min_amount) = self.hopeless(&req).await {
                count_outcome("fast_rejected");
                return Err(ServiceError::BidRefused(BidRejection::TooLow {
                    min_amount: min_amount.as_decimal(),
                }));
            }
            let decision = self.storage.place_bid(&req, deadline).await?;
            return self.after_decision(decision).map(BidAnswer::Placed);
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
                deadline,
            )
            .await?;
        match keyed {
            Keyed::Fresh(decision) => self.after_decision(decision).map(BidAnswer::Placed),
            Keyed::Replay(outcome) => Ok(BidAnswer::Replayed(outcome)),
            Keyed::KeyReused => Err(ServiceError::IdempotencyKeyReused),
        }
    }

    /// The least amount `req`'s auction needs when `req` is below it, as far as this
    /// instance (then Redis) knows; `None` when the bid may win or nobody can tell.
    async fn hopeless(&self, req: &BidRequest) -> Option<Money> {
        let amount = req.amount.money();
        let now = chrono::Utc::now();
        if let Some(floor) = self.board.floor(req.auction_id, now) {
            // This instance's floor is as recent as Redis's for the auctions it serves.
            let hopeless = amount < floor;
            count_fast_path("memory", if hopeless { "hit" } else { "miss" });
            return hopeless.then_some(floor);
        }
        let answer = self
            .cache
            .check_bid(req.auction_id, amount, now.timestamp_millis())
            .await;
        let result = match &answer {
            FastCheck::Hopeless(_) => Some("hit"),
            FastCheck::CannotTell => Some("miss"),
            FastCheck::Unavailable => Some("error"),
            FastCheck::Disabled => None,
        };
        if let Some(result) = result {
            count_fast_path("redis", result);
        }
        match answer {
            FastCheck::Hopeless(too_low) => Some(too_low.min_amount),
            _ => None,
        }
    }

    /// After a commit: update what this instance knows, queue the Redis raise, count it,
    /// tell the streams.
    fn after_decision(
        &self,
        decision: Result<PlacedBid, BidRejection>,
    ) -> Result<PlacedBid, ServiceError> {
        let placed = match decision {
            Ok(p) => p,
            Err(rejection) => {
                count_outcome(rejection.code());
                return Err(rejection.into());
            }
        };
        self.board.apply_placed(&placed);
        if placed.accepted.becomes_highest {
            if let Some(next_min) = placed.accepted.next_min {
                self.raises.push(HighestRaise {
                    auction_id: placed.bid.auction_id,
                    amount: placed.bid.amount,
                    next_min,
                    ends_at_ms: placed.ends_at.timestamp_millis(),
                });
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
/// Counts a fast-path check: `hit` refused a hopeless bid, `miss` let it through to
/// PostgreSQL, `error` could not ask (Redis down or slow).
fn count_fast_path(tier: &'static str, result: &'static str) {
    metrics::counter!("gavel_fast_path_checks_total", "tier" => tier, "result" => result)
        .increment(1);
}

/// Counts a bid outcome (`accepted`, a refusal's code, or `fast_rejected`).
fn count_outcome(outcome: &'static str) {
    metrics::counter!("gavel_bids_total", "outcome" => outcome).increment(1);
}
