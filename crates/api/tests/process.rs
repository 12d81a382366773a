//! The `gavel` binary as ops run it: settings, sub-commands, graceful shutdown.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::ADMIN_TOKEN;
use serde_json::{json, Value};
use sqlx::PgPool;

fn gavel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gavel"));
    c.env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("GAVEL_ADMIN_TOKEN")
        .env_remove("PORT")
        .env("GAVEL_LOG_FORMAT", "json");
    c
}

/// A URL for the test's own database (local trust authentication).
fn database_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or("postgres")
    )
}

fn one_line_error(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn missing_database_url_stops_start_up_with_one_line() {
    let out = gavel()
        .env("GAVEL_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("DATABASE_URL"));
}

#[test]
fn short_admin_token_stops_start_up_with_one_line() {
    let out = gavel()
        .env("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/db")
        .env("GAVEL_ADMIN_TOKEN", "too-short")
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("GAVEL_ADMIN_TOKEN"), "{err}");
    assert!(!err.contains("hunter2"));
}

#[test]
fn bad_port_stops_start_up_with_one_line() {
    let out = gavel()
        .env("DATABASE_URL", "postgres://u@127.0.0.1/db")
        .env("GAVEL_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert!(one_line_error(&out).to_lowercase().contains("port"));
}

#[sqlx::test(migrations = false)]
async fn migrate_and_bidder_create_commands(pool: PgPool) {
    let url = database_url(&pool);
    let out = gavel()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = gavel()
        .args([
            "bidder",
            "create",
            "--name",
            "Seat 9",
            "--webhook-url",
            "https://dsp.example/w",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["api_key"].as_str().unwrap().starts_with("gvl_"));
    assert!(v["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
    let name: String = sqlx::query_scalar("SELECT name FROM bidders WHERE id = $1")
        .bind(v["id"].as_i64().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Seat 9");
    let out = gavel()
        .args(["bidder", "create", "--name", " "])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("--name"));
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(pool: &PgPool, grace_secs: u64) -> Server {
    start_server_with(pool, grace_secs, &[], Stdio::null()).await
}

async fn start_server_with(
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

fn sigterm(child: &Child) {
    signal(child, "-TERM");
}

fn signal(child: &Child, which: &str) {
    let ok = Command::new("kill")
        .args([which, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

async fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "gavel did not exit in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a bid of 3 on auction `id` from a task of its own, so it can be in flight.
fn bid_in_background(
    url: &str,
    key: String,
    id: i64,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let url = format!("{url}/api/bids");
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(key)
            .json(&json!({"auction_id": id, "amount": "3"}))
            .send()
            .await
    })
}

/// Sets up a bidder and an auction; returns the key and the auction id.
async fn bidder_and_auction(url: &str) -> (String, i64) {
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

#[sqlx::test(migrations = "../../migrations")]
async fn sigterm_finishes_the_bid_in_flight_then_exits_zero(pool: PgPool) {
    let mut server = start_server(&pool, 20).await;
    let (key, id) = bidder_and_auction(&server.url).await;
    // Hold the auction's lock so the bid is still in flight when the signal lands.
    let tx = common::lock_auction(&pool, id).await;
    let in_flight = bid_in_background(&server.url, key, id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sigterm(&server.child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are no longer accepted.
    let refused = reqwest::Client::new()
        .get(format!("{}/health", server.url))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "a new request was served after SIGTERM");
    tx.commit().await.unwrap();
    let answered = in_flight.await.unwrap().unwrap();
    assert_eq!(answered.status(), reqwest::StatusCode::CREATED);
    let status = wait_exit(&mut server.child, Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM bids WHERE auction_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn shutdown_is_bounded_by_the_grace_period(pool: PgPool) {
    let mut server = start_server(&pool, 1).await;
    let (key, id) = bidder_and_auction(&server.url).await;
    let tx = common::lock_auction(&pool, id).await;
    let stuck = bid_in_background(&server.url, key, id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    sigterm(&server.child);
    let status = wait_exit(&mut server.child, Duration::from_secs(8)).await;
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(6));
    // The bid that never got its lock was not answered 201.
    if let Ok(Ok(Ok(r))) = tokio::time::timeout(Duration::from_secs(2), stuck).await {
        assert_ne!(r.status(), reqwest::StatusCode::CREATED);
    }
    tx.rollback().await.unwrap();
}

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
    for secret in [
        ADMIN_TOKEN,
        key.as_str(),
        secret.as_str(),
        "db-pw-marker-9137",
        "metrics-token-marker-5521",
        "gvl_wrong-key-marker",
    ] {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn sigint_shuts_down_cleanly_too(pool: PgPool) {
    let mut server = start_server(&pool, 5).await;
    signal(&server.child, "-INT");
    let status = wait_exit(&mut server.child, Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
}
