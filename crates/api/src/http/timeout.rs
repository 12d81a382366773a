//! `503 timeout` for a request not answered within the limit ([`Timeout`]).
//!
//! The timer starts when the request first has to wait, which is within microseconds of
//! its arrival when it waits at all: most reads are answered in their first poll and need
//! none. tower's `Timeout` started one for every request (a reading of the clock and a
//! reference to the runtime's timer, taken and given back), and the `HandleErrorLayer`
//! that turned its error into the answer cloned the stack below it and boxed its future.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::error::ApiError;

/// Wraps a service in [`Timeout`].
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    limit: Duration,
}

impl TimeoutLayer {
    /// Requests are answered `503 timeout` past `limit`.
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            limit: self.limit,
        }
    }
}

/// Answers `503 timeout` for a request `inner` has not answered within the limit, and
/// drops it (so a bid not yet decided is never stored).
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    limit: Duration,
}

impl<S> Service<Request> for Timeout<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        Timed {
            inner: self.inner.call(req),
            limit: self.limit,
            timer: None,
        }
    }
}

pin_project! {
    /// A request's answer, or `503 timeout` when it takes too long.
    pub struct Timed<F> {
        #[pin]
        inner: F,
        limit: Duration,
        #[pin]
        timer: Option<tokio::time::Sleep>,
    }
}

impl<F> Future for Timed<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(answer) = this.inner.poll(cx) {
            return Poll::Ready(answer);
        }
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep(*this.limit)));
        }
        match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Ok(ApiError::Timeout.into_response())),
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use tower::ServiceExt as _;

    async fn answer_after(wait: Duration) -> StatusCode {
        let slow = tower::service_fn(move |_: Request| async move {
            tokio::time::sleep(wait).await;
            Ok::<_, Infallible>(StatusCode::OK.into_response())
        });
        let timed = TimeoutLayer::new(Duration::from_secs(10)).layer(slow);
        let resp = timed.oneshot(Request::new(Default::default())).await;
        match resp {
            Ok(resp) => resp.status(),
            Err(never) => match never {},
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_within_the_limit_passes() {
        assert_eq!(
            answer_after(Duration::from_millis(9_990)).await,
            StatusCode::OK
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_past_the_limit_is_a_503() {
        let started = tokio::time::Instant::now();
        let status = answer_after(Duration::from_secs(60)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn an_answer_ready_at_once_needs_no_timer() {
        let ready = tower::service_fn(|_: Request| async {
            Ok::<_, Infallible>(StatusCode::OK.into_response())
        });
        let mut timed = TimeoutLayer::new(Duration::from_secs(10)).layer(ready);
        let mut fut = std::pin::pin!(timed.call(Request::new(Default::default())));
        let waker = std::task::Waker::noop();
        let polled = fut.as_mut().poll(&mut Context::from_waker(waker));
        assert!(matches!(polled, Poll::Ready(Ok(ref r)) if r.status() == StatusCode::OK));
        assert!(fut.timer.is_none());
    }
}
