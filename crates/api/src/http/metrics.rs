//! Prometheus metrics: request counts and latencies per route (bid outcomes are counted
//! by the bidding use case).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
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

/// The route template a request matched, filled in by [`note_route`] once routing is
/// done, read by [`track`] (which runs before routing, so it also sees fallbacks and
/// timeouts).
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<String>>);

/// Counts and times every request, whatever answered it (a route, the 404 fallback, the
/// timeout, load shedding), by method and route template: never the raw path (ids would
/// explode the label set) nor a method no route serves.
pub async fn track(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = method_label(req.method());
    let resp = next.run(req).await;
    let route = slot.0.get().map_or("unmatched", String::as_str);
    let status = resp.status().as_u16().to_string();
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status),
    ];
    metrics::counter!("gavel_http_requests_total", &labels).increment(1);
    metrics::histogram!("gavel_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// Records the matched route template for [`track`] (a route layer: it runs only for
/// requests that matched a route).
pub async fn note_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        req.extensions().get::<RouteSlot>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.as_str().to_owned());
    }
    next.run(req).await
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
    let mut resp = handle().render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}
