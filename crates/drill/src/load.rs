//! Bid traffic through the drill: clients bidding on long english auctions through both
//! gavel instances, and short auctions created and bid on all along (so some end, and are
//! settled and noticed, while the database changes hands). Every answer is recorded.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{json, Value};

/// One answer to a bid.
#[derive(Debug, Clone)]
pub struct Answer {
    /// When it came back, since the drill's start.
    pub at: Duration,
    /// HTTP status; 0 when none came (transport error).
    pub status: u16,
    /// The problem's `code`, for refusals.
    pub code: Option<String>,
    /// The new bid's id, for a 201.
    pub bid_id: Option<i64>,
    /// The auction bid on.
    pub auction: i64,
    /// The amount bid.
    pub amount: Decimal,
}

/// A short auction the drill created.
#[derive(Debug, Clone)]
pub struct Short {
    /// Its id.
    pub id: i64,
    /// Its end.
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

/// What the load saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every bid's answer.
    pub answers: Vec<Answer>,
    /// The short auctions created.
    pub shorts: Vec<Short>,
}

/// An API client over every instance: tries them in turn, retrying `503`s and transport
/// errors for a while (as a load balancer and a patient client would).
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    admin: Arc<String>,
}

impl Api {
    /// A client of `urls`.
    pub fn new(urls: Vec<String>, admin_token: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("a plain HTTP client"),
            urls: Arc::new(urls),
            admin: Arc::new(admin_token.to_string()),
        }
    }

    /// POSTs `body` as the admin until a 2xx comes back (at most `within`).
    pub async fn admin_post(
        &self,
        path: &str,
        body: &Value,
        within: Duration,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + within;
        let mut n = 0usize;
        loop {
            let url = &self.urls[n % self.urls.len()];
            n += 1;
            let r = self
                .client
                .post(format!("{url}{path}"))
                .bearer_auth(self.admin.as_str())
                .json(body)
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => {
                    return r.json().await.map_err(|e| e.to_string())
                }
                Ok(r) if r.status().as_u16() != 503 => {
                    return Err(format!(
                        "{path}: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ))
                }
                _ if Instant::now() > deadline => {
                    return Err(format!("{path}: no answer within {within:?}"))
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn bid(&self, n: usize, key: &str, auction: i64, amount: Decimal, t0: Instant) -> Answer {
        let url = &self.urls[n % self.urls.len()];
        let r = self
            .client
            .post(format!("{url}/api/bids"))
            .bearer_auth(key)
            .json(&json!({"auction_id": auction, "amount": amount.to_string()}))
            .send()
            .await;
        let (status, body) = match r {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        };
        Answer {
            at: t0.elapsed(),
            status,
            code: body["code"].as_str().map(str::to_string),
            bid_id: (status == 201).then(|| body["id"].as_i64()).flatten(),
            auction,
            amount,
        }
    }
}

/// The running load.
pub struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Bidders and auctions the load uses.
pub struct Fixture {
    keys: Vec<String>,
    /// The bidder with a webhook (wins the short auctions).
    hooked_key: String,
    long: Vec<(i64, Arc<AtomicI64>)>,
}

impl Fixture {
    /// Creates `bidders` bidders (one with `webhook_url`) and `auctions` long english ones.
    pub async fn create(
        api: &Api,
        bidders: usize,
        auctions: usize,
        webhook_url: &str,
    ) -> Result<Self, String> {
        let wait = Duration::from_secs(30);
        let mut keys = Vec::new();
        for i in 0..bidders {
            let b = api
                .admin_post("/api/bidders", &json!({"name": format!("drill-{i}")}), wait)
                .await?;
            keys.push(b["api_key"].as_str().unwrap_or_default().to_string());
        }
        let hooked = api
            .admin_post(
                "/api/bidders",
                &json!({"name": "drill-hooked", "webhook_url": webhook_url}),
                wait,
            )
            .await?;
        let ends = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
        let mut long = Vec::new();
        for i in 0..auctions {
            let a = api
                .admin_post(
                    "/api/auctions",
                    &json!({"title": format!("drill {i}"), "ends_at": ends, "reserve_price": "1", "min_increment": "0.01"}),
                    wait,
                )
                .await?;
            let id = a["id"].as_i64().ok_or("auction without id")?;
            long.push((id, Arc::new(AtomicI64::new(100))));
        }
        Ok(Self {
            keys,
            hooked_key: hooked["api_key"].as_str().unwrap_or_default().to_string(),
            long,
        })
    }
}

impl Load {
    /// Starts `clients` bidding clients and the short-auction maker.
    pub fn start(api: Api, fixture: Fixture, clients: usize, t0: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let fixture = Arc::new(fixture);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (api, stop, seen, f) = (api.clone(), stop.clone(), seen.clone(), fixture.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = c;
                while !stop.load(Ordering::Relaxed) {
                    n += clients;
                    let (auction, next) = &f.long[n % f.long.len()];
                    // Cents, rising per auction in the order sent: bids that overtake each
                    // other on the way make the 409s.
                    let amount = Decimal::new(next.fetch_add(1, Ordering::Relaxed), 2);
                    let key = &f.keys[n % f.keys.len()];
                    let a = api.bid(n, key, *auction, amount, t0).await;
                    let refused = a.status != 201 && a.status != 409;
                    lock(&seen).answers.push(a);
                    if refused {
                        // A client backs off a little on 503.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }));
        }
        let (api2, stop2, seen2, f2) = (api, stop.clone(), seen.clone(), fixture);
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop2.load(Ordering::Relaxed) {
                n += 1;
                let ends_at = chrono::Utc::now() + chrono::Duration::seconds(3);
                let created = api2
                    .admin_post(
                        "/api/auctions",
                        &json!({"title": format!("short {n}"), "ends_at": ends_at.to_rfc3339(), "reserve_price": "1"}),
                        Duration::from_secs(1),
                    )
                    .await;
                if let Ok(a) = created {
                    if let Some(id) = a["id"].as_i64() {
                        let amount = Decimal::new(200, 2);
                        let answer = api2.bid(n, &f2.hooked_key, id, amount, t0).await;
                        let mut s = lock(&seen2);
                        s.answers.push(answer);
                        s.shorts.push(Short { id, ends_at });
                    }
                }
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        }));
        Self { stop, seen, tasks }
    }

    /// Decided answers (201, 409) so far.
    pub fn decided(&self) -> usize {
        lock(&self.seen)
            .answers
            .iter()
            .filter(|a| a.status == 201 || a.status == 409)
            .count()
    }

    /// The completion time of the latest decided answer.
    pub fn last_decided(&self) -> Option<Duration> {
        lock(&self.seen)
            .answers
            .iter()
            .rev()
            .find(|a| a.status == 201 || a.status == 409)
            .map(|a| a.at)
    }

    /// Stops every client and returns what they saw.
    pub async fn stop(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        std::mem::take(&mut *lock(&self.seen))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Load {
    /// The longest time between two decided answers completing within `[from, to]`.
    pub fn longest_gap(&self, from: Duration, to: Duration) -> Duration {
        let seen = lock(&self.seen);
        let mut times: Vec<Duration> = seen
            .answers
            .iter()
            .filter(|a| (a.status == 201 || a.status == 409) && a.at >= from && a.at <= to)
            .map(|a| a.at)
            .collect();
        times.sort();
        let mut edges = vec![from];
        edges.extend(times);
        edges.push(to);
        edges
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }

    /// Answers with `status` completed within `[from, to]`.
    pub fn count_between(&self, status: u16, from: Duration, to: Duration) -> usize {
        lock(&self.seen)
            .answers
            .iter()
            .filter(|a| a.status == status && a.at >= from && a.at <= to)
            .count()
    }
}
