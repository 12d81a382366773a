//! Rolling upgrades: this binary on a schema the next release has extended behaves exactly
//! as on its own, and instances restarted one at a time under load lose no bid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode as AxumStatus;
use axum::routing::post;
use axum::Router;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::sse::SseReader;
use gavel_storage::{PoolSettings, Storage};

use crate::common::{spawn_app_on, spawn_app_with, status_json, Options, TestApp, ADMIN_TOKEN};

/// What a later release may do to the schema and still let this binary run: columns added
/// to every table (with defaults, of several types), a table added, its migration recorded.
const NEXT_RELEASE: &str = r#"
ALTER TABLE bidders ADD COLUMN next_note TEXT NOT NULL DEFAULT 'from the future';
ALTER TABLE auctions ADD COLUMN next_flag BOOLEAN NOT NULL DEFAULT true,
                     ADD COLUMN next_score INTEGER DEFAULT 7;
ALTER TABLE bids ADD COLUMN next_seen_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE idempotency_keys ADD COLUMN next_region TEXT DEFAULT 'eu';
ALTER TABLE win_notices ADD COLUMN next_kind TEXT NOT NULL DEFAULT 'won',
                        ADD COLUMN next_payload JSONB;
CREATE TABLE next_release_things (id BIGINT PRIMARY KEY, what TEXT);
INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
VALUES (29991231000000, 'next release', true, '\x00'::BYTEA, 1);
"#;

/// An amount as a decimal (clients compare amounts as decimals, not as text).
fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not an amount: {v}"))
        .parse()
        .unwrap()
}

/// A webhook receiver that records every body it is sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |body: String| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                AxumStatus::NO_CONTENT
            }
        }),
    );
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn keyed_bid(
    app: &TestApp,
    key: &str,
    idem: &str,
    id: i64,
    amount: &str,
) -> (StatusCode, Value, bool) {
    let r = app
        .client
        .post(format!("{}/api/bids", app.url))
        .bearer_auth(key)
        .header("idempotency-key", idem)
        .json(&json!({"auction_id": id, "amount": amount}))
        .send()
        .await
        .unwrap();
    let replayed = r.headers().contains_key("idempotent-replayed");
    let (s, v) = status_json(r).await;
    (s, v, replayed)
}

/// Everything a client does, with what it must see; the same on either schema.
async fn every_use_case(pool: PgPool) {
    let app = spawn_app_with(pool, Options::default()).await;
    let (hook, seen) = receiver().await;
    let r = app
        .post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "winner", "webhook_url": hook}),
        )
        .await;
    let (s, winner) = status_json(r).await;
    assert_eq!(s, StatusCode::CREATED, "{winner}");
    let key = winner["api_key"].as_str().unwrap().to_string();
    let (_, other) = app.create_bidder("other").await;
    let (s, bidders) = status_json(app.get("/api/bidders", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bidders["items"].as_array().unwrap().len(), 2, "{bidders}");

    let ends = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let a = app
        .create_auction(json!({"ends_at": ends, "reserve_price": "1.00", "min_increment": "0.50"}))
        .await;
    assert_eq!(a["status"], "open", "{a}");
    assert_eq!(a["bid_count"], 0);
    let id = a["id"].as_i64().unwrap();
    let mut stream = SseReader::open(&app, id, &other).await;

    let (s, first) = status_json(app.bid(&other, id, json!("2.00")).await).await;
    assert_eq!(
        (s, first["is_winning"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{first}"
    );
    let event = stream.expect("bid", Duration::from_secs(5)).await;
    assert_eq!(dec(&event["amount"]), dec(&json!("2")), "{event}");
    let (s, low) = status_json(app.bid(&key, id, json!("2.10")).await).await;
    assert_eq!(
        (s, low["code"].as_str()),
        (StatusCode::CONFLICT, Some("bid_too_low"))
    );
    assert_eq!(dec(&low["min_amount"]), dec(&json!("2.5")), "{low}");
    let (s, win, replayed) = keyed_bid(&app, &key, "k-1", id, "3.00").await;
    assert_eq!((s, replayed), (StatusCode::CREATED, false), "{win}");
    let (s, again, replayed) = keyed_bid(&app, &key, "k-1", id, "3.00").await;
    assert_eq!(
        (s, replayed, &again["id"]),
        (StatusCode::CREATED, true, &win["id"])
    );

    let (s, got) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (got["status"].as_str(), got["bid_count"].as_i64()),
        (Some("open"), Some(2))
    );
    assert_eq!(
        dec(&got["highest_bid"]["amount"]),
        dec(&json!("3")),
        "{got}"
    );
    let (_, list) = status_json(app.get("/api/auctions?status=open", Some(&key)).await).await;
    assert_eq!(list["items"][0]["id"], id, "{list}");
    let (_, bids) = status_json(
        app.get(&format!("/api/auctions/{id}/bids"), Some(&key))
            .await,
    )
    .await;
    let amounts: Vec<Decimal> = bids["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| dec(&b["amount"]))
        .collect();
    assert_eq!(amounts, [dec(&json!("3")), dec(&json!("2"))]);

    // A sealed auction, and one cancelled.
    let sealed = app
        .create_auction(json!({"kind": "second_price", "reserve_price": "1"}))
        .await;
    let sid = sealed["id"].as_i64().unwrap();
    assert_eq!(
        app.bid(&key, sid, json!("4")).await.status(),
        StatusCode::CREATED
    );
    let (s, twice) = status_json(app.bid(&key, sid, json!("5")).await).await;
    assert_eq!(
        (s, twice["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_bid"))
    );
    let (s, cancelled) = status_json(
        app.post(
            &format!("/api/auctions/{sid}/cancel"),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );

    // Settlement and the win notice.
    let closed = stream.expect("closed", Duration::from_secs(10)).await;
    assert_eq!(
        dec(&closed["result"]["clearing_price"]),
        dec(&json!("3")),
        "{closed}"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let settled = loop {
        let (_, a) = status_json(
            app.get(&format!("/api/auctions/{id}"), Some(ADMIN_TOKEN))
                .await,
        )
        .await;
        if a["result"]["notice"] == "delivered" {
            break a;
        }
        assert!(Instant::now() < deadline, "notice not delivered: {a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(settled["status"], "closed");
    assert_eq!(settled["result"]["winning_bid_id"], win["id"], "{settled}");
    // The win, and (the cancelled auction's bidder lost) a loss notice with reason 2.
    let all = seen.lock().unwrap().clone();
    let notices: Vec<Value> = all
        .iter()
        .filter(|n| n["event"] == "auction.won")
        .cloned()
        .collect();
    assert_eq!(notices.len(), 1, "{all:?}");
    let lost: Vec<&Value> = all
        .iter()
        .filter(|n| n["event"] == "auction.lost")
        .collect();
    assert!(
        lost.iter()
            .all(|n| n["loss_reason"] == 2 || n["loss_reason"] == 102),
        "{all:?}"
    );
    assert_eq!(notices[0]["bid_id"], win["id"]);
    assert_eq!(dec(&notices[0]["clearing_price"]), dec(&json!("3")));
    app.stop().await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_use_case_on_this_release_s_schema(pool: PgPool) {
    every_use_case(pool).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_use_case_on_a_schema_the_next_release_extended(pool: PgPool) {
    sqlx::raw_sql(NEXT_RELEASE).execute(&pool).await.unwrap();
    every_use_case(pool).await;
}

/// An instance with a pool of its own (as a process has; stopping it closes its pool).
async fn instance(pool: &PgPool, opts: &Options) -> TestApp {
    let storage = Storage::connect_lazy(
        (*pool.connect_options()).clone(),
        &PoolSettings {
            max_connections: 5,
            acquire_timeout: Duration::from_secs(3),
        },
    );
    spawn_app_on(storage, opts.clone()).await
}

/// The instances behind a load balancer: requests go to those in rotation.
#[derive(Default)]
struct Rotation(Mutex<Vec<Arc<TestApp>>>);

impl Rotation {
    fn pick(&self, n: usize) -> Option<Arc<TestApp>> {
        let apps = self.0.lock().unwrap();
        (!apps.is_empty()).then(|| apps[n % apps.len()].clone())
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn instances_restarted_one_at_a_time_under_bid_load_lose_nothing(pool: PgPool) {
    let opts = Options::default(); // one Redis prefix for both, as one deployment
    let first = Arc::new(instance(&pool, &opts).await);
    let second = Arc::new(instance(&pool, &opts).await);
    let (_, key) = first.create_bidder("b").await;
    let mut auctions = Vec::new();
    for _ in 0..4 {
        auctions.push(
            first.create_auction(json!({})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let rotation = Arc::new(Rotation(Mutex::new(vec![first.clone(), second.clone()])));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8usize {
        let (rotation, stop, key, auctions) = (
            rotation.clone(),
            stop.clone(),
            key.clone(),
            auctions.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut acked: Vec<(i64, i64, String)> = Vec::new();
            let mut statuses: HashMap<u16, u64> = HashMap::new();
            let mut n = c;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let Some(app) = rotation.pick(n) else {
                    continue;
                };
                let auction = auctions[n % auctions.len()];
                let amount = format!("{}.{:02}", 1 + n / 100, n % 100);
                let sent = app
                    .client
                    .post(format!("{}/api/bids", app.url))
                    .bearer_auth(&key)
                    .json(&json!({"auction_id": auction, "amount": amount}))
                    .send()
                    .await;
                // A request racing its instance's drain may find the connection closed;
                // a load balancer would send it elsewhere. Counted, not an answer.
                let Ok(r) = sent else {
                    *statuses.entry(0).or_default() += 1;
                    continue;
                };
                let (s, v) = status_json(r).await;
                *statuses.entry(s.as_u16()).or_default() += 1;
                if s == StatusCode::CREATED {
                    acked.push((v["id"].as_i64().unwrap(), auction, amount));
                }
            }
            (acked, statuses)
        }));
    }

    // Restart each instance in turn: out of rotation, drained (graceful stop), a new one
    // started, back in rotation once ready; only then the next.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for old in [first, second] {
        rotation.0.lock().unwrap().retain(|a| !Arc::ptr_eq(a, &old));
        // Requests already sent to it still hold it: wait for them (the drain).
        let mut old = old;
        let old = loop {
            match Arc::try_unwrap(old) {
                Ok(app) => break app,
                Err(shared) => old = shared,
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        old.stop().await.unwrap();
        let new = Arc::new(instance(&pool, &opts).await);
        let deadline = Instant::now() + Duration::from_secs(10);
        while new.get("/ready", None).await.status() != StatusCode::OK {
            assert!(Instant::now() < deadline, "restarted instance never ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        rotation.0.lock().unwrap().push(new);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let mut acked = Vec::new();
    let mut statuses: HashMap<u16, u64> = HashMap::new();
    for c in clients {
        let (a, s) = c.await.unwrap();
        acked.extend(a);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
    }
    assert!(
        statuses.keys().all(|s| [0, 201, 409, 503].contains(s)),
        "answers other than 201/409/503: {statuses:?}"
    );
    assert!(
        acked.len() > 20,
        "too few bids decided to mean anything: {statuses:?}"
    );
    for (bid, auction, amount) in &acked {
        let stored: Option<(i64, rust_decimal::Decimal)> =
            sqlx::query_as("SELECT auction_id, amount FROM bids WHERE id = $1")
                .bind(bid)
                .fetch_optional(&pool)
                .await
                .unwrap();
        let (a, amt) = stored.unwrap_or_else(|| panic!("acknowledged bid {bid} lost"));
        assert_eq!(a, *auction);
        assert_eq!(amt, amount.parse::<rust_decimal::Decimal>().unwrap());
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM bids")
        .fetch_one(&pool)
        .await
        .unwrap();
    // A request cut off by a closing connection may have been decided before the cut.
    let cut = statuses.get(&0).copied().unwrap_or(0) as usize;
    assert!(
        (acked.len()..=acked.len() + cut).contains(&(stored as usize)),
        "{stored} bids stored, {} acknowledged, {cut} cut off",
        acked.len()
    );
}
