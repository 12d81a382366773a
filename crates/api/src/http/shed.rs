//! Load shedding: past a number of requests in flight through the routes it wraps (the
//! API's), the next one is answered `503 overloaded` at once rather than queued.
//!
//! Why not tower's `load_shed` over `GlobalConcurrencyLimitLayer`: axum clones a route's
//! service for every request, and each clone of tower's limit makes a fresh boxed future
//! to wait on its semaphore, which was 6 % of the instructions of a `GET` of one auction.
//! Shedding never waits, so a permit taken with `try_acquire_owned` is all it needs, and
//! a clone of this layer's service is one `Arc`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

use crate::http::error::ApiError;

/// Wraps services in [`Shed`], all sharing room for `max_inflight` requests (at least one).
#[derive(Debug, Clone)]
pub struct ShedLayer {
    permits: Arc<Semaphore>,
}

impl ShedLayer {
    /// At most `max_inflight` requests in flight at once, over every service it wraps.
    pub fn new(max_inflight: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_inflight.max(1))),
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            permits: self.permits.clone(),
        }
    }
}

/// Answers a request `503 overloaded` when every permit is taken.
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S> Service<Request> for Shed<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => ShedFuture::Served {
                inner: self.inner.call(req),
                _permit: permit,
            },
            Err(_) => ShedFuture::Shed,
        }
    }
}

pin_project! {
    /// A request's answer on its way, holding its permit until the answer comes; or the
    /// `503` of a shed request.
    #[project = ShedProjection]
    pub enum ShedFuture<F> {
        /// Let through, with its permit.
        Served {
            #[pin]
            inner: F,
            _permit: OwnedSemaphorePermit,
        },
        /// Shed.
        Shed,
    }
}

impl<F, E> Future for ShedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ShedProjection::Served { inner, .. } => inner.poll(cx),
            ShedProjection::Shed => Poll::Ready(Ok(ApiError::Overloaded.into_response())),
        }
    }
}
