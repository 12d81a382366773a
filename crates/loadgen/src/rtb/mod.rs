//! The `rtb` workload, the exchange's rhythm: short auctions created at a steady rate,
//! a few bids on each from different bidders, and a receiver for the notices gavel sends
//! when they close. It measures how late auctions settle (`closed_at` − `ends_at`, from
//! the notices) and how late their notices arrive (arrival − `ends_at`).

mod receiver;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::cli::Args;
use crate::schedule::{send_offset, Window};

/// What the receiver and the senders share.
#[derive(Default)]
pub struct Book {
    /// Measured auctions: their end and how many notices each should bring.
    auctions: HashMap<i64, Expected>,
    /// Settlement lag (µs) per notice's auction, counted once per auction.
    settled: Option<Histogram<u64>>,
    /// Notice arrival lag (µs) after the auction's end.
    arrived: Option<Histogram<u64>>,
    /// Notices that came, by kind (`auction.won`, `auction.lost`).
    kinds: HashMap<String, u64>,
    /// Notices seen twice (the same `notice_id`), which a receiver must dedupe.
    repeats: u64,
    /// Notices for auctions this run did not measure (warm-up ones, or not ours).
    unmeasured: u64,
    /// `notice_id`s seen.
    seen: std::collections::HashSet<String>,
}

/// A measured auction.
struct Expected {
    ends_at: DateTime<Utc>,
    settled_seen: bool,
    notices: u32,
    /// A bid on it was accepted (before its end): it has a winner, and notices are due.
    won: bool,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds")
}

impl Book {
    /// Records a notice's arrival.
    fn notice(&mut self, body: &Value, now: DateTime<Utc>) {
        let id = body["notice_id"].as_str().unwrap_or_default().to_string();
        if !self.seen.insert(id) {
            self.repeats += 1;
            return;
        }
        let kind = body["event"].as_str().unwrap_or("?").to_string();
        let auction = body["auction_id"].as_i64().unwrap_or(-1);
        let closed_at = body["closed_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let Some(e) = self.auctions.get_mut(&auction) else {
            self.unmeasured += 1;
            return;
        };
        *self.kinds.entry(kind).or_default() += 1;
        e.notices += 1;
        let us = |d: chrono::TimeDelta| d.num_microseconds().unwrap_or(0).max(0) as u64;
        let lag = us(now - e.ends_at);
        self.arrived
            .get_or_insert_with(histogram)
            .saturating_record(lag);
        if let (false, Some(closed)) = (e.settled_seen, closed_at) {
            e.settled_seen = true;
            let lag = us(closed.with_timezone(&Utc) - e.ends_at);
            self.settled
                .get_or_insert_with(histogram)
                .saturating_record(lag);
        }
    }
}

/// What one auction's senders saw.
#[derive(Default)]
struct Sent {
    create_failed: u64,
    bids: HashMap<u16, u64>,
    bid_errors: u64,
    create_us: Option<Histogram<u64>>,
    bid_us: Option<Histogram<u64>>,
    max_lag: Duration,
}

/// Runs the workload and returns its JSON report.
pub async fn run(client: reqwest::Client, args: &Args) -> Result<Value, String> {
    let token = args
        .admin_token
        .clone()
        .ok_or("rtb needs --admin-token (or GAVEL_ADMIN_TOKEN)")?;
    let rate = args.rate.unwrap_or(100.0);
    let book = Arc::new(Mutex::new(Book::default()));
    let receiver = receiver::start(book.clone()).await?;
    let keys = create_bidders(&client, args, &token, &receiver).await?;
    let keys = Arc::new(keys);
    let sent = Arc::new(Mutex::new(Sent::default()));
    let limit = Arc::new(Semaphore::new(args.connections as usize));
    let window = Window::starting_now(args.warmup(), args.measured());
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    let mut created = 0u64;
    for i in 0u64.. {
        let due = window.t0 + send_offset(i, rate);
        if window.is_over(due) {
            break;
        }
        created += 1;
        tokio::time::sleep_until(due.into()).await;
        let lag = Instant::now().saturating_duration_since(due);
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (client, keys, book, sent) = (client.clone(), keys.clone(), book.clone(), sent.clone());
        let (url, token) = (args.url.clone(), token.clone());
        let (auction_ms, per_auction, deadline_ms) =
            (args.auction_ms, args.bids_per_auction, args.deadline_ms);
        let measured = window.is_measured(due);
        tasks.spawn(async move {
            let _permit = permit;
            let a = One {
                client: &client,
                url: &url,
                token: &token,
                keys: &keys,
                auction_ms,
                per_auction,
                deadline_ms,
            };
            a.run(i, measured, &book, &sent).await;
            let mut s = sent.lock().unwrap_or_else(|e| e.into_inner());
            s.max_lag = s.max_lag.max(lag);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let sending = started.elapsed();
    // Notices for the last auctions: they end `auction_ms` after creation, then settle.
    let wait_until =
        Instant::now() + Duration::from_millis(args.auction_ms) + Duration::from_secs(10);
    loop {
        let missing = missing(&book.lock().unwrap_or_else(|e| e.into_inner()));
        if missing == 0 || Instant::now() > wait_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let book = book.lock().unwrap_or_else(|e| e.into_inner());
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    Ok(report(args, rate, &book, &sent, created, sending))
}

/// Measured auctions with a winner (every bidder has a webhook) that no notice has come
/// for yet. An auction whose bids all came after its end (the load generator falling
/// behind on saturated cores) closes without a winner and owes none.
fn missing(book: &Book) -> u64 {
    book.auctions
        .values()
        .filter(|e| e.won && e.notices == 0)
        .count() as u64
}

/// Measured auctions none of whose bids was accepted before the end.
fn unwon(book: &Book) -> u64 {
    book.auctions.values().filter(|e| !e.won).count() as u64
}

/// A quantile in milliseconds (the histograms hold microseconds).
fn q(h: &Option<Histogram<u64>>, p: f64) -> f64 {
    h.as_ref()
        .map_or(0.0, |h| h.value_at_quantile(p) as f64 / 1000.0)
}

/// The run as JSON; `created` counts the auctions it set out to create (warm-up included),
/// `sending` how long creating them and sending their bids took.
fn report(
    args: &Args,
    rate: f64,
    book: &Book,
    sent: &Sent,
    created: u64,
    sending: Duration,
) -> Value {
    let measured = book.auctions.len() as u64;
    let secs = args.measured().as_secs_f64();
    let lat = |h: &Option<Histogram<u64>>| json!({"p50": q(h, 0.5), "p99": q(h, 0.99), "max": h.as_ref().map_or(0.0, |h| h.max() as f64 / 1000.0)});
    let bids: serde_json::Map<String, Value> = sent
        .bids
        .iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    json!({
        "label": args.label,
        "workload": "rtb",
        "rate": rate,
        "auction_ms": args.auction_ms,
        "bids_per_auction": args.bids_per_auction,
        "sending_ms": sending.as_millis() as u64,
        "auctions_measured": measured,
        "auctions_per_second": (measured as f64 / secs * 10.0).round() / 10.0,
        // Behind its schedule (saturated cores), the generator sends fewer a second than
        // `rate`: what it managed, over the whole run.
        "achieved_auctions_per_second": (created as f64 / sending.as_secs_f64().max(1e-3) * 10.0).round() / 10.0,
        "auctions_failed": sent.create_failed,
        "max_send_lag_ms": sent.max_lag.as_secs_f64() * 1000.0,
        "bids_status": bids,
        "bid_errors": sent.bid_errors,
        "create_ms": lat(&sent.create_us),
        "bid_ms": lat(&sent.bid_us),
        "settlement_lag_ms": lat(&book.settled),
        "notice_lag_ms": lat(&book.arrived),
        "notices": book.kinds,
        "auctions_without_notice": missing(book),
        "auctions_without_winner": unwon(book),
        "notice_repeats": book.repeats,
        "notices_unmeasured": book.unmeasured,
        "error_count": sent.create_failed + sent.bid_errors + missing(book),
    })
}

/// One auction's life as the exchange sees it.
struct One<'a> {
    client: &'a reqwest::Client,
    url: &'a str,
    token: &'a str,
    keys: &'a [String],
    auction_ms: u64,
    per_auction: u32,
    deadline_ms: Option<u32>,
}

impl One<'_> {
    async fn run(&self, i: u64, measured: bool, book: &Mutex<Book>, sent: &Mutex<Sent>) {
        let ends_at = Utc::now() + chrono::Duration::milliseconds(self.auction_ms as i64);
        let body = json!({
            "title": format!("rtb {i}"), "kind": "english", "currency": "USD",
            "reserve_price": "1.00", "min_increment": "0.05", "extend_secs": 0,
            "ends_at": gavel_time(ends_at),
        });
        let t = Instant::now();
        let created = self
            .client
            .post(format!("{}/api/auctions", self.url))
            .bearer_auth(self.token)
            .json(&body)
            .send()
            .await;
        let create_us = t.elapsed().as_micros() as u64;
        let id = match created {
            Ok(r) if r.status().as_u16() == 201 => {
                r.json::<Value>().await.ok().and_then(|v| v["id"].as_i64())
            }
            _ => None,
        };
        let Some(id) = id else {
            sent.lock().unwrap_or_else(|e| e.into_inner()).create_failed += 1;
            return;
        };
        if measured {
            book.lock()
                .unwrap_or_else(|e| e.into_inner())
                .auctions
                .insert(
                    id,
                    Expected {
                        ends_at,
                        settled_seen: false,
                        notices: 0,
                        won: false,
                    },
                );
        }
        let mut statuses = Vec::new();
        let first = (i as usize * 7) % self.keys.len();
        for k in 0..self.per_auction as usize {
            let key = &self.keys[(first + k) % self.keys.len()];
            let amount = format!("{}.{:02}", 1 + (k * 5) / 100, (k * 5) % 100);
            let t = Instant::now();
            let mut req = self
                .client
                .post(format!("{}/api/bids", self.url))
                .bearer_auth(key)
                .json(&json!({"auction_id": id, "amount": amount}));
            if let Some(ms) = self.deadline_ms {
                req = req.header("gavel-deadline-ms", ms);
            }
            let r = req.send().await;
            let status = match r {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    Some(s)
                }
                Err(_) => None,
            };
            statuses.push((status, t.elapsed().as_micros() as u64));
        }
        if !measured {
            return;
        }
        if statuses.iter().any(|(s, _)| *s == Some(201)) {
            if let Some(e) = book
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .auctions
                .get_mut(&id)
            {
                e.won = true;
            }
        }
        let mut s = sent.lock().unwrap_or_else(|e| e.into_inner());
        s.create_us
            .get_or_insert_with(histogram)
            .saturating_record(create_us);
        for (status, us) in statuses {
            match status {
                Some(st) => *s.bids.entry(st).or_default() += 1,
                None => s.bid_errors += 1,
            }
            s.bid_us.get_or_insert_with(histogram).saturating_record(us);
        }
    }
}

/// RFC 3339 with milliseconds, as gavel writes times.
fn gavel_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Creates the bidders, each with a webhook to the receiver.
async fn create_bidders(
    client: &reqwest::Client,
    args: &Args,
    token: &str,
    receiver: &str,
) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for i in 0..args.bidders.max(args.bids_per_auction) {
        let body = json!({"name": format!("rtb {} {i}", args.label), "webhook_url": format!("{receiver}/notice/{i}")});
        let r = client
            .post(format!("{}/api/bidders", args.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        let key = v["api_key"]
            .as_str()
            .ok_or_else(|| format!("POST /api/bidders: {status} {v}"))?;
        keys.push(key.to_string());
    }
    Ok(keys)
}
