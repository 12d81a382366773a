//! `GET /openapi.json`: the OpenAPI 3.1 document of every route.

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use serde_json::Value;

/// The served document, made once by `http::router` from the same routes it serves.
#[derive(Debug, Clone)]
pub struct Served(Bytes);

impl Served {
    /// Serialises the finished document once.
    pub fn new(doc: &Value) -> Self {
        Self(Bytes::from(doc.to_string()))
    }
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
pub async fn document(Extension(doc): Extension<Served>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc.0)
}
