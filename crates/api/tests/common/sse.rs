//! Reading a `text/event-stream` response, as a client does.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use super::TestApp;

/// Reads `event:`/`data:` pairs off a `text/event-stream` response.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
    /// The `id:` of the last event read.
    pub last_id: Option<String>,
    /// The last `retry:` hint read.
    pub retry: Option<String>,
}

impl SseReader {
    pub async fn open(app: &TestApp, id: i64, key: &str) -> Self {
        Self::resume(app, id, key, None).await
    }

    /// Opens a stream as a client reconnecting after event `last_event_id` would.
    pub async fn resume(app: &TestApp, id: i64, key: &str, last_event_id: Option<&str>) -> Self {
        let mut req = app
            .client
            .get(format!("{}/api/auctions/{id}/events", app.url))
            .bearer_auth(key)
            .timeout(Duration::from_secs(60));
        if let Some(last) = last_event_id {
            req = req.header("Last-Event-ID", last);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        SseReader {
            resp,
            buf: String::new(),
            last_id: None,
            retry: None,
        }
    }

    /// The next event (comments skipped), or `None` when the stream ends or `within` passes.
    pub async fn next(&mut self, within: Duration) -> Option<(String, Value)> {
        let deadline = Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = Some(n.trim().to_string());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    } else if let Some(i) = line.strip_prefix("id:") {
                        self.last_id = Some(i.trim().to_string());
                    } else if let Some(r) = line.strip_prefix("retry:") {
                        self.retry = Some(r.trim().to_string());
                    }
                }
                if let Some(name) = name {
                    return Some((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Skips events until one named `name` arrives.
    pub async fn expect(&mut self, name: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some((n, data)) if n == name => return data,
                Some(_) => continue,
                None => panic!("no `{name}` event"),
            }
        }
    }
}

impl SseReader {
    /// Whether the server ends the stream within `within` (comment lines skipped).
    pub async fn ends(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Ok(Ok(Some(_))) => continue,
                Err(_) => return false,
            }
        }
    }
}
