//! Accepting connections: each is served by hyper with a deadline for its request heads
//! (which also closes a keep-alive connection idle past it), at most `max` at once, and
//! all of them asked to finish when shutdown begins.

mod head_deadline;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use head_deadline::HeadDeadline;

/// How connections are kept in check.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A connection must send a whole request head within this long, counted from when it
    /// opened or finished its last answer; else it is closed (slow or idle clients).
    pub header_timeout: Duration,
    /// Most connections open at once; past it a new one is closed at once.
    pub max: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max: 12_000,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, asks every
/// connection to finish (idle ones close at once) and resolves when all have.
pub async fn serve(
    listener: TcpListener,
    app: impl crate::http::App,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    // HTTP/1.1 only (TLS and HTTP/2 end at the proxy in front). hyper-util's `auto`
    // builder reads a few bytes ahead to tell HTTP/2 apart, which doubled every
    // connection's read buffer (16 KiB instead of 8 for each open event stream).
    let mut builder = http1::Builder::new();
    builder.header_read_timeout(limits.header_timeout);
    let app = Shared(Arc::new(app));
    let open = Arc::new(Semaphore::new(limits.max.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics::counter!("gavel_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let permit = OpenConnection::new(permit);
        let _ = stream.set_nodelay(true);
        let (app, mut builder, watcher) = (app.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            // A client that sends nothing at all: the protocol is not known yet, so no
            // request-head deadline runs; this one does.
            let mut first = [0u8; 1];
            match tokio::time::timeout(limits.header_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let service = TowerToHyperService::new(
                app.map_request(|req: hyper::Request<Incoming>| req.map(Body::new)),
            );
            // The head deadline is the connection's own (see `head_deadline`).
            let deadline = HeadDeadline::default();
            let conn = builder
                .timer(deadline.clone())
                .serve_connection(TokioIo::new(stream), service);
            let served = deadline.guard(watcher.watch(conn), limits.header_timeout);
            if let Err(e) = served.await {
                count_refused_head(&e);
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The application, one copy for every connection: hyper keeps a service per connection,
/// and the layered stack is about a kilobyte, which each of 10,000 idle event streams held
/// (8.3 → 9.5 KiB a stream when the layers moved around the router). Each request
/// clones the stack from here, as it would clone it from its connection's copy.
struct Shared<S>(Arc<S>);

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<S, R> tower::Service<R> for Shared<S>
where
    S: tower::Service<R> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tower::util::Oneshot<S, R>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        // The clone made in `call` is made ready there.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: R) -> Self::Future {
        S::clone(&self.0).oneshot(req)
    }
}

/// A connection's place among the open ones, counted in `gavel_connections_open` while
/// it lives.
struct OpenConnection(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

impl OpenConnection {
    fn new(permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        metrics::gauge!("gavel_connections_open").increment(1.0);
        OpenConnection(permit)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("gavel_connections_open").decrement(1.0);
    }
}

/// Counts a request hyper answered itself (`400`, `414`, `431`: a head it could not parse),
/// which never reaches the router and its metrics.
fn count_refused_head(e: &(dyn std::error::Error + 'static)) {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_parse() {
                let status = if h.to_string().contains("URI too long") {
                    "414"
                } else if h.is_parse_too_large() {
                    "431"
                } else {
                    "400"
                };
                let labels = [
                    ("method", "other"),
                    ("route", "unmatched"),
                    ("status", status),
                ];
                metrics::counter!("gavel_http_requests_total", &labels).increment(1);
            }
            return;
        }
        source = err.source();
    }
}
