//! The books after the drill, read on the final primary: what every acknowledged answer
//! promised must be there, and nothing the rules forbid.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::load::Seen;
use crate::receiver::Received;

/// Records every write of an auction's settlement (a second write would be a second
/// settlement). gavel never reads these; later migrations leave them alone.
pub const SETTLEMENT_LOG: &str = r#"
CREATE TABLE IF NOT EXISTS drill_settlements (auction_id BIGINT NOT NULL,
                                              at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
CREATE OR REPLACE FUNCTION drill_log_settlement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO drill_settlements (auction_id) VALUES (NEW.id);
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS drill_settled ON auctions;
CREATE TRIGGER drill_settled AFTER UPDATE OF closed_at ON auctions
    FOR EACH ROW WHEN (NEW.closed_at IS NOT NULL) EXECUTE FUNCTION drill_log_settlement();
"#;

/// An auction the drill let end, as the books have it.
#[derive(sqlx::FromRow)]
struct Ended {
    id: i64,
    closed: bool,
    /// Writes of its settlement (more than one would be a second settlement).
    settlements: i64,
    /// Its win notice's state, when one is owed.
    state: Option<String>,
    notice_id: Option<String>,
}

/// One check: its name, whether it held, and what was found.
fn check(name: &str, ok: bool, detail: Value) -> Value {
    json!({"check": name, "ok": ok, "detail": detail})
}

/// Every check; the run fails unless all hold. `no_answer_allowed`: an instance was killed,
/// so a request may have had no answer at all (never a wrong one).
pub async fn run(
    pool: &PgPool,
    seen: &Seen,
    received: &Received,
    no_answer_allowed: bool,
) -> Result<Vec<Value>, String> {
    let db = |e: sqlx::Error| e.to_string();
    let mut out = Vec::new();

    let mut statuses: HashMap<u16, u64> = HashMap::new();
    for a in &seen.answers {
        *statuses.entry(a.status).or_default() += 1;
    }
    let bad: Vec<String> = statuses
        .keys()
        .filter(|s| !([201, 409, 503].contains(*s) || (no_answer_allowed && **s == 0)))
        .map(|s| s.to_string())
        .collect();
    let mut codes_503: HashMap<&str, u64> = HashMap::new();
    for a in seen.answers.iter().filter(|a| a.status == 503) {
        *codes_503
            .entry(a.code.as_deref().unwrap_or("none"))
            .or_default() += 1;
    }
    out.push(check(
        "only 201, 409 and 503",
        bad.is_empty(),
        json!({"statuses": statuses, "others": bad, "codes_503": codes_503}),
    ));

    let acked: Vec<(i64, i64, Decimal)> = seen
        .answers
        .iter()
        .filter_map(|a| Some((a.bid_id?, a.auction, a.amount)))
        .collect();
    let ids: Vec<i64> = acked.iter().map(|a| a.0).collect();
    let stored: HashMap<i64, (i64, Decimal)> = sqlx::query_as::<_, (i64, i64, Decimal)>(
        "SELECT id, auction_id, amount FROM bids WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .map_err(db)?
    .into_iter()
    .map(|(id, a, amt)| (id, (a, amt)))
    .collect();
    let lost: Vec<i64> = acked
        .iter()
        .filter(|(id, auction, amount)| stored.get(id) != Some(&(*auction, *amount)))
        .map(|a| a.0)
        .collect();
    out.push(check(
        "every acknowledged bid stored with its amount",
        lost.is_empty(),
        json!({"acknowledged": acked.len(), "missing_or_different": lost}),
    ));

    let falling: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
             SELECT b.amount, lag(b.amount) OVER (PARTITION BY b.auction_id ORDER BY b.id) AS prev,
                    a.min_increment
             FROM bids b JOIN auctions a ON a.id = b.auction_id WHERE a.kind = 'english') s
         WHERE prev IS NOT NULL AND amount < prev + min_increment",
    )
    .fetch_one(pool)
    .await
    .map_err(db)?;
    out.push(check(
        "accepted english bids rising by id",
        falling == 0,
        json!({"violations": falling}),
    ));

    let off_books: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auctions a
         WHERE a.bid_count <> (SELECT count(*) FROM bids WHERE auction_id = a.id)
            OR a.highest_bid_id IS DISTINCT FROM
               (SELECT id FROM bids WHERE auction_id = a.id ORDER BY amount DESC, id LIMIT 1)",
    )
    .fetch_one(pool)
    .await
    .map_err(db)?;
    out.push(check(
        "every auction's bid count and highest bid agree with its bids",
        off_books == 0,
        json!({"auctions_off": off_books}),
    ));

    let shorts: Vec<i64> = seen.shorts.iter().map(|s| s.id).collect();
    let rows: Vec<Ended> = sqlx::query_as(
        "SELECT a.id, a.closed_at IS NOT NULL AS closed,
                (SELECT count(*) FROM drill_settlements d WHERE d.auction_id = a.id) AS settlements,
                n.state, n.notice_id::TEXT AS notice_id
         FROM auctions a LEFT JOIN win_notices n ON n.auction_id = a.id
         WHERE a.id = ANY($1)",
    )
    .bind(&shorts)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let unsettled: Vec<i64> = rows.iter().filter(|r| !r.closed).map(|r| r.id).collect();
    let twice: Vec<i64> = rows
        .iter()
        .filter(|r| r.settlements > 1)
        .map(|r| r.id)
        .collect();
    out.push(check(
        "auctions that ended settled exactly once",
        unsettled.is_empty() && twice.is_empty() && rows.len() == shorts.len(),
        json!({"ended": shorts.len(), "unsettled": unsettled, "settled_more_than_once": twice}),
    ));

    let received = received.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let got: HashSet<&str> = received
        .iter()
        .filter_map(|v| v["notice_id"].as_str())
        .collect();
    let with_notice: Vec<&Ended> = rows.iter().filter(|r| r.notice_id.is_some()).collect();
    let undelivered: Vec<i64> = with_notice
        .iter()
        .filter(|r| {
            r.state.as_deref() != Some("delivered")
                || !got.contains(r.notice_id.as_deref().unwrap_or(""))
        })
        .map(|r| r.id)
        .collect();
    let mut per_auction: HashMap<i64, HashSet<&str>> = HashMap::new();
    for v in &received {
        if let (Some(a), Some(n)) = (v["auction_id"].as_i64(), v["notice_id"].as_str()) {
            per_auction.entry(a).or_default().insert(n);
        }
    }
    let doubled: Vec<i64> = per_auction
        .iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(a, _)| *a)
        .collect();
    out.push(check(
        "win notices sent, one per auction",
        undelivered.is_empty() && doubled.is_empty() && !with_notice.is_empty(),
        json!({"owed": with_notice.len(), "received": received.len(),
               "undelivered": undelivered, "auctions_with_two_notice_ids": doubled}),
    ));
    Ok(out)
}
