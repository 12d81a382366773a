//! Prometheus metrics: request counts and latencies per route (bid outcomes are counted
//! by the bidding use case).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use gavel_service::auth::{hash_token, hashes_equal};

use crate::http::auth::bearer;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The process-wide recorder; installed once, shared by every router in the process.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts and times every request by its route template (never the raw path: ids would
/// explode the label set).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("gavel_http_requests_total", &labels).increment(1);
    metrics::histogram!("gavel_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`: open, or behind `GAVEL_METRICS_TOKEN`.
pub async fn render(State(state): State<AppState>, parts: Parts) -> Response {
    if let Some(expected) = &state.metrics_token_hash {
        let given = bearer(&parts).map(hash_token);
        if !given.is_some_and(|g| hashes_equal(&g, expected)) {
            return ApiError::Unauthorized.into_response();
        }
    }
    let mut resp = handle().render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}
