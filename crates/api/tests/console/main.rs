//! The admin console in a real browser: headless Chromium driven over WebDriver
//! (chromedriver; `scripts/test.sh` installs Debian's `chromium` and `chromium-driver`).
//! Sign in, create an auction through the form, watch bids arrive live, lose the connection
//! and get the missed bids on reconnecting, see the close and
//! the result, cancel another auction, create a bidder, be refused with a wrong token, get
//! around by keyboard alone, and fit a phone's width.

mod access;
mod bidders;
mod browser;
#[path = "../common/mod.rs"]
mod common;
mod relay;

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use access::{keyboard_only, phone_width};
use bidders::{
    a_bidder_page_rotates_revokes_and_disables, a_second_bidder_is_outbid, bidder_with_hook,
    creating_a_bidder_shows_its_key_once, webhook_receiver, MARKUP_NAME,
};
use browser::{
    artifacts, attr, browser, click, count, set_from_now, start_driver, text, type_into, LIVE, SLOW,
};
use common::{spawn_app, TestApp, ADMIN_TOKEN};
use gavel_devkit::until;
use relay::Relay;

/// Opens the console through the relay and signs in with `token`.
async fn sign_in(c: &Client, relay: &Relay, token: &str) {
    c.goto(&format!("{}/admin", relay.url)).await.unwrap();
    type_into(c, "[data-test=token-input]", token).await;
    click(c, "[data-test=signin-submit]").await;
}

/// What every step works with: the app, the relay the browser goes through, the browser.
struct Scene {
    app: TestApp,
    relay: Relay,
    c: Client,
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_console_runs_auctions_live_in_a_real_browser(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The browser reaches gavel through a relay, so that the test can drop its stream.
    let relay = Relay::start(app.addr).await;
    let driver = start_driver().await;
    let c = browser(&driver).await;
    let scene = Scene { app, relay, c };

    assets_are_cached_under_a_strict_policy(&scene.app).await;
    signing_in_refuses_a_wrong_token(&scene).await;
    let (id, ends) = creating_an_auction_through_the_form(&scene).await;
    let hook = webhook_receiver().await;
    let (key, bidder) = bids_appear_live(&scene, id, &hook).await;
    a_dropped_stream_resumes_where_it_left_off(&scene, id, &key).await;
    a_second_bidder_is_outbid(&scene, id, &key, &hook).await;
    the_close_is_shown_as_it_happens(&scene, ends).await;
    cancelling_from_the_list(&scene).await;
    creating_a_bidder_shows_its_key_once(&scene).await;
    a_bidder_page_rotates_revokes_and_disables(&scene, bidder).await;
    keyboard_only(&scene).await;
    phone_width(&scene, id).await;

    scene.c.close().await.unwrap();
}

/// The page itself: embedded, cached by ETag, under a strict policy.
async fn assets_are_cached_under_a_strict_policy(app: &TestApp) {
    // The page itself: embedded, cached by ETag, under a strict policy.
    let page = app.get("/admin", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    let etag = page.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/admin/app.js", app.url))
        .send()
        .await
        .unwrap();
    let js_etag = again.headers()["etag"].clone();
    let cached = app
        .client
        .get(format!("{}/admin/app.js", app.url))
        .header("If-None-Match", js_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_ne!(etag, cached.headers()["etag"]);
    // Its modules, under the same policy; no other name is served there.
    let module = app.get("/admin/js/api.js", None).await;
    assert_eq!(module.status(), StatusCode::OK);
    assert!(module.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(module.headers().contains_key("etag"));
    assert!(module.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let (s, v) = common::status_json(app.get("/admin/js/app.css", None).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, _) = common::status_json(app.get("/admin/js/nope.js", None).await).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// A wrong token is refused with the API's own words; the admin token signs in.
async fn signing_in_refuses_a_wrong_token(scene: &Scene) {
    let Scene { relay, c, .. } = scene;
    // A wrong token is refused with the API's own words.
    sign_in(c, relay, "not-the-admin-token-not-the-admin-token").await;
    until(SLOW, "the sign-in error", || async {
        text(c, "[data-test=signin-error]")
            .await
            .contains("unknown bearer token")
    })
    .await;
    assert!(!c
        .find(Locator::Css("#nav"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());

    sign_in(c, relay, ADMIN_TOKEN).await;
    until(SLOW, "signed in", || async {
        count(c, "[data-test=signin-error]:not([hidden])").await == 0
            && attr(c, "#nav", "hidden").await.is_none()
    })
    .await;
}

/// The create form: a bad auction refused beside its field, then one created; its id and end.
async fn creating_an_auction_through_the_form(scene: &Scene) -> (i64, Instant) {
    let Scene { c, .. } = scene;
    // Create an auction through the form: first a bad one, refused beside its field.
    click(c, "[data-test=nav-new-auction]").await;
    type_into(c, "[data-test=field-title]", " ").await;
    set_from_now(c, "[data-test=field-ends_at]", 3600).await;
    click(c, "[data-test=create-submit]").await;
    until(SLOW, "a field error beside the title", || async {
        !text(c, "#err-title").await.trim().is_empty()
    })
    .await;
    type_into(c, "[data-test=field-title]", "Console live").await;
    type_into(c, "[data-test=field-reserve_price]", "1.00").await;
    set_from_now(c, "[data-test=field-ends_at]", 20).await;
    let ends = Instant::now() + Duration::from_secs(20);
    click(c, "[data-test=create-submit]").await;
    until(SLOW, "the live view of the new auction", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.fragment().is_some_and(|f| f.starts_with("/auctions/")))
            && attr(c, "[data-test=stream-state]", "data-state")
                .await
                .as_deref()
                == Some("live")
    })
    .await;
    let url = c.current_url().await.unwrap();
    let id: i64 = url
        .fragment()
        .and_then(|f| f.strip_prefix("/auctions/"))
        .and_then(|s| s.parse().ok())
        .expect("an auction id in the URL");
    (id, ends)
}

/// Bids placed through the API appear in the ladder (under the bidder's name, as text) and
/// the chart; the bidder's key and id.
async fn bids_appear_live(scene: &Scene, id: i64, hook: &str) -> (String, i64) {
    let Scene { app, c, .. } = scene;
    // Bids placed through the API appear in the ladder and the chart within a second.
    let (bidder, key) = bidder_with_hook(app, MARKUP_NAME, hook).await;
    for (n, amount) in ["1.00", "2.50", "4.00"].into_iter().enumerate() {
        let r = app.bid(&key, id, json!(amount)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // The top row is read in the same probe: the ladder may be redrawn in between.
        until(LIVE, &format!("bid {amount} on the page"), || async {
            count(c, "[data-test=ladder-row]").await == n + 1
                && count(c, "[data-test=chart-point]").await == n + 1
                && text(c, "[data-test=ladder-row]").await.contains(amount)
        })
        .await;
    }
    until(SLOW, "the bidder's name in the ladder", || async {
        text(c, "[data-test=ladder-bidder]").await == MARKUP_NAME
    })
    .await;
    assert_eq!(
        count(c, "[data-test=ladder-bidder] b").await,
        0,
        "a name is text, never markup"
    );
    let shot = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join("live-auction.png"), shot).unwrap();
    (key, bidder)
}

/// The stream drops; the page reconnects by itself and shows the bids placed meanwhile.
async fn a_dropped_stream_resumes_where_it_left_off(scene: &Scene, id: i64, key: &str) {
    let Scene { app, relay, c } = scene;
    // The connection drops; bids placed meanwhile are not lost: the page reconnects on its
    // own, says so, and resumes from the last event it saw (Last-Event-ID).
    relay.cut();
    until(SLOW, "the page noticing the drop", || async {
        attr(c, "[data-test=stream-state]", "data-state")
            .await
            .as_deref()
            == Some("reconnecting")
    })
    .await;
    for amount in ["5.00", "6.25"] {
        let r = app.bid(key, id, json!(amount)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    until(SLOW, "the missed bids after reconnecting", || async {
        attr(c, "[data-test=stream-state]", "data-state")
            .await
            .as_deref()
            == Some("live")
            && count(c, "[data-test=ladder-row]").await == 5
            && count(c, "[data-test=chart-point]").await == 5
            && text(c, "[data-test=ladder-row]").await.contains("6.25")
    })
    .await;
    // Three bids were seen before the drop: the third's event id is 6 (the n-th bid is 2n).
    assert!(
        relay
            .sent()
            .to_ascii_lowercase()
            .contains("last-event-id: 6\r\n"),
        "the reconnect did not resume from the last event seen"
    );
}

/// The close and the result, as they happen.
async fn the_close_is_shown_as_it_happens(scene: &Scene, ends: Instant) {
    let Scene { c, .. } = scene;
    // The close and the result, as they happen (how soon depends on how fast the steps
    // above went: wait for the end, then give settlement its time).
    let until_closed = ends.saturating_duration_since(Instant::now()) + SLOW;
    until(until_closed, "the auction closed on the page", || async {
        text(c, "[data-test=auction-status]")
            .await
            .contains("closed")
            && text(c, "[data-test=result-price]").await.contains("7.00")
    })
    .await;
    // The notices it owed, won and lost, delivered.
    until(SLOW, "the notices under the result", || async {
        let notices = text(c, "[data-test=notices]").await;
        count(c, "[data-test=notice-row]").await == 2
            && notices.contains("won")
            && notices.contains("lost (outbid)")
            && notices.contains("exchange-2")
            && !notices.contains("pending")
    })
    .await;
    assert_eq!(
        attr(c, "[data-test=stream-state]", "data-state")
            .await
            .as_deref(),
        Some("ended")
    );
    std::fs::write(
        artifacts().join("closed-auction.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}

/// Cancelling from the list, confirmed; a stale cancel shows its 409 plainly.
async fn cancelling_from_the_list(scene: &Scene) {
    let Scene { app, c, .. } = scene;
    // Cancel another auction from the list, with confirmation; one cancelled behind the
    // page's back answers 409 invalid_state, shown plainly.
    let other = app.create_auction(json!({"title": "To cancel"})).await["id"]
        .as_i64()
        .unwrap();
    let gone = app
        .create_auction(json!({"title": "Cancelled elsewhere"}))
        .await["id"]
        .as_i64()
        .unwrap();
    click(c, "[data-test=nav-auctions]").await;
    let row = format!("[data-test=auction-row][data-id='{other}']");
    until(SLOW, "the auction in the list", || async {
        count(c, &row).await == 1
    })
    .await;
    click(c, &format!("{row} [data-test=cancel-button]")).await;
    click(c, "[data-test=cancel-yes]").await;
    until(SLOW, "the cancelled status in the list", || async {
        attr(c, &row, "data-status").await.as_deref() == Some("cancelled")
    })
    .await;
    let (s, _) = common::status_json(
        app.get(&format!("/api/auctions/{other}"), Some(ADMIN_TOKEN))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let r = app
        .post(
            &format!("/api/auctions/{gone}/cancel"),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let stale = format!("[data-test=auction-row][data-id='{gone}'] [data-test=cancel-button]");
    click(c, &stale).await;
    click(c, "[data-test=cancel-yes]").await;
    until(SLOW, "409 invalid_state shown", || async {
        text(c, "[data-test=cancel-error]")
            .await
            .contains("invalid_state")
    })
    .await;
    let v: Value = app
        .get(&format!("/api/auctions/{other}"), Some(ADMIN_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "cancelled");
}
