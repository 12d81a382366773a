//! The bidders' webhook endpoint: records every notice delivered to it.

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// Notices received, in order.
pub type Received = Arc<Mutex<Vec<Value>>>;

/// Serves `POST /hook` on a free loopback port; returns its URL and what it receives.
pub async fn start() -> Result<(String, Received), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let seen: Received = Arc::default();
    let s = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |body: String| {
            let s = s.clone();
            async move {
                if let Ok(v) = serde_json::from_str(&body) {
                    s.lock().unwrap_or_else(|p| p.into_inner()).push(v);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, seen))
}
