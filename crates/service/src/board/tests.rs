//! The board's copies, refreshes and bound.

use super::*;
use chrono::{DateTime, Utc};

fn auction(id: i64, bid_count: i64) -> Auction {
    let t: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
    Auction {
        id: AuctionId::new(id).unwrap(),
        title: "t".into(),
        kind: AuctionKind::English,
        currency: "USD".into(),
        reserve_price: Money::ZERO,
        min_increment: Money::ZERO,
        extend_secs: 0,
        starts_at: t,
        ends_at: t,
        cancelled_at: None,
        highest: None,
        bid_count,
        result: None,
        created_at: t,
        as_of: t,
    }
}

/// Keeps a read of `a`, as a request that missed would.
fn fetched(board: &Board, a: &Auction) {
    let ticket = board.begin_read(a.id);
    board.put(ticket, a);
}

fn entries(board: &Board) -> usize {
    board.entries.read().unwrap().len()
}

#[test]
fn entries_untouched_for_a_while_go_once_the_board_is_full() {
    let board = Board::default();
    for id in 1..=MAX_ENTRIES as i64 {
        fetched(&board, &auction(id, 0));
        board.forget(AuctionId::new(id).unwrap());
    }
    let long_ago = Instant::now()
        .checked_sub(IDLE * 2)
        .expect("a clock past boot");
    for e in board.entries.write().unwrap().values_mut() {
        e.touched = long_ago;
    }
    assert_eq!(entries(&board), MAX_ENTRIES);
    fetched(&board, &auction(MAX_ENTRIES as i64 + 1, 0));
    assert_eq!(entries(&board), 1);
}

#[test]
fn a_board_busier_than_its_bound_sweeps_again_once_it_has_doubled() {
    let board = Board::default();
    for id in 1..=MAX_ENTRIES as i64 + 1 {
        fetched(&board, &auction(id, 0));
    }
    // Everything was touched just now: nothing went, and the next sweep waits.
    assert_eq!(entries(&board), MAX_ENTRIES + 1);
    assert_eq!(board.sweep_at.load(Ordering::Relaxed), 2 * MAX_ENTRIES);
}

#[test]
fn only_a_copy_read_again_is_queued_for_a_refresh() {
    let board = Board::default();
    let (once, again) = (auction(1, 0), auction(2, 0));
    fetched(&board, &once);
    fetched(&board, &again);
    let (due, next) = board.take_due();
    assert!(
        due.is_empty() && next.is_none(),
        "read once: nothing queued"
    );
    assert!(board.get(again.id).is_some());
    assert!(
        board.get(again.id).is_some(),
        "queued once, however often read"
    );
    let (due, next) = board.take_due();
    assert!(due.is_empty(), "not due before REFRESH_AFTER");
    assert!(next.is_some_and(|n| n <= REFRESH_AFTER));
    std::thread::sleep(REFRESH_AFTER);
    let (due, next) = board.take_due();
    assert_eq!(
        due.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [again.id]
    );
    assert_eq!(next, None);
}

#[test]
fn a_refresh_is_kept_unless_the_auction_changed_meanwhile() {
    let board = Board::default();
    fetched(&board, &auction(1, 0));
    board.get(AuctionId::new(1).unwrap());
    std::thread::sleep(REFRESH_AFTER);
    let (due, _) = board.take_due();
    let (id, ticket) = due[0];
    board.put(ticket, &auction(1, 5));
    assert_eq!(
        board.get(id).unwrap().auction.bid_count,
        5,
        "kept, and fresh again"
    );
    // Read again since: queued again, then a change lands while it is being fetched.
    std::thread::sleep(REFRESH_AFTER);
    let (due, _) = board.take_due();
    let (_, ticket) = due[0];
    board.forget(id);
    board.put(ticket, &auction(1, 6));
    assert!(
        board.get(id).is_none(),
        "a read older than the change is not kept"
    );
}
