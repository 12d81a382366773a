//! One keep-alive HTTP/1.1 connection per worker and server, on hyper's own client, as wrk
//! keeps one per connection: no pool to look up, no URL to parse per request. The
//! generator shares the cores with the server it measures, so what it spends on each
//! request is taken from the figures.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::http::HeaderValue;
use hyper_util::rt::TokioIo;

/// A request as the connection sends it.
pub type Request = hyper::Request<Full<Bytes>>;

/// A server to send to: its address and the `Host` header naming it.
#[derive(Debug, Clone)]
pub struct Base {
    /// `host:port`.
    addr: String,
    /// The same, as the `Host` header.
    pub host: HeaderValue,
}

impl Base {
    /// The server of a base URL (`http://host:port`, plain HTTP only).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: gavel-loadgen speaks plain http:// only"))?;
        let addr = rest.split('/').next().unwrap_or_default().to_string();
        let addr = if addr.contains(':') {
            addr
        } else {
            format!("{addr}:80")
        };
        let host = HeaderValue::from_str(&addr).map_err(|_| format!("{url}: not a host"))?;
        Ok(Self { addr, host })
    }
}

/// A worker's connections, one per server (opened on first use, again after a failure).
pub struct Conns {
    open: Vec<Option<SendRequest<Full<Bytes>>>>,
    timeout: Duration,
}

impl Conns {
    /// No connection yet to any of `servers`; each answer is awaited at most `timeout`.
    pub fn new(servers: usize, timeout: Duration) -> Self {
        Self {
            open: (0..servers).map(|_| None).collect(),
            timeout,
        }
    }

    /// Sends `req` to server `i` (`base`) and reads the whole answer: its status and
    /// body, or `None` when none came in time (the connection is then dropped).
    pub async fn send(&mut self, i: usize, base: &Base, req: Request) -> Option<(u16, Bytes)> {
        let answer = tokio::time::timeout(self.timeout, async {
            if self.open[i].as_ref().is_none_or(|s| s.is_closed()) {
                self.open[i] = Some(connect(base).await?);
            }
            let sender = self.open[i].as_mut()?;
            sender.ready().await.ok()?;
            let resp = sender.send_request(req).await.ok()?;
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.ok()?.to_bytes();
            Some((status, body))
        })
        .await;
        match answer {
            Ok(Some(answer)) => Some(answer),
            _ => {
                self.open[i] = None;
                None
            }
        }
    }
}

async fn connect(base: &Base) -> Option<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(&base.addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Some(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_plain_http_servers() {
        let b = Base::parse("http://127.0.0.1:3000/").unwrap();
        assert_eq!(
            (b.addr.as_str(), b.host.to_str().unwrap()),
            ("127.0.0.1:3000", "127.0.0.1:3000")
        );
        assert_eq!(Base::parse("http://gavel").unwrap().addr, "gavel:80");
        assert!(Base::parse("https://gavel").is_err());
    }
}
