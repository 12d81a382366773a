//! Load shedding: past a number of API requests in flight (paths under `/api/`), the next
//! one is answered `503 overloaded` at once rather than queued. `/health`, `/ready`,
//! `/metrics` and the documents always answer.
//!
//! The layer wraps the router, not the API's routes: axum boxes and clones a layered route
//! for each request, which cost a `GET` of one auction more than the shedding itself.
//!
//! Why not tower's `load_shed` over `GlobalConcurrencyLimitLayer`: axum clones a route's
//! service for every request, and each clone of tower's limit makes a fresh boxed future
//! to wait on its semaphore, which was 6 % of the instructions of a `GET` of one auction.
//! Shedding never waits, so a count is all it needs: not a semaphore (whose release takes
//! a lock) behind an `Arc` (cloned for each permit), whose shared counts both worker
//! threads kept changing on every request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::http::error::ApiError;

/// Where the API's paths begin: only they are shed.
const API: &str = "/api/";

/// Wraps services in [`Shed`], all sharing room for `max_inflight` requests (at least one).
#[derive(Debug, Clone, Copy)]
pub struct ShedLayer {
    room: &'static Room,
}

/// Requests in flight through the wrapped routes, and the most let through.
#[derive(Debug)]
struct Room {
    in_flight: AtomicUsize,
    max: usize,
}

impl ShedLayer {
    /// At most `max_inflight` requests in flight at once, over every service it wraps.
    pub fn new(max_inflight: usize) -> Self {
        // Leaked: one per router built (once in a process that serves; once per test app),
        // so that a request's count needs no reference count of its own.
        let room = Box::leak(Box::new(Room {
            in_flight: AtomicUsize::new(0),
            max: max_inflight.max(1),
        }));
        Self { room }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            room: self.room,
        }
    }
}

/// Answers an API request `503 overloaded` when the room is full.
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    room: &'static Room,
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
        let place = if req.uri().path().starts_with(API) {
            match Place::take(self.room) {
                Some(place) => Some(place),
                None => return ShedFuture::Shed,
            }
        } else {
            None
        };
        ShedFuture::Served {
            inner: self.inner.call(req),
            _place: place,
        }
    }
}

pin_project! {
    /// A request's answer on its way, holding its place until the answer comes; or the
    /// `503` of a shed request.
    #[project = ShedProjection]
    pub enum ShedFuture<F> {
        /// Let through, with its place (none outside the API).
        Served {
            #[pin]
            inner: F,
            _place: Option<Place>,
        },
        /// Shed.
        Shed,
    }
}

/// A request's place among those in flight, given back when dropped.
#[derive(Debug)]
pub struct Place(&'static Room);

impl Place {
    /// A place in `room`, if one is free.
    fn take(room: &'static Room) -> Option<Place> {
        let before = room.in_flight.fetch_add(1, Ordering::AcqRel);
        if before < room.max {
            Some(Place(room))
        } else {
            room.in_flight.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
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
