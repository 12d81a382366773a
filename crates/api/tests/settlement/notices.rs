//! Win notices: signed, retried with backoff, marked delivered or failed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{spawn_app_with, status_json, Options, ADMIN_TOKEN};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use sqlx::PgPool;

/// What the receiver saw: headers and body of each POST.
pub type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver that fails the first `fail_first` calls with 500.
pub async fn receiver(fail_first: usize) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    receiver_on(listener, fail_first)
}

/// The same, on a listener of the caller's.
fn receiver_on(listener: tokio::net::TcpListener, fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let mut v = s.lock().unwrap();
                v.push((headers, body));
                if v.len() <= fail_first {
                    AxumStatus::INTERNAL_SERVER_ERROR
                } else {
                    AxumStatus::NO_CONTENT
                }
            }
        }),
    );
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn won_auction(app: &crate::common::TestApp, webhook_url: &str) -> (i64, String, Value) {
    let r = app
        .post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "dsp", "webhook_url": webhook_url}),
        )
        .await;
    let bidder: Value = r.json().await.unwrap();
    let key = bidder["api_key"].as_str().unwrap();
    let ends = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let a = app
        .create_auction(json!({"ends_at": ends, "currency": "EUR"}))
        .await;
    let id = a["id"].as_i64().unwrap();
    let bid: Value = app.bid(key, id, json!("4.5")).await.json().await.unwrap();
    (
        id,
        bidder["webhook_secret"].as_str().unwrap().to_string(),
        bid,
    )
}

async fn wait_notice(app: &crate::common::TestApp, id: i64, want: &str) -> Value {
    let what = format!("auction {id}'s notice {want}");
    gavel_devkit::eventually(Duration::from_secs(15), &what, || async {
        let path = format!("/api/auctions/{id}");
        let (_, a) = status_json(app.get(&path, Some(ADMIN_TOKEN)).await).await;
        (a["result"]["notice"] == want).then_some(a)
    })
    .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_winner_gets_a_signed_notice(pool: PgPool) {
    let (url, seen) = receiver(0).await;
    let app = spawn_app_with(pool, Options::default()).await;
    let (id, secret, bid) = won_auction(&app, &url).await;
    let a = wait_notice(&app, id, "delivered").await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["event"], "auction.won");
    assert_eq!(payload["auction_id"], id);
    assert_eq!(payload["bid_id"], bid["id"]);
    assert_eq!(payload["bidder_id"], bid["bidder_id"]);
    assert_eq!(payload["clearing_price"], "4.50");
    assert_eq!(payload["currency"], "EUR");
    assert_eq!(payload["closed_at"], a["result"]["closed_at"]);
    assert_eq!(
        headers["gavel-notice-id"].to_str().unwrap(),
        payload["notice_id"]
    );
    // Verify the signature as a receiver would.
    let sig = headers["gavel-signature"].to_str().unwrap();
    let t: i64 = sig
        .strip_prefix("t=")
        .and_then(|r| r.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(sig, gavel_service::notices::signature(&secret, t, body));
    assert!((chrono::Utc::now().timestamp() - t).abs() < 60);
}

#[sqlx::test(migrations = "../../migrations")]
async fn failed_attempts_are_retried_with_the_same_notice_id(pool: PgPool) {
    let (url, seen) = receiver(2).await;
    let app = spawn_app_with(pool, Options::default()).await;
    let (id, _, _) = won_auction(&app, &url).await;
    wait_notice(&app, id, "delivered").await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "two failures, then delivered");
    let ids: Vec<_> = seen
        .iter()
        .map(|(h, _)| h["gavel-notice-id"].to_str().unwrap().to_string())
        .collect();
    assert!(ids.iter().all(|i| i == &ids[0]));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_notice_fails_after_its_last_attempt(pool: PgPool) {
    let (url, seen) = receiver(usize::MAX).await;
    let app = spawn_app_with(pool.clone(), Options::default()).await;
    let (id, _, _) = won_auction(&app, &url).await;
    wait_notice(&app, id, "failed").await;
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "max_attempts in the test options"
    );
    let (attempts, err): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, last_error FROM win_notices WHERE auction_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, 4);
    assert_eq!(err.as_deref(), Some("answered 500"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn pending_notices_survive_a_restart(pool: PgPool) {
    // The first instance cannot reach the receiver (nothing listens yet) ...
    let port = crate::common::free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let slow = Options {
        webhooks: gavel_service::WebhookSettings {
            backoff_base: Duration::from_secs(1),
            ..Options::default().webhooks
        },
        ..Default::default()
    };
    // Its own pool: stopping an instance closes its pool.
    let own_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(5)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let first =
        crate::common::spawn_app_on(gavel_storage::Storage::from_pool(own_pool), slow).await;
    let (id, _, _) = won_auction(&first, &url).await;
    // A second bidder outbids the first: the close owes a win and a loss notice.
    let second_bidder: Value = first
        .post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "dsp 2", "webhook_url": url}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key2 = second_bidder["api_key"].as_str().unwrap();
    assert_eq!(first.bid(key2, id, json!("5")).await.status(), 201);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempts: Option<i32> =
            sqlx::query_scalar("SELECT attempts FROM win_notices WHERE auction_id = $1")
                .bind(id)
                .fetch_optional(&pool)
                .await
                .unwrap();
        if attempts.unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no attempt made");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.stop().await.unwrap();
    // ... then it is stopped, the receiver comes up, and a new instance delivers.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (_, seen) = receiver_on(listener, 0);
    let second = spawn_app_with(pool.clone(), Options::default()).await;
    wait_notice(&second, id, "delivered").await;
    gavel_devkit::eventually(
        Duration::from_secs(15),
        "the loss notice delivered",
        || async {
            let state: Option<String> =
                sqlx::query_scalar("SELECT state FROM loss_notices WHERE auction_id = $1")
                    .bind(id)
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
            (state.as_deref() == Some("delivered")).then_some(())
        },
    )
    .await;
    let events: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap()["event"].to_string())
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events.iter().any(|e| e.contains("auction.lost")),
        "{events:?}"
    );
}

fn public_only() -> Options {
    Options {
        webhooks: gavel_service::WebhookSettings {
            targets: gavel_domain::webhook::Targets::PublicOnly,
            ..Options::default().webhooks
        },
        ..Default::default()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn webhook_urls_pointing_inward_are_refused_at_creation(pool: PgPool) {
    let app = spawn_app_with(pool, public_only()).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:9/hook",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
        "https://user:pass@dsp.example/hook",
    ] {
        let (s, v) = status_json(
            app.post(
                "/api/bidders",
                Some(ADMIN_TOKEN),
                &json!({"name": "dsp", "webhook_url": url}),
            )
            .await,
        )
        .await;
        assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{url}: {v}");
        assert_eq!(v["errors"][0]["field"], "webhook_url", "{v}");
    }
    let (s, _) = status_json(
        app.post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "dsp", "webhook_url": "https://dsp.example/hook"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::CREATED);
}

/// A URL stored earlier (or a name that now resolves inward) is checked again at delivery:
/// nothing is sent.
#[sqlx::test(migrations = "../../migrations")]
async fn inward_targets_are_refused_again_at_delivery(pool: PgPool) {
    let (url, seen) = receiver(0).await;
    // Written behind the API's back, as a row from before the check, or a DNS change, is.
    let by_name = url.replace("127.0.0.1", "localhost");
    let app = spawn_app_with(pool.clone(), public_only()).await;
    for target in [url.as_str(), by_name.as_str()] {
        let (_, key) = app.create_bidder("dsp").await;
        sqlx::query("UPDATE bidders SET webhook_url = $1 WHERE name = 'dsp'")
            .bind(target)
            .execute(&pool)
            .await
            .unwrap();
        let ends = (chrono::Utc::now() + chrono::Duration::milliseconds(800)).to_rfc3339();
        let id = app.create_auction(json!({"ends_at": ends})).await["id"]
            .as_i64()
            .unwrap();
        assert_eq!(
            app.bid(&key, id, json!("5")).await.status(),
            reqwest::StatusCode::CREATED
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (attempts, error): (i32, Option<String>) = sqlx::query_as(
                "SELECT attempts, last_error FROM win_notices WHERE auction_id = $1",
            )
            .bind(id)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .unwrap_or((0, None));
            if attempts > 0 {
                assert!(error.is_some(), "{target}: an attempt without an error");
                break;
            }
            assert!(Instant::now() < deadline, "{target}: no delivery attempt");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        sqlx::query("UPDATE bidders SET name = 'done' WHERE name = 'dsp'")
            .execute(&pool)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "a notice reached an inward address"
    );
}
