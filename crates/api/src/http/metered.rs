//! The layer that counts and times every request (see [`Tracking`]): a plain tower layer
//! rather than `axum::middleware::from_fn`, which clones and boxes the service below it
//! and boxes its future on every request.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::http::{Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::metrics::Tracking;

/// Wraps a service in [`Metered`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MeteredLayer;

impl<S> Layer<S> for MeteredLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered { inner }
    }
}

/// Counts and times each request `inner` answers.
#[derive(Debug, Clone)]
pub struct Metered<S> {
    inner: S,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Metered<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = MeteredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let tracking = Tracking::start(&mut req);
        MeteredFuture {
            inner: self.inner.call(req),
            tracking,
        }
    }
}

pin_project! {
    /// A request's answer on its way, counted when it comes (or only as no longer in
    /// flight when dropped first).
    pub struct MeteredFuture<F> {
        #[pin]
        inner: F,
        tracking: Tracking,
    }
}

impl<F, ResB, E> Future for MeteredFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = ready!(this.inner.poll(cx));
        if let Ok(resp) = &answer {
            this.tracking.finish(resp.status());
        }
        Poll::Ready(answer)
    }
}
