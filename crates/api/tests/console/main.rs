//! The admin console in a real browser: headless Chromium driven over WebDriver
//! (chromedriver; `scripts/test.sh` installs Debian's `chromium` and `chromium-driver`).
//! Sign in, create an auction through the form, watch bids arrive live, lose the connection
//! and get the missed bids on reconnecting, see the close and
//! the result, cancel another auction, create a bidder, be refused with a wrong token, get
//! around by keyboard alone, and fit a phone's width.

#[path = "../common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use common::{spawn_app, ADMIN_TOKEN};

/// How long the page may take to show what the API already did.
const LIVE: Duration = Duration::from_secs(1);
/// Patience for slower steps (page loads, settlement).
const SLOW: Duration = Duration::from_secs(15);

/// A chromedriver of our own on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped (a fresh browser profile).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_driver() -> Driver {
    let bin = std::env::var("GAVEL_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = common::free_port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin} could not start ({e}); scripts/test.sh installs it"));
    let profile = TempDir(std::env::temp_dir().join(format!("gavel-chromium-{port}")));
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + SLOW;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver {
        child,
        url,
        _profile: profile,
    }
}

/// A headless Chromium session, with the flags this closed network needs.
async fn browser(driver: &Driver) -> Client {
    let chromium = std::env::var("GAVEL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", driver._profile.0.display()),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// A TCP relay between the browser and gavel that can drop every connection at once, as a
/// flaky network or a restarted load balancer would, and keeps what the browser sent.
struct Relay {
    /// The relay's base URL, which the browser uses in place of the server's.
    url: String,
    /// The relayed connections; aborting them closes both sides.
    conns: Arc<Mutex<JoinSet<()>>>,
    /// Every byte the browser sent, in arrival order (requests are plain HTTP/1.1).
    sent: Arc<Mutex<Vec<u8>>>,
    /// The accept loop.
    acceptor: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(to: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let conns = Arc::new(Mutex::new(JoinSet::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (c, s) = (conns.clone(), sent.clone());
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(to).await else {
                    continue;
                };
                let sent = s.clone();
                c.lock().unwrap().spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        let mut buf = vec![0; 16 * 1024];
                        while let Ok(n @ 1..) = cr.read(&mut buf).await {
                            sent.lock().unwrap().extend_from_slice(&buf[..n]);
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = sw.shutdown().await;
                    };
                    let down = async {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        let _ = cw.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Relay {
            url,
            conns,
            sent,
            acceptor,
        }
    }

    /// Drops every open connection; new ones are relayed as before.
    fn cut(&self) {
        self.conns.lock().unwrap().abort_all();
    }

    /// What the browser has sent so far, as text.
    fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}

/// Polls `probe` until it says yes, or fails naming `what`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if probe().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.map_or(0, |v| v.len())
}

async fn text(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(name)
        .await
        .ok()?
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(SLOW)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(c: &Client, css: &str, value: &str) {
    let field = c
        .wait()
        .at_most(SLOW)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Sets a `datetime-local` field to `secs` from now, in the browser's own time zone.
async fn set_from_now(c: &Client, css: &str, secs: i64) {
    c.execute(
        "const [css, secs] = arguments;
         const d = new Date(Date.now() + secs * 1000);
         const p = (n) => String(n).padStart(2, '0');
         const el = document.querySelector(css);
         el.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
                    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
         el.dispatchEvent(new Event('input', {bubbles: true}));
         el.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(css), json!(secs)],
    )
    .await
    .unwrap();
}

async fn sign_in(c: &Client, relay: &Relay, token: &str) {
    c.goto(&format!("{}/admin", relay.url)).await.unwrap();
    type_into(c, "[data-test=token-input]", token).await;
    click(c, "[data-test=signin-submit]").await;
}

/// Where artifacts of the browser tests go (screenshots).
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_console_runs_auctions_live_in_a_real_browser(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The browser reaches gavel through a relay, so that the test can drop its stream.
    let relay = Relay::start(app.addr).await;
    let driver = start_driver().await;
    let c = browser(&driver).await;

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

    // A wrong token is refused with the API's own words.
    sign_in(&c, &relay, "not-the-admin-token-not-the-admin-token").await;
    eventually(SLOW, "the sign-in error", || async {
        text(&c, "[data-test=signin-error]")
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

    sign_in(&c, &relay, ADMIN_TOKEN).await;
    eventually(SLOW, "signed in", || async {
        count(&c, "[data-test=signin-error]:not([hidden])").await == 0
            && attr(&c, "#nav", "hidden").await.is_none()
    })
    .await;

    // Create an auction through the form: first a bad one, refused beside its field.
    click(&c, "[data-test=nav-new-auction]").await;
    type_into(&c, "[data-test=field-title]", " ").await;
    set_from_now(&c, "[data-test=field-ends_at]", 3600).await;
    click(&c, "[data-test=create-submit]").await;
    eventually(SLOW, "a field error beside the title", || async {
        !text(&c, "#err-title").await.trim().is_empty()
    })
    .await;
    type_into(&c, "[data-test=field-title]", "Console live").await;
    type_into(&c, "[data-test=field-reserve_price]", "1.00").await;
    set_from_now(&c, "[data-test=field-ends_at]", 20).await;
    let ends = Instant::now() + Duration::from_secs(20);
    click(&c, "[data-test=create-submit]").await;
    eventually(SLOW, "the live view of the new auction", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.fragment().is_some_and(|f| f.starts_with("/auctions/")))
            && attr(&c, "[data-test=stream-state]", "data-state")
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

    // Bids placed through the API appear in the ladder and the chart within a second.
    let (_, key) = app.create_bidder("exchange-1").await;
    for (n, amount) in ["1.00", "2.50", "4.00"].into_iter().enumerate() {
        let r = app.bid(&key, id, json!(amount)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // The top row is read in the same probe: the ladder may be redrawn in between.
        eventually(LIVE, &format!("bid {amount} on the page"), || async {
            count(&c, "[data-test=ladder-row]").await == n + 1
                && count(&c, "[data-test=chart-point]").await == n + 1
                && text(&c, "[data-test=ladder-row]").await.contains(amount)
        })
        .await;
    }
    let shot = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join("live-auction.png"), shot).unwrap();

    // The connection drops; bids placed meanwhile are not lost: the page reconnects on its
    // own, says so, and resumes from the last event it saw (Last-Event-ID).
    relay.cut();
    eventually(SLOW, "the page noticing the drop", || async {
        attr(&c, "[data-test=stream-state]", "data-state")
            .await
            .as_deref()
            == Some("reconnecting")
    })
    .await;
    for amount in ["5.00", "6.25"] {
        let r = app.bid(&key, id, json!(amount)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    eventually(SLOW, "the missed bids after reconnecting", || async {
        attr(&c, "[data-test=stream-state]", "data-state")
            .await
            .as_deref()
            == Some("live")
            && count(&c, "[data-test=ladder-row]").await == 5
            && count(&c, "[data-test=chart-point]").await == 5
            && text(&c, "[data-test=ladder-row]").await.contains("6.25")
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

    // The close and the result, as they happen (how soon depends on how fast the steps
    // above went: wait for the end, then give settlement its time).
    let until_closed = ends.saturating_duration_since(Instant::now()) + SLOW;
    eventually(until_closed, "the auction closed on the page", || async {
        text(&c, "[data-test=auction-status]")
            .await
            .contains("closed")
            && text(&c, "[data-test=result-price]").await.contains("6.25")
    })
    .await;
    assert_eq!(
        attr(&c, "[data-test=stream-state]", "data-state")
            .await
            .as_deref(),
        Some("ended")
    );
    std::fs::write(
        artifacts().join("closed-auction.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

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
    click(&c, "[data-test=nav-auctions]").await;
    let row = format!("[data-test=auction-row][data-id='{other}']");
    eventually(SLOW, "the auction in the list", || async {
        count(&c, &row).await == 1
    })
    .await;
    click(&c, &format!("{row} [data-test=cancel-button]")).await;
    click(&c, "[data-test=cancel-yes]").await;
    eventually(SLOW, "the cancelled status in the list", || async {
        attr(&c, &row, "data-status").await.as_deref() == Some("cancelled")
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
    click(&c, &stale).await;
    click(&c, "[data-test=cancel-yes]").await;
    eventually(SLOW, "409 invalid_state shown", || async {
        text(&c, "[data-test=cancel-error]")
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

    // Bidders: a new one's key is shown once, and it places bids.
    click(&c, "[data-test=nav-bidders]").await;
    type_into(&c, "[data-test=field-name]", "exchange-from-console").await;
    click(&c, "[data-test=bidder-submit]").await;
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
    eventually(SLOW, "the bidder in the list", || async {
        text(&c, "[data-test=bidder-row]")
            .await
            .contains("exchange-from-console")
            || count(&c, "[data-test=bidder-row]").await >= 2
    })
    .await;

    // Keyboard only: Tab reaches the navigation and the list's controls, Enter follows them.
    c.goto(&format!("{}/admin#/auctions", relay.url))
        .await
        .unwrap();
    eventually(SLOW, "the auction list", || async {
        count(&c, "[data-test=auction-row]").await >= 1
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
    eventually(SLOW, "the bidders page, by keyboard", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.fragment() == Some("/bidders"))
            && count(&c, "[data-test=bidder-row]").await >= 1
    })
    .await;

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
        eventually(SLOW, &format!("{page} fitting a phone's width"), || async {
            count(&c, ready).await >= 1
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

    c.close().await.unwrap();
}
