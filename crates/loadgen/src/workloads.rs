//! One request of each workload, and what the bid workloads learn from the answers
//! (each auction's last seen next minimum).

use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use rand::Rng;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use crate::amounts;
use crate::cli::Workload;
use crate::setup::Fixture;

/// Share of `bids-hopeless` bids sent far below the current minimum.
pub const HOPELESS_SHARE: f64 = 0.8;

/// An auction as the bid workloads track it.
#[derive(Debug)]
struct Tracked {
    id: i64,
    increment: u64,
    /// Least amount the next bid needs, as last seen by any worker (ten-thousandths):
    /// from a 201, amount + increment; from a 409 `bid_too_low`, its `min_amount`.
    next_min: AtomicU64,
    get_url: String,
}

/// Sends one request of the chosen workload at a time; shared by all workers.
#[derive(Debug)]
pub struct Target {
    client: reqwest::Client,
    workload: Workload,
    auth: Vec<HeaderValue>,
    auctions: Vec<Tracked>,
    /// Shared jitter bias, thousandths of an increment (see [`amounts::BIAS_DOWN`]).
    bias: AtomicI64,
    /// Where bids go, round-robin (one URL per instance).
    bids_urls: Vec<String>,
    list_url: String,
    hello_url: String,
    /// Where answers to bids are logged, when asked (`--ack-log`).
    ack_log: Option<Mutex<std::fs::File>>,
    /// `Gavel-Deadline-Ms` on every bid, when asked.
    deadline_ms: Option<u32>,
}

impl Target {
    /// Builds the target from the set-up's bidders and auctions.
    pub fn new(
        client: reqwest::Client,
        workload: Workload,
        url: &str,
        fixture: &Fixture,
    ) -> Result<Self, String> {
        let auth = fixture
            .keys
            .iter()
            .map(|k| HeaderValue::from_str(&format!("Bearer {k}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "a bidder key is not a valid header value")?;
        if workload.needs_setup() && (auth.is_empty() || fixture.auctions.is_empty()) {
            return Err("no bidders or no auctions to use".into());
        }
        let auctions = fixture
            .auctions
            .iter()
            .map(|a| Tracked {
                id: a.id,
                increment: a.increment,
                next_min: AtomicU64::new(a.next_min),
                get_url: format!("{url}/api/auctions/{}", a.id),
            })
            .collect();
        Ok(Self {
            client,
            workload,
            auth,
            auctions,
            bias: AtomicI64::new(0),
            bids_urls: vec![format!("{url}/api/bids")],
            list_url: format!("{url}/api/auctions?limit=50"),
            hello_url: format!("{url}/hello"),
            ack_log: None,
            deadline_ms: None,
        })
    }

    /// Sends every bid with this deadline (`--deadline-ms`).
    pub fn with_deadline(mut self, ms: Option<u32>) -> Self {
        self.deadline_ms = ms;
        self
    }

    /// Also sends bids to these base URLs (round-robin with the first).
    pub fn spread_over(mut self, urls: &[String]) -> Self {
        self.bids_urls.extend(
            urls.iter()
                .map(|u| format!("{}/api/bids", u.trim_end_matches('/'))),
        );
        self
    }

    /// Logs each bid's answer to `file` (see `--ack-log`).
    pub fn logging_to(mut self, file: Option<std::fs::File>) -> Self {
        self.ack_log = file.map(Mutex::new);
        self
    }

    /// Appends one line to the answer log, if there is one.
    fn log(&self, line: std::fmt::Arguments<'_>) {
        if let Some(f) = &self.ack_log {
            let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(f, "{line}");
        }
    }

    /// Sends request number `seq` (it picks the bidder key) and reads the whole answer.
    /// `None` when no complete answer came (transport error or timeout).
    pub async fn send(&self, seq: u64) -> Option<u16> {
        let key = || self.auth[(seq % self.auth.len() as u64) as usize].clone();
        match self.workload {
            Workload::Bids | Workload::BidsHopeless | Workload::BidsHot | Workload::BidsKeyed => {
                self.bid(seq, key()).await
            }
            Workload::Get => {
                let i = rand::rng().random_range(0..self.auctions.len());
                let req = self.client.get(&self.auctions[i].get_url);
                drain(req.header(AUTHORIZATION, key()).send().await).await
            }
            Workload::List => {
                let req = self.client.get(&self.list_url);
                drain(req.header(AUTHORIZATION, key()).send().await).await
            }
            Workload::Hello => drain(self.client.get(&self.hello_url).send().await).await,
            // Driven by `rtb::run`, never through a target.
            Workload::Rtb => None,
        }
    }

    /// Picks an auction and an amount, and whether it is a normal (not hopeless) bid
    /// (no await here: the thread's RNG is not `Send`).
    fn plan_bid(&self) -> (usize, u64, bool) {
        let mut rng = rand::rng();
        let i = rng.random_range(0..self.auctions.len());
        let a = &self.auctions[i];
        let next_min = a.next_min.load(Ordering::Relaxed);
        let hopeless = self.workload == Workload::BidsHopeless && rng.random_bool(HOPELESS_SHARE);
        let amount = if hopeless {
            amounts::hopeless(next_min)
        } else {
            let u = rng.random_range(amounts::JITTER_LOW..amounts::JITTER_HIGH);
            let bias = self.bias.load(Ordering::Relaxed);
            amounts::around(next_min, a.increment, u, bias)
        };
        (i, amount, !hopeless)
    }

    /// Moves the bias after a decided normal bid; `bids-hot` keeps it at 0 (all bids race
    /// for one row there: a bias moves them all together and cannot raise the share).
    fn adapt(&self, accepted: bool) {
        if self.workload == Workload::BidsHot {
            return;
        }
        let step = amounts::bias_step(accepted);
        let (lo, hi) = amounts::BIAS_RANGE;
        let _ = self
            .bias
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some((b + step).clamp(lo, hi))
            });
    }

    async fn bid(&self, seq: u64, key: HeaderValue) -> Option<u16> {
        let (i, amount, normal) = self.plan_bid();
        let a = &self.auctions[i];
        let body = format!(
            r#"{{"auction_id":{},"amount":"{}"}}"#,
            a.id,
            amounts::format(amount)
        );
        let url = &self.bids_urls[(seq % self.bids_urls.len() as u64) as usize];
        let mut req = self
            .client
            .post(url)
            .header(AUTHORIZATION, key)
            .header(CONTENT_TYPE, "application/json");
        if let Some(ms) = self.deadline_ms {
            req = req.header("gavel-deadline-ms", ms);
        }
        if self.workload == Workload::BidsKeyed {
            // Unique per run and request: the process id and the sequence number.
            req = req.header(
                "Idempotency-Key",
                format!("lg-{}-{seq}", std::process::id()),
            );
        }
        let sent = req.body(body).send().await;
        let answer = match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                r.bytes().await.ok().map(|b| (status, b))
            }
            Err(_) => None,
        };
        let Some((status, bytes)) = answer else {
            self.log(format_args!("err transport"));
            return None;
        };
        // Parsed only for the log: the measured client does no more than it must.
        if self.ack_log.is_some() {
            match status {
                201 => self.log(format_args!("ack {}", json_field(&bytes, "id"))),
                409 => {}
                _ => self.log(format_args!("err {status} {}", json_field(&bytes, "code"))),
            }
        }
        match status {
            201 => {
                a.next_min
                    .fetch_max(amount + a.increment, Ordering::Relaxed);
                if normal {
                    self.adapt(true);
                }
            }
            409 => {
                if let Some(min) = min_amount(&bytes) {
                    a.next_min.fetch_max(min, Ordering::Relaxed);
                    if normal {
                        self.adapt(false);
                    }
                }
            }
            _ => {}
        }
        Some(status)
    }
}

/// A top-level field of a JSON answer as text (`-` when absent).
fn json_field(bytes: &[u8], name: &str) -> String {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| match &v[name] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .unwrap_or_else(|| "-".into())
}

/// Reads a whole answer (so that the connection goes back to the pool) and gives its
/// status.
async fn drain(r: reqwest::Result<reqwest::Response>) -> Option<u16> {
    let r = r.ok()?;
    let status = r.status().as_u16();
    r.bytes().await.ok()?;
    Some(status)
}

/// The `min_amount` of a `bid_too_low` problem document, in ten-thousandths.
pub fn min_amount(body: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    match &v["min_amount"] {
        Value::String(s) => amounts::parse(s),
        Value::Number(n) => amounts::parse(&n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::AuctionInfo;

    #[test]
    fn min_amount_reads_the_problem_document() {
        let body =
            br#"{"type":"about:blank","status":409,"code":"bid_too_low","min_amount":"2.55"}"#;
        assert_eq!(min_amount(body), Some(25_500));
        assert_eq!(min_amount(br#"{"min_amount": 3}"#), Some(30_000));
        assert_eq!(min_amount(br#"{"code":"auction_not_open"}"#), None);
        assert_eq!(min_amount(b"not json"), None);
    }

    fn target(workload: Workload) -> Target {
        let fixture = Fixture {
            keys: vec!["k".into()],
            auctions: vec![AuctionInfo {
                id: 1,
                increment: 500,
                next_min: 10_000,
            }],
        };
        Target::new(reqwest::Client::new(), workload, "http://x", &fixture).unwrap()
    }

    #[test]
    fn planned_bids_keep_to_their_workload() {
        let t = target(Workload::Bids);
        for _ in 0..1000 {
            let (_, amount, normal) = t.plan_bid();
            assert!(normal);
            assert!((9_800..=10_300).contains(&amount), "{amount}");
        }
        let t = target(Workload::BidsHopeless);
        let low = (0..10_000).filter(|_| t.plan_bid().1 == 5_000).count();
        assert!((7_500..=8_500).contains(&low), "{low}");
        assert!((0..100).all(|_| {
            let (_, amount, normal) = t.plan_bid();
            normal || amount == 5_000
        }));
    }

    #[test]
    fn the_bias_moves_except_on_the_hot_auction() {
        let t = target(Workload::Bids);
        t.adapt(false);
        t.adapt(false);
        t.adapt(true);
        assert_eq!(
            t.bias.load(Ordering::Relaxed),
            2 * amounts::BIAS_UP - amounts::BIAS_DOWN
        );
        let hot = target(Workload::BidsHot);
        hot.adapt(false);
        assert_eq!(hot.bias.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn reads_need_no_auctions_only_for_hello() {
        let empty = Fixture::default();
        let client = reqwest::Client::new();
        assert!(Target::new(client.clone(), Workload::Hello, "http://x", &empty).is_ok());
        assert!(Target::new(client, Workload::Get, "http://x", &empty).is_err());
    }
}
