//! `GET /openapi.json`: the OpenAPI 3.1 document of every route.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;

/// The served document, serialised once. It depends on the code alone, so one per process
/// (kept by `http::router` from the routes it serves; made here if nothing kept it).
static SERVED: OnceLock<Bytes> = OnceLock::new();

/// Keeps `doc` as the served document, unless one is kept already.
pub fn keep(doc: &Value) {
    SERVED.get_or_init(|| Bytes::from(doc.to_string()));
}

/// `GET /openapi.json` (anyone).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    operation_id = "openapi",
    summary = "This document",
    description = "The OpenAPI 3.1 document of every route, generated from the code that serves them.",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json",
        body = inline(Object)))
)]
pub async fn document() -> impl IntoResponse {
    let doc = SERVED.get_or_init(|| Bytes::from(crate::http::openapi_document().to_string()));
    ([(header::CONTENT_TYPE, "application/json")], doc.clone())
}
