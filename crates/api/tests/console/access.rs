//! The console without a mouse and on a phone: every control reachable by keyboard, no
//! page wider than the screen.

use fantoccini::Locator;

use crate::browser::{artifacts, count, SLOW};
use crate::Scene;
use gavel_devkit::until;

/// Keyboard only: Tab reaches the navigation and the list's controls, Enter follows them.
pub async fn keyboard_only(scene: &Scene) {
    let Scene { relay, c, .. } = scene;
    // Keyboard only: Tab reaches the navigation and the list's controls, Enter follows them.
    c.goto(&format!("{}/admin#/auctions", relay.url))
        .await
        .unwrap();
    until(SLOW, "the auction list", || async {
        count(c, "[data-test=auction-row]").await >= 1
    })
    .await;
    c.execute("document.activeElement?.blur(); window.focus();", vec![])
        .await
        .unwrap();
    let mut reached = Vec::new();
    for _ in 0..60 {
        c.active_element()
            .await
            .unwrap()
            .send_keys("\u{E004}") // WebDriver's Tab key
            .await
            .unwrap();
        let focused = c
            .execute(
                "return document.activeElement?.dataset?.test ?? null",
                vec![],
            )
            .await
            .unwrap();
        if let Some(name) = focused.as_str() {
            reached.push(name.to_string());
        }
    }
    for wanted in [
        "nav-auctions",
        "nav-new-auction",
        "nav-bidders",
        "cancel-button",
    ] {
        assert!(
            reached.iter().any(|r| r == wanted),
            "Tab never reached {wanted}: {reached:?}"
        );
    }
    let bidders = c
        .find(Locator::Css("[data-test=nav-bidders]"))
        .await
        .unwrap();
    bidders.send_keys("\u{E007}").await.unwrap(); // Enter
    until(SLOW, "the bidders page, by keyboard", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.fragment() == Some("/bidders"))
            && count(c, "[data-test=bidder-row]").await >= 1
    })
    .await;
}

/// Phone width: no page is wider than the screen.
pub async fn phone_width(scene: &Scene, id: i64) {
    let Scene { relay, c, .. } = scene;
    // Phone width: no page is wider than the screen.
    c.set_window_size(390, 844).await.unwrap();
    let narrow = "return document.documentElement.scrollWidth <= window.innerWidth";
    for (page, ready) in [
        ("#/auctions".to_string(), "[data-test=auction-row]"),
        (format!("#/auctions/{id}"), "[data-test=ladder-row]"),
        ("#/auctions/new".to_string(), "[data-test=field-title]"),
        ("#/bidders".to_string(), "[data-test=bidder-row]"),
    ] {
        c.goto(&format!("{}/admin{page}", relay.url)).await.unwrap();
        until(SLOW, &format!("{page} fitting a phone's width"), || async {
            count(c, ready).await >= 1
                && c.execute(narrow, vec![])
                    .await
                    .is_ok_and(|v| v.as_bool() == Some(true))
        })
        .await;
    }
    std::fs::write(
        artifacts().join("phone-bidders.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}
