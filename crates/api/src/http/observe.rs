//! What every request goes through first: its id, its span and log lines, its count and
//! time in the metrics ([`Observe`]).
//!
//! - The id is the client's `X-Request-Id` when it fits ([`fit_request_id`]), else a fresh
//!   UUID v4. It is logged in the request's span and returned on the response, whatever
//!   answers it.
//! - Every answer is logged at `info` as `finished processing request` with `status` and
//!   `latency`; a `5xx` also at `error` as `response failed`, after its cause (`internal
//!   error`, with the error chain) when it has one.
//! - Every request is counted and timed by [`Tracking`], with the same two readings of the
//!   clock as its log line.
//!
//! One layer rather than tower-http's `TraceLayer`, a request-id layer, a failure log and
//! the metrics layer: each wrapped the answer in a future of its own (the trace layer its
//! body too), and together they read the clock seven times a request where two serve,
//! though at `RUST_LOG=warn` nothing of it is logged.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::Span;

use super::metrics::{RouteTemplates, Tracking};
use super::{error, fit_request_id, REQUEST_ID};

/// Wraps a service in [`Observe`].
#[derive(Clone, Copy)]
pub(crate) struct ObserveLayer {
    routes: &'static RouteTemplates,
}

impl ObserveLayer {
    /// Labels requests by the templates in `routes`.
    pub(crate) fn new(routes: &'static RouteTemplates) -> Self {
        Self { routes }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            routes: self.routes,
        }
    }
}

/// Gives each request an id, a span and a log line, and counts and times it.
#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    routes: &'static RouteTemplates,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Observe<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        // Nothing past this layer reads the header, so a made id is not written into the
        // request (a header map insertion a request); an unfit one is taken out.
        let id = match req.headers().get(REQUEST_ID) {
            Some(id) if fit_request_id(id.as_bytes()) => id.clone(),
            Some(_) => {
                req.headers_mut().remove(REQUEST_ID);
                new_id()
            }
            None => new_id(),
        };
        let span = request_span(&req, &id);
        let tracking = Tracking::start(&req, self.routes);
        let inner = {
            let _entered = span.enter();
            tracing::debug!("started processing request");
            self.inner.call(req)
        };
        Observed {
            inner,
            span,
            tracking,
            id: Some(id),
        }
    }
}

pin_project! {
    /// A request's answer on its way: logged, counted and given the request's id when it
    /// comes (only counted as no longer in flight when dropped first).
    pub struct Observed<F> {
        #[pin]
        inner: F,
        span: Span,
        tracking: Tracking,
        id: Option<HeaderValue>,
    }
}

impl<F, ResB, E> Future for Observed<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let mut answer = ready!(this.inner.poll(cx));
        if let Ok(resp) = &mut answer {
            let latency = this.tracking.finish(resp.status());
            log_answer(resp, latency);
            if let Some(id) = this.id.take() {
                resp.headers_mut().insert(REQUEST_ID, id);
            }
        }
        Poll::Ready(answer)
    }
}

/// Every log line of a request carries its id, method and path (never the query or
/// headers, which may hold secrets). The fields are only read when the span is enabled
/// (not at `RUST_LOG=warn`, say).
fn request_span<B>(req: &Request<B>, id: &HeaderValue) -> Span {
    tracing::info_span!(
        "request",
        request_id = %id.to_str().unwrap_or("-"),
        method = %req.method(),
        path = %req.uri().path(),
    )
}

/// The answer's log lines, inside the request's span.
fn log_answer<B>(resp: &Response<B>, latency: Duration) {
    error::log_failure(resp);
    let status = resp.status();
    tracing::info!(
        latency = %Millis(latency),
        status = status.as_u16(),
        "finished processing request"
    );
    if status.is_server_error() {
        tracing::error!(
            classification = %format_args!("Status code: {status}"),
            latency = %Millis(latency),
            "response failed"
        );
    }
}

/// A latency as logged: whole milliseconds, `"3 ms"`.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0.as_millis())
    }
}

/// A UUID v4 from the thread's random generator (tower-http's `MakeRequestUuid` asked the
/// kernel for fresh randomness on every request, a system call each; a request id needs to
/// be unique, not secret).
fn new_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
        .expect("a hyphenated UUID is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v4_and_differ() {
        let (a, b) = (new_id(), new_id());
        let a = uuid::Uuid::parse_str(a.to_str().unwrap()).unwrap();
        let b = uuid::Uuid::parse_str(b.to_str().unwrap()).unwrap();
        assert_eq!(a.get_version_num(), 4);
        assert_ne!(a, b);
    }

    #[test]
    fn latencies_are_logged_in_whole_milliseconds() {
        assert_eq!(Millis(Duration::from_micros(3_900)).to_string(), "3 ms");
        assert_eq!(Millis(Duration::from_secs(2)).to_string(), "2000 ms");
    }
}
