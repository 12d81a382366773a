//! The browser side of the console tests: a chromedriver of our own, a headless Chromium
//! session, and small probes of the page.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::common;

/// How long the page may take to show what the API already did.
pub const LIVE: Duration = Duration::from_secs(1);
/// Patience for slower steps (page loads, settlement).
pub const SLOW: Duration = Duration::from_secs(15);

/// A chromedriver of our own on a free port, stopped when dropped.
pub struct Driver {
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
pub struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn start_driver() -> Driver {
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
pub async fn browser(driver: &Driver) -> Client {
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

pub async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.map_or(0, |v| v.len())
}

pub async fn text(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(name)
        .await
        .ok()?
}

pub async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(SLOW)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

pub async fn type_into(c: &Client, css: &str, value: &str) {
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
pub async fn set_from_now(c: &Client, css: &str, secs: i64) {
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

/// Where artifacts of the browser tests go (screenshots).
pub fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
