//! No secret reaches the logs; every change to a bidder is an audit line carrying the
//! admin's request id.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{self, ADMIN_TOKEN};
use crate::server::{bidder_and_auction, sigterm, start_server_with, wait_exit};

#[sqlx::test(migrations = "../../migrations")]
async fn no_secret_reaches_the_logs(pool: PgPool) {
    let log_path =
        std::env::temp_dir().join(format!("gavel-secrets-{}.log", common::unique_prefix()));
    let log = std::fs::File::create(&log_path).unwrap();
    // Trust authentication ignores the password, so it can be a marker.
    let o = pool.connect_options();
    let url_with_password = format!(
        "postgres://{}:db-pw-marker-9137@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or("postgres")
    );
    let mut server = start_server_with(
        &pool,
        5,
        &[
            ("DATABASE_URL", url_with_password),
            ("GAVEL_METRICS_TOKEN", "metrics-token-marker-5521".into()),
            ("RUST_LOG", "debug".into()),
        ],
        Stdio::from(log),
    )
    .await;
    let (key, id) = bidder_and_auction(&server.url).await;
    let c = reqwest::Client::new();
    let created: Value = c
        .post(format!("{}/api/bidders", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "w", "webhook_url": "https://dsp.example/hook"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["webhook_secret"].as_str().unwrap().to_string();
    let bidder = created["id"].as_i64().unwrap();
    // Changes to the bidder, each under a request id of the admin's.
    let status = c
        .patch(format!("{}/api/bidders/{bidder}", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-request-id", "audit-req-77")
        .json(&json!({"status": "disabled", "rate_limit": 40}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let rotated: Value = c
        .post(format!("{}/api/bidders/{bidder}/keys", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-request-id", "audit-req-78")
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rotated_key = rotated["api_key"].as_str().unwrap().to_string();
    for amount in ["2", "1", "abc"] {
        c.post(format!("{}/api/bids", server.url))
            .bearer_auth(&key)
            .json(&json!({"auction_id": id, "amount": amount}))
            .send()
            .await
            .unwrap();
    }
    c.get(format!("{}/api/auctions", server.url))
        .bearer_auth("gvl_wrong-key-marker")
        .send()
        .await
        .unwrap();
    c.get(format!("{}/metrics", server.url))
        .bearer_auth("metrics-token-marker-5521")
        .send()
        .await
        .unwrap();
    sigterm(&server.child);
    wait_exit(&mut server.child, Duration::from_secs(10)).await;
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(
        logs.contains("finished processing request"),
        "logs were captured"
    );
    let audit = |what: &str, request: &str| {
        logs.lines().any(|l| {
            serde_json::from_str::<Value>(l).is_ok_and(|v| {
                v["audit"] == what && v["bidder_id"] == bidder && v["span"]["request_id"] == request
            })
        })
    };
    assert!(
        audit("bidder.updated", "audit-req-77"),
        "no audit line for the change:\n{logs}"
    );
    assert!(
        audit("bidder.key_created", "audit-req-78"),
        "no audit line for the new key"
    );
    for secret in [
        ADMIN_TOKEN,
        key.as_str(),
        secret.as_str(),
        "db-pw-marker-9137",
        "metrics-token-marker-5521",
        "gvl_wrong-key-marker",
        rotated_key.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}
