//! The console's bidder steps: bidders with webhooks (their names shown as text), a new
//! bidder's key shown once, and a bidder's page (keys rotated and revoked, the bidder
//! disabled and enabled).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{artifacts, click, count, text, type_into, SLOW};
use crate::common::{self, TestApp, ADMIN_TOKEN};
use crate::Scene;
use gavel_devkit::until;

/// A webhook receiver answering 204 to every notice; its URL.
pub async fn webhook_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A bidder with a webhook; its id and key.
pub async fn bidder_with_hook(app: &TestApp, name: &str, hook: &str) -> (i64, String) {
    let v: Value = app
        .post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": name, "webhook_url": hook}),
        )
        .await
        .json()
        .await
        .unwrap();
    (
        v["id"].as_i64().unwrap(),
        v["api_key"].as_str().unwrap().to_string(),
    )
}

/// The bidder's name as the ladder must show it: text, never markup.
pub const MARKUP_NAME: &str = "<b>exchange-1</b>";

/// Another bidder (with a webhook) bids and is outbid: the close owes it a loss notice.
pub async fn a_second_bidder_is_outbid(scene: &Scene, id: i64, key: &str, hook: &str) {
    let Scene { app, c, .. } = scene;
    let (_, loser) = bidder_with_hook(app, "exchange-2", hook).await;
    assert_eq!(
        app.bid(&loser, id, json!("6.50")).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.bid(key, id, json!("7.00")).await.status(),
        StatusCode::CREATED
    );
    until(SLOW, "both bidders in the ladder", || async {
        count(c, "[data-test=ladder-row]").await == 7
            && c.find_all(Locator::Css("[data-test=ladder-bidder]"))
                .await
                .map(|v| v.len())
                .unwrap_or(0)
                == 7
    })
    .await;
}

/// A new bidder's key is shown once, and it places bids.
pub async fn creating_a_bidder_shows_its_key_once(scene: &Scene) {
    let Scene { app, c, .. } = scene;
    // Bidders: a new one's key is shown once, and it places bids.
    click(c, "[data-test=nav-bidders]").await;
    type_into(c, "[data-test=field-name]", "exchange-from-console").await;
    click(c, "[data-test=bidder-submit]").await;
    let deadline = Instant::now() + SLOW;
    let key = loop {
        let shown = match c.find(Locator::Css("[data-test=created-api-key]")).await {
            Ok(f) => f.prop("value").await.ok().flatten().unwrap_or_default(),
            Err(_) => String::new(),
        };
        if !shown.is_empty() {
            break shown;
        }
        assert!(
            Instant::now() < deadline,
            "the new bidder's key never showed"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let open = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    assert_eq!(
        app.bid(&key, open, json!("1.00")).await.status(),
        StatusCode::CREATED
    );
    until(SLOW, "the bidder in the list", || async {
        text(c, "[data-test=bidder-row]")
            .await
            .contains("exchange-from-console")
            || count(c, "[data-test=bidder-row]").await >= 2
    })
    .await;
}

/// A bidder's page: status and keys; a new key shown once, the old one revoked, the bidder
/// disabled and enabled again, each confirmed; the API agrees at every step.
pub async fn a_bidder_page_rotates_revokes_and_disables(scene: &Scene, id: i64) {
    let Scene { app, relay, c } = scene;
    c.goto(&format!("{}/admin#/bidders/{id}", relay.url))
        .await
        .unwrap();
    until(SLOW, "the bidder page", || async {
        text(c, "[data-test=bidder-heading]")
            .await
            .contains(MARKUP_NAME)
            && text(c, "[data-test=bidder-status]").await == "active"
            && count(c, "[data-test=key-row]").await == 1
    })
    .await;
    assert_eq!(
        count(c, "[data-test=bidder-heading] b").await,
        0,
        "the name is text"
    );
    // A new key: confirmed, shown once, listed beside the old one.
    click(c, "[data-test=rotate-button]").await;
    click(c, "[data-test=rotate-yes]").await;
    let deadline = Instant::now() + SLOW;
    let new_key = loop {
        let shown = match c.find(Locator::Css("[data-test=created-api-key]")).await {
            Ok(f) => f.prop("value").await.ok().flatten().unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown.starts_with("gvl_") && count(c, "[data-test=key-row]").await == 2 {
            break shown;
        }
        assert!(Instant::now() < deadline, "the new key never showed");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    // Revoke the old key (the first row): No first, then Yes.
    let old_prefix = text(c, "[data-test=key-row] [data-test=key-prefix]").await;
    click(c, "[data-test=key-row] [data-test=revoke-button]").await;
    click(c, "[data-test=revoke-no]").await;
    assert_eq!(count(c, "[data-test=key-row]").await, 2, "No keeps the key");
    click(c, "[data-test=key-row] [data-test=revoke-button]").await;
    click(c, "[data-test=revoke-yes]").await;
    until(SLOW, "one key left, the new one", || async {
        count(c, "[data-test=key-row]").await == 1
            && text(c, "[data-test=key-prefix]").await != old_prefix
    })
    .await;
    assert!(new_key.starts_with(
        text(c, "[data-test=key-prefix]")
            .await
            .trim_end_matches('…')
    ));
    // Disabled, then enabled again; the API refuses its key meanwhile.
    click(c, "[data-test=disable-button]").await;
    click(c, "[data-test=disable-yes]").await;
    until(SLOW, "the bidder disabled", || async {
        text(c, "[data-test=bidder-status]").await == "disabled"
    })
    .await;
    let (status, _) =
        common::status_json(app.get("/api/auctions?limit=1", Some(&new_key)).await).await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::OK,
        "{status}"
    );
    click(c, "[data-test=enable-button]").await;
    click(c, "[data-test=enable-yes]").await;
    until(SLOW, "the bidder enabled again", || async {
        text(c, "[data-test=bidder-status]").await == "active"
    })
    .await;
    std::fs::write(
        artifacts().join("bidder-page.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}
