//! Request ids: a client's `X-Request-Id` when it fits ([`fit_request_id`]), else a fresh
//! UUID v4, set on the request (where the trace span reads it) and returned on the
//! response, whatever answers it.
//!
//! One layer rather than tower-http's `SetRequestId` and `PropagateRequestId` behind a map
//! that dropped unfit ids: together they looked the header up four times, kept the id a
//! second time as a request extension nothing here reads, and nested two more futures. A
//! `GET` of one auction spent a tenth of its instructions on them (3,500 of 35,000).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::{fit_request_id, REQUEST_ID};

/// Wraps a service in [`RequestIds`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIds<S>;

    fn layer(&self, inner: S) -> RequestIds<S> {
        RequestIds { inner }
    }
}

/// Gives each request an id and returns it on the response.
#[derive(Debug, Clone)]
pub struct RequestIds<S> {
    inner: S,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for RequestIds<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let id = match req.headers().get(REQUEST_ID) {
            Some(id) if fit_request_id(id.as_bytes()) => id.clone(),
            // None, or one that must not be echoed nor logged: replaced.
            _ => {
                let id = new_id();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        RequestIdFuture {
            inner: self.inner.call(req),
            id: Some(id),
        }
    }
}

pin_project! {
    /// A request's answer on its way, to be given the request's id.
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        id: Option<HeaderValue>,
    }
}

impl<F, ResB, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut answer = ready!(this.inner.poll(cx));
        if let (Ok(resp), Some(id)) = (&mut answer, this.id.take()) {
            resp.headers_mut().insert(REQUEST_ID, id);
        }
        Poll::Ready(answer)
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
}
