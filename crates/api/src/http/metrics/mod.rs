//! Prometheus metrics: every metric gavel exports is described here, once (the use cases
//! record theirs through the `metrics` facade; gauges of the moment are read at scrape).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use gavel_service::auth::{hash_token, hashes_equal};

use crate::http::auth::bearer;
use crate::http::error::ApiError;
use crate::http::state::AppState;

mod tracking;

pub(crate) use tracking::{RouteTemplates, Tracking};

/// Buckets of every `_seconds` histogram: half a millisecond to ten seconds.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of the bid batch size (1 to the 256 a batch holds by default).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The process-wide recorder; installed once, shared by every router in the process.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("gavel_bid_batch_size".into()),
                        BATCH_BUCKETS,
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_ok() {
                describe();
            }
            handle
        })
        .clone()
}

/// What kind of metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// A value of the moment.
    Gauge,
    /// A distribution (exported as `_bucket`, `_sum`, `_count`; `_seconds` ones in seconds).
    Histogram,
}

/// One exported metric.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// Its help text.
    pub help: &'static str,
}

/// Every metric gavel exports, once: described from here, and the dashboard is checked
/// against it.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "gavel_http_requests_total",
        kind: Kind::Counter,
        help: "HTTP requests answered, by method, route template and status.",
    },
    Metric {
        name: "gavel_http_request_duration_seconds",
        kind: Kind::Histogram,
        help: "Time to answer an HTTP request, by method, route template and status.",
    },
    Metric {
        name: "gavel_http_requests_in_flight",
        kind: Kind::Gauge,
        help: "HTTP requests being answered now.",
    },
    Metric {
        name: "gavel_http_requests_shed_total",
        kind: Kind::Counter,
        help: "Requests answered 503 overloaded at once (in-flight cap, full bid queue, stream cap).",
    },
    Metric {
        name: "gavel_bids_total",
        kind: Kind::Counter,
        help: "Bids decided, by outcome: accepted, a refusal's code, or fast_rejected.",
    },
    Metric {
        name: "gavel_fast_path_checks_total",
        kind: Kind::Counter,
        help: "Hopeless-bid checks before PostgreSQL, by tier (memory, redis) and result (hit refused the bid, miss let it through, error could not ask).",
    },
    Metric {
        name: "gavel_bid_batch_size",
        kind: Kind::Histogram,
        help: "Bids decided in one PostgreSQL transaction (group commit).",
    },
    Metric {
        name: "gavel_db_pool_connections",
        kind: Kind::Gauge,
        help: "PostgreSQL connections in the pool, by state (idle, busy).",
    },
    Metric {
        name: "gavel_db_pool_max_connections",
        kind: Kind::Gauge,
        help: "Most PostgreSQL connections the pool opens.",
    },
    Metric {
        name: "gavel_db_pool_waiting",
        kind: Kind::Gauge,
        help: "Tasks waiting for a PostgreSQL connection.",
    },
    Metric {
        name: "gavel_settlement_lag_seconds",
        kind: Kind::Histogram,
        help: "Time from an auction's end to its settlement.",
    },
    Metric {
        name: "gavel_win_notices_pending",
        kind: Kind::Gauge,
        help: "Win notices not yet delivered nor given up (all instances).",
    },
    Metric {
        name: "gavel_win_notice_attempts_total",
        kind: Kind::Counter,
        help: "Win-notice delivery attempts, by outcome (delivered, retry, failed).",
    },
    Metric {
        name: "gavel_loss_notice_attempts_total",
        kind: Kind::Counter,
        help: "Loss-notice delivery attempts, by outcome (delivered, retry, failed).",
    },
    Metric {
        name: "gavel_event_streams_open",
        kind: Kind::Gauge,
        help: "Event streams open on this instance.",
    },
    Metric {
        name: "gavel_connections_open",
        kind: Kind::Gauge,
        help: "Client connections open.",
    },
    Metric {
        name: "gavel_connections_refused_total",
        kind: Kind::Counter,
        help: "Connections closed at once because the instance held its most.",
    },
    Metric {
        name: "gavel_build_info",
        kind: Kind::Gauge,
        help: "Always 1; the version of the running binary is its label.",
    },
];

/// Help text and unit of every metric.
fn describe() {
    for m in METRICS {
        match m.kind {
            Kind::Counter => describe_counter!(m.name, m.help),
            Kind::Gauge => describe_gauge!(m.name, m.help),
            Kind::Histogram if m.name.ends_with("_seconds") => {
                describe_histogram!(m.name, Unit::Seconds, m.help)
            }
            Kind::Histogram => describe_histogram!(m.name, m.help),
        }
    }
}

/// `GET /metrics`: open, or behind `GAVEL_METRICS_TOKEN`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "Prometheus text format; open, or behind the bearer `GAVEL_METRICS_TOKEN` when that is set. Never shed.",
    security((), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String,
            example = "# TYPE gavel_http_requests_total counter\ngavel_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1\n"),
        crate::http::openapi::problems::MetricsErrors,
    )
)]
pub async fn render(State(state): State<AppState>, parts: Parts) -> Response {
    if let Some(expected) = &state.metrics_token_hash {
        let given = bearer(&parts).map(hash_token);
        if !given.is_some_and(|g| hashes_equal(&g, expected)) {
            return ApiError::Unauthorized.into_response();
        }
    }
    sample_gauges(&state);
    tracking::add_tallies();
    let mut resp = handle().render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

/// Gauges read at scrape time from what the process holds (no I/O).
fn sample_gauges(state: &AppState) {
    let pool = state.services.pool_stats();
    let (open, idle) = (f64::from(pool.open), pool.idle as f64);
    metrics::gauge!("gavel_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("gavel_db_pool_connections", "state" => "busy").set((open - idle).max(0.0));
    metrics::gauge!("gavel_db_pool_max_connections").set(f64::from(pool.max));
    metrics::gauge!("gavel_event_streams_open").set(state.services.open_streams() as f64);
    metrics::gauge!("gavel_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}
