//! `GET /openapi.json`: the OpenAPI 3.1 document of every route.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, kept beside the code; a test checks every path in it is served.
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// `GET /openapi.json` (anyone).
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
