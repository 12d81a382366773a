//! Idle event streams: how much memory gavel holds per open stream that nothing happens on.
//! Opens a first hundred streams (so that what every stream shares is counted apart), reads
//! gavel's RSS, opens the rest, waits, and reads it again.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::procs::status_kib;

/// Streams opened before the first reading.
const FIRST: usize = 100;
/// Auctions the streams are spread over.
const AUCTIONS: usize = 10;

/// Opens `n` idle streams on gavel at `url` (pid `pid`) and reports KiB per stream.
pub fn idle(url: &str, token: &str, pid: u32, n: usize) -> Result<Value, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let ids = auctions(url, token, AUCTIONS).await?;
        let addr = url.trim_start_matches("http://").to_string();
        let mut open = Vec::with_capacity(n);
        open.extend(connect_many(&addr, token, &ids, 0..FIRST.min(n)).await?);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = status_kib(pid, "VmRSS:").ok_or("no RSS for gavel")?;
        open.extend(connect_many(&addr, token, &ids, FIRST.min(n)..n).await?);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = status_kib(pid, "VmRSS:").ok_or("no RSS for gavel")?;
        let added = n.saturating_sub(FIRST).max(1);
        drop(open);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let closed = status_kib(pid, "VmRSS:");
        Ok(json!({
            "label": "idle-streams", "streams": n,
            "rss_kib_before": before, "rss_kib_open": after, "rss_kib_closed": closed,
            "kib_per_stream": (after.saturating_sub(before)) as f64 / added as f64,
        }))
    })
}

/// `count` english auctions open for an hour (reserve 1.00, increment 0.05).
pub async fn auctions(url: &str, token: &str, count: usize) -> Result<Vec<i64>, String> {
    let client = reqwest::Client::new();
    let ends_at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mut ids = Vec::new();
    for i in 0..count {
        let body = json!({"title": format!("bench {i}"), "kind": "english",
            "currency": "USD", "reserve_price": "1.00", "min_increment": "0.05", "ends_at": ends_at});
        let v = post_json(&client, &format!("{url}/api/auctions"), token, &body).await?;
        ids.push(v["id"].as_i64().ok_or_else(|| format!("no auction: {v}"))?);
    }
    Ok(ids)
}

/// POSTs `body` as the admin; the answer's JSON.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<Value, String> {
    client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

/// Opens streams number `range`, 256 at a time, each read up to the end of its headers.
async fn connect_many(
    addr: &str,
    token: &str,
    ids: &[i64],
    range: std::ops::Range<usize>,
) -> Result<Vec<TcpStream>, String> {
    let mut out = Vec::with_capacity(range.len());
    let all: Vec<usize> = range.collect();
    for chunk in all.chunks(256) {
        let mut set = tokio::task::JoinSet::new();
        for &i in chunk {
            let req = format!(
                "GET /api/auctions/{}/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n",
                ids[i % ids.len()]
            );
            let addr = addr.to_string();
            set.spawn(async move { open_one(&addr, &req).await });
        }
        while let Some(r) = set.join_next().await {
            out.push(r.map_err(|e| e.to_string())??);
        }
    }
    Ok(out)
}

async fn open_one(addr: &str, req: &str) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("a stream closed before its headers".into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(format!(
            "a stream was refused: {}",
            String::from_utf8_lossy(&head)
        ));
    }
    Ok(s)
}
