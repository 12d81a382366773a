//! Settlement: who wins a finished auction and what they pay.

use crate::auction::AuctionKind;
use crate::ids::{BidId, BidderId};
use crate::money::Money;

/// One accepted bid, as settlement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementBid {
    /// Bid id; lower ids were accepted earlier.
    pub bid_id: BidId,
    /// Who placed it.
    pub bidder_id: BidderId,
    /// How much.
    pub amount: Money,
}

/// The outcome of an auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The winning bid, if any.
    pub winner: Option<SettlementBid>,
    /// What the winner pays.
    pub clearing_price: Option<Money>,
}

/// How many of an auction's best bids (highest amount first, earliest first among equals)
/// settlement needs: the winner and the runner-up. Storage may pass only these.
pub const BIDS_NEEDED: usize = 2;

/// Settles an auction from its accepted bids (any order): all of them, or at least its
/// [`BIDS_NEEDED`] best.
pub fn settle(kind: AuctionKind, reserve: Money, bids: &[SettlementBid]) -> Settlement {
    let mut eligible: Vec<SettlementBid> = bids
        .iter()
        .copied()
        .filter(|b| b.amount >= reserve)
        .collect();
    // Highest first; among equals the earliest.
    eligible.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.bid_id.cmp(&b.bid_id)));
    let Some(winner) = eligible.first().copied() else {
        return Settlement {
            winner: None,
            clearing_price: None,
        };
    };
    let price = match kind {
        AuctionKind::English | AuctionKind::FirstPrice => winner.amount,
        AuctionKind::SecondPrice => {
            let second = bids
                .iter()
                .filter(|b| b.bid_id != winner.bid_id)
                .map(|b| b.amount)
                .max();
            match second {
                Some(s) => s.max(reserve),
                None if !reserve.is_zero() => reserve,
                None => winner.amount,
            }
        }
    };
    Settlement {
        winner: Some(winner),
        clearing_price: Some(price),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(id: i64, amount: &str) -> SettlementBid {
        SettlementBid {
            bid_id: BidId::new(id).unwrap(),
            bidder_id: BidderId::new(id * 10).unwrap(),
            amount: amount.parse().unwrap(),
        }
    }
    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn nobody_wins_without_a_bid_at_reserve() {
        let s = settle(AuctionKind::English, m("5"), &[b(1, "4.99")]);
        assert_eq!(s.winner, None);
        assert_eq!(settle(AuctionKind::FirstPrice, m("0"), &[]).winner, None);
    }

    #[test]
    fn first_price_earliest_wins_a_tie_and_pays_its_bid() {
        let s = settle(
            AuctionKind::FirstPrice,
            m("1"),
            &[b(3, "7"), b(2, "7"), b(1, "3")],
        );
        assert_eq!(s.winner.unwrap().bid_id.get(), 2);
        assert_eq!(s.clearing_price, Some(m("7")));
    }

    #[test]
    fn second_price_pays_second_highest_or_reserve() {
        let s = settle(AuctionKind::SecondPrice, m("1"), &[b(1, "10"), b(2, "4")]);
        assert_eq!(s.winner.unwrap().bid_id.get(), 1);
        assert_eq!(s.clearing_price, Some(m("4")));
        let s = settle(AuctionKind::SecondPrice, m("5"), &[b(1, "10"), b(2, "4")]);
        assert_eq!(s.clearing_price, Some(m("5")));
        let s = settle(AuctionKind::SecondPrice, m("5"), &[b(1, "10")]);
        assert_eq!(s.clearing_price, Some(m("5")));
        let s = settle(AuctionKind::SecondPrice, m("0"), &[b(1, "10")]);
        assert_eq!(s.clearing_price, Some(m("10")));
        // a tie: the earliest wins and pays the equal second amount
        let s = settle(AuctionKind::SecondPrice, m("0"), &[b(2, "6"), b(1, "6")]);
        assert_eq!(s.winner.unwrap().bid_id.get(), 1);
        assert_eq!(s.clearing_price, Some(m("6")));
    }

    #[test]
    fn the_two_best_bids_settle_like_all_of_them() {
        // A small deterministic generator: amounts with ties, above and below reserve.
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for round in 0..500 {
            let n = (next() % 7) as i64;
            let bids: Vec<SettlementBid> = (1..=n)
                .map(|id| b(id, &format!("{}", 1 + next() % 6)))
                .collect();
            let mut best = bids.clone();
            best.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.bid_id.cmp(&b.bid_id)));
            best.truncate(BIDS_NEEDED);
            let reserve = m(&format!("{}", next() % 5));
            for kind in [
                AuctionKind::English,
                AuctionKind::FirstPrice,
                AuctionKind::SecondPrice,
            ] {
                assert_eq!(
                    settle(kind, reserve, &bids),
                    settle(kind, reserve, &best),
                    "round {round}: {kind:?} {reserve} {bids:?}"
                );
            }
        }
    }
}
