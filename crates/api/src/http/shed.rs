//! Load shedding of the API: past a number of `/api` requests in flight, the next one is
//! answered `503 overloaded` at once rather than queued. `/health`, `/ready` and
//! `/metrics` are never shed.
//!
//! Why not tower's `load_shed` over `GlobalConcurrencyLimitLayer`: the application is
//! cloned for every request (axum clones a route's service, hyper's connection clones the
//! stack), and each clone of tower's limit makes a fresh boxed future to wait on its
//! semaphore, which was 6 % of the instructions of a `GET` of one auction. Shedding never
//! waits, so a permit taken with `try_acquire_owned` is all it needs.

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

/// Wraps a service in [`Shed`], with room for `max_inflight` API requests (at least one).
#[derive(Debug, Clone)]
pub struct ShedLayer {
    permits: Arc<Semaphore>,
}

impl ShedLayer {
    /// At most `max_inflight` `/api` requests in flight at once.
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

/// Answers an `/api` request `503 overloaded` when every permit is taken.
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
        let permit = if req.uri().path().starts_with("/api/") {
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return ShedFuture::Shed,
            }
        } else {
            None
        };
        ShedFuture::Served {
            inner: self.inner.call(req),
            _permit: permit,
        }
    }
}

pin_project! {
    /// A request's answer on its way, holding its permit until the answer comes; or the
    /// `503` of a shed request.
    #[project = ShedProjection]
    pub enum ShedFuture<F> {
        /// Let through (with a permit when it is an API request).
        Served {
            #[pin]
            inner: F,
            _permit: Option<OwnedSemaphorePermit>,
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
