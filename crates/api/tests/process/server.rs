//! A running `gavel serve` process and the signals sent to it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{self, ADMIN_TOKEN};
use crate::{database_url, gavel};

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_server(pool: &PgPool, grace_secs: u64) -> Server {
    start_server_with(pool, grace_secs, &[], Stdio::null()).await
}

pub async fn start_server_with(
    pool: &PgPool,
    grace_secs: u64,
    env: &[(&str, String)],
    stderr: Stdio,
) -> Server {
    let port = common::free_port();
    let mut cmd = gavel();
    cmd.env("DATABASE_URL", database_url(pool))
        .env("GAVEL_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("GAVEL_BIND", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("GAVEL_SHUTDOWN_GRACE_SECS", grace_secs.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.stdout(Stdio::null()).stderr(stderr).spawn().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(format!("{url}/ready")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, url }
}

pub fn sigterm(child: &Child) {
    signal(child, "-TERM");
}

pub fn signal(child: &Child, which: &str) {
    let ok = Command::new("kill")
        .args([which, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

pub async fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "gavel did not exit in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sets up a bidder and an auction; returns the key and the auction id.
pub async fn bidder_and_auction(url: &str) -> (String, i64) {
    let c = reqwest::Client::new();
    let b: Value = c
        .post(format!("{url}/api/bidders"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a: Value = c
        .post(format!("{url}/api/auctions"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"title": "t",
            "ends_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        b["api_key"].as_str().unwrap().to_string(),
        a["id"].as_i64().unwrap(),
    )
}
