//! One request of each workload, and what the bid workloads learn from the answers
//! (each auction's last seen next minimum).

use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::http::HeaderValue;
use hyper::Method;
use rand::Rng;
use serde_json::Value;

use crate::amounts;
use crate::cli::Workload;
use crate::conn::{Base, Conns, Request};
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
    get_path: String,
}

/// Sends one request of the chosen workload at a time; shared by all workers.
#[derive(Debug)]
pub struct Target {
    workload: Workload,
    auth: Vec<HeaderValue>,
    auctions: Vec<Tracked>,
    /// Shared jitter bias, thousandths of an increment (see [`amounts::BIAS_DOWN`]).
    bias: AtomicI64,
    /// Where bids go, round-robin (one URL per instance).
    /// `--url`, then `--also-url`s: bids go round-robin over them, reads to the first.
    servers: Vec<Base>,
    /// Where answers to bids are logged, when asked (`--ack-log`).
    ack_log: Option<Mutex<std::fs::File>>,
    /// `Gavel-Deadline-Ms` on every bid, when asked.
    deadline_ms: Option<u32>,
}

impl Target {
    /// Builds the target from the set-up's bidders and auctions.
    pub fn new(workload: Workload, url: &str, fixture: &Fixture) -> Result<Self, String> {
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
                get_path: format!("/api/auctions/{}", a.id),
            })
            .collect();
        Ok(Self {
            workload,
            auth,
            auctions,
            bias: AtomicI64::new(0),
            servers: vec![Base::parse(url)?],
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
    pub fn spread_over(mut self, urls: &[String]) -> Result<Self, String> {
        for u in urls {
            self.servers.push(Base::parse(u)?);
        }
        Ok(self)
    }

    /// A worker's connections to the servers.
    pub fn connections(&self, timeout: std::time::Duration) -> Conns {
        Conns::new(self.servers.len(), timeout)
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

    /// Sends request number `seq` (it picks the bidder key) on the worker's connections
    /// and reads the whole answer. `None` when no complete answer came (transport error or
    /// timeout).
    pub async fn send(&self, seq: u64, conns: &mut Conns) -> Option<u16> {
        let key = || self.auth[(seq % self.auth.len() as u64) as usize].clone();
        let read = |path: &str, key: Option<HeaderValue>| {
            let mut req = self.request(Method::GET, path, 0);
            if let Some(key) = key {
                req.headers_mut().insert(AUTHORIZATION, key);
            }
            req
        };
        let req = match self.workload {
            Workload::Bids | Workload::BidsHopeless | Workload::BidsHot | Workload::BidsKeyed => {
                return self.bid(seq, key(), conns).await;
            }
            Workload::Get => {
                let i = rand::rng().random_range(0..self.auctions.len());
                read(&self.auctions[i].get_path, Some(key()))
            }
            Workload::List => read("/api/auctions?limit=50", Some(key())),
            Workload::Hello => read("/hello", None),
            // Driven by `rtb::run`, never through a target.
            Workload::Rtb => return None,
        };
        conns
            .send(0, &self.servers[0], req)
            .await
            .map(|(status, _)| status)
    }

    /// A request to server `server` with an empty body.
    fn request(&self, method: Method, path: &str, server: usize) -> Request {
        let mut req = Request::new(Full::default());
        *req.method_mut() = method;
        *req.uri_mut() = path.parse().unwrap_or_default();
        req.headers_mut()
            .insert(HOST, self.servers[server].host.clone());
        req
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

    async fn bid(&self, seq: u64, key: HeaderValue, conns: &mut Conns) -> Option<u16> {
        let (i, amount, normal) = self.plan_bid();
        let a = &self.auctions[i];
        let body = format!(
            r#"{{"auction_id":{},"amount":"{}"}}"#,
            a.id,
            amounts::format(amount)
        );
        let server = (seq % self.servers.len() as u64) as usize;
        let mut req = self.request(Method::POST, "/api/bids", server);
        *req.body_mut() = Full::new(Bytes::from(body));
        let headers = req.headers_mut();
        headers.insert(AUTHORIZATION, key);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(ms) = self.deadline_ms {
            headers.insert("gavel-deadline-ms", HeaderValue::from(ms));
        }
        if self.workload == Workload::BidsKeyed {
            // Unique per run and request: the process id and the sequence number.
            let idem = format!("lg-{}-{seq}", std::process::id());
            if let Ok(v) = HeaderValue::from_str(&idem) {
                headers.insert("idempotency-key", v);
            }
        }
        let Some((status, bytes)) = conns.send(server, &self.servers[server], req).await else {
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
        Target::new(workload, "http://x", &fixture).unwrap()
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
        assert!(Target::new(Workload::Hello, "http://x", &empty).is_ok());
        assert!(Target::new(Workload::Get, "http://x", &empty).is_err());
    }
}
