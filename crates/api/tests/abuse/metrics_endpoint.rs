//! `/metrics`, open or behind its token.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::common::{spawn_app, spawn_app_with, Options};

#[sqlx::test(migrations = "../../migrations")]
async fn metrics_are_open_or_behind_their_token(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.get("/health", None).await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("gavel_http_requests_total"), "{text}");

    let guarded = spawn_app_with(
        pool,
        Options {
            metrics_token: Some("metrics-secret".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        guarded.get("/metrics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded.get("/metrics", Some("wrong")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded
            .get("/metrics", Some("metrics-secret"))
            .await
            .status(),
        StatusCode::OK
    );
}

/// The promtool binary: `GAVEL_PROMTOOL`, else `promtool` on the PATH (scripts/test.sh
/// installs Debian's `prometheus`, which has it).
fn promtool() -> String {
    std::env::var("GAVEL_PROMTOOL").unwrap_or_else(|_| "promtool".into())
}

#[sqlx::test(migrations = "../../migrations")]
async fn metrics_cover_what_operators_watch_and_pass_promtool(pool: PgPool) {
    use serde_json::json;
    use std::io::Write;
    use std::time::Duration;

    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("m").await;
    let ends = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let id = app.create_auction(json!({"ends_at": ends})).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.bid(&key, id, json!("5")).await.status(),
        StatusCode::CREATED
    );
    // Hopeless: refused in memory.
    assert_eq!(
        app.bid(&key, id, json!("1")).await.status(),
        StatusCode::CONFLICT
    );
    app.get(&format!("/api/auctions/{id}"), Some(&key)).await;
    app.get("/api/auctions/123456789", Some(&key)).await;
    app.get("/no/such/path/42", None).await;
    // Settled within a second of its end.
    tokio::time::sleep(Duration::from_millis(3000)).await;

    let text = app.get("/metrics", None).await.text().await.unwrap();
    for name in [
        "gavel_http_requests_total{",
        "gavel_http_request_duration_seconds_bucket{",
        "gavel_http_requests_in_flight",
        "gavel_bids_total{outcome=\"accepted\"}",
        "gavel_bids_total{outcome=\"fast_rejected\"}",
        "gavel_fast_path_checks_total{tier=\"memory\",result=\"hit\"}",
        "gavel_bid_batch_size_bucket{",
        "gavel_db_pool_connections{state=\"idle\"}",
        "gavel_db_pool_max_connections",
        "gavel_db_pool_waiting",
        "gavel_settlement_lag_seconds_bucket{",
        "gavel_event_streams_open",
        "gavel_connections_open",
        "gavel_build_info{version=",
        "# HELP gavel_http_request_duration_seconds",
        "# TYPE gavel_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    // Route templates, never raw paths or ids.
    assert!(text.contains("route=\"/api/auctions/{id}\""), "{text}");
    assert!(
        !text.contains("123456789") && !text.contains("/no/such"),
        "{text}"
    );

    let mut child = std::process::Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool could not start (scripts/test.sh installs Debian's prometheus)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
