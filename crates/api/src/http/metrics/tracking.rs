//! Every request counted and timed ([`Tracking`]), tallied per worker thread and added to
//! the shared registry when `/metrics` is read.
//!
//! Counted straight into the registry, each request changed the same few atomics from
//! both worker threads (the in-flight gauge up and down, the counter and its generation,
//! the histogram's generation and sample queue, behind a fence of its own): a cache line
//! handed from core to core several times a request. Here a thread writes to its own
//! shard, and the lines stay on its core.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::http::Method;
use metrics::{Counter, Gauge, Histogram};
use rustc_hash::FxHashMap;

/// Shards of the tallies; threads take them in turn (more than the workers of a small
/// machine, so two of them rarely share one).
const SHARDS: usize = 16;

/// Durations a shard keeps for one label set before adding them itself, so that memory
/// stays bounded when nothing scrapes.
const MAX_PENDING: usize = 512;

/// The router's route templates, to label a request by before it is routed: the same
/// templates, matched by the same library (`matchit`) as axum's router, so a request gets
/// the template axum routes it by (also when a method is not allowed there), and
/// `unmatched` where axum finds no route.
///
/// Labelled after routing instead, each route carried a layer of its own to note its
/// template (`MatchedPath`), and axum boxed and cloned every such route for each request:
/// 1,200 instructions a `GET` of one auction, against 270 for matching here.
pub(crate) struct RouteTemplates(matchit::Router<&'static str>);

impl RouteTemplates {
    /// The table of `templates` (axum's syntax, `/api/auctions/{id}`), leaked once per
    /// router built: a request's labels then need no allocation nor reference count.
    pub(crate) fn leak<'a>(templates: impl IntoIterator<Item = &'a str>) -> &'static Self {
        let mut table = matchit::Router::new();
        for template in templates {
            let name: &'static str = Box::leak(template.into());
            // The router that serves them accepted every one, so this cannot conflict.
            let _ = table.insert(name, name);
        }
        Box::leak(Box::new(RouteTemplates(table)))
    }

    /// The template `path` is routed by, or `unmatched`.
    pub(crate) fn of(&self, path: &str) -> &'static str {
        self.0.at(path).map_or("unmatched", |m| *m.value)
    }
}

/// A request's labels: method, route template, status.
type LabelSet = (&'static str, &'static str, u16);

// The tables hash with Fx, not SipHash: their keys are label sets, few and fixed, never
// chosen by a client, and SipHash was a tenth of what metrics cost a request.
thread_local! {
    /// This thread's shard.
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
}

/// What one shard holds, on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Shard {
    /// Requests that entered minus those that left, on this shard: a request may leave on
    /// another thread than it entered, so only the sum over shards means anything.
    in_flight: AtomicI64,
    /// Answers not yet added to the registry, by label set.
    answered: Mutex<FxHashMap<LabelSet, Answered>>,
}

/// The answers of one label set, waiting to be added to its registry handles.
struct Answered {
    requests: Counter,
    durations: Histogram,
    pending: Vec<f64>,
}

impl Answered {
    fn new((method, route, status): LabelSet) -> Self {
        let labels = [
            ("method", method.to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ];
        Answered {
            requests: metrics::counter!("gavel_http_requests_total", &labels),
            durations: metrics::histogram!("gavel_http_request_duration_seconds", &labels),
            pending: Vec::new(),
        }
    }

    /// Adds what is pending to the registry.
    fn add(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.requests.increment(self.pending.len() as u64);
        for secs in self.pending.drain(..) {
            self.durations.record(secs);
        }
    }
}

static TALLIES: LazyLock<[Shard; SHARDS]> = LazyLock::new(Default::default);

/// The calling thread's shard.
fn shard() -> &'static Shard {
    &TALLIES[SHARD.with(|i| *i)]
}

/// Adds every shard's tallies to the registry and sets the in-flight gauge: call before
/// rendering it.
pub(super) fn add_tallies() {
    let mut in_flight = 0;
    for shard in TALLIES.iter() {
        in_flight += shard.in_flight.load(Ordering::Relaxed);
        let mut answered = shard
            .answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        answered.values_mut().for_each(Answered::add);
    }
    in_flight_gauge().set(in_flight.max(0) as f64);
}

/// The in-flight gauge, looked up once.
fn in_flight_gauge() -> &'static Gauge {
    static GAUGE: OnceLock<Gauge> = OnceLock::new();
    GAUGE.get_or_init(|| metrics::gauge!("gavel_http_requests_in_flight"))
}

/// One request being counted and timed, whatever answers it (a route, the 404 fallback,
/// the timeout, load shedding, CORS), by method and route template: never the raw path
/// (ids would explode the label set) nor a method no route serves. Made by the
/// [`Observe`](crate::http::observe::Observe) layer, before routing.
pub(crate) struct Tracking {
    started: Instant,
    _in_flight: InFlight,
    route: &'static str,
    method: &'static str,
}

impl Tracking {
    /// Starts counting `req`, under its route template in `routes`.
    pub(crate) fn start<B>(req: &axum::http::Request<B>, routes: &RouteTemplates) -> Self {
        Tracking {
            started: Instant::now(),
            _in_flight: InFlight::enter(),
            route: routes.of(req.uri().path()),
            method: method_label(req.method()),
        }
    }

    /// Counts the answer, with its status and time; returns that time.
    pub(crate) fn finish(&self, status: axum::http::StatusCode) -> Duration {
        let key = (self.method, self.route, status.as_u16());
        let took = self.started.elapsed();
        let secs = took.as_secs_f64();
        let mut answered = shard()
            .answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let tally = answered.entry(key).or_insert_with(|| Answered::new(key));
        tally.pending.push(secs);
        if tally.pending.len() >= MAX_PENDING {
            tally.add();
        }
        took
    }
}

/// One request being answered, counted as in flight for as long as it lives (also when
/// the client goes away and the request is dropped).
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        shard().in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        shard().in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A method as a label: the ones HTTP defines, anything else `other`.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}
