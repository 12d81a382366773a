//! The notice receiver: an HTTP server on 127.0.0.1 that records each notice's arrival.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

use super::Book;

/// Starts the receiver on an ephemeral port; its base URL.
pub async fn start(book: Arc<Mutex<Book>>) -> Result<String, String> {
    let app = Router::new()
        .route("/notice/{bidder}", post(notice))
        .with_state(book);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

async fn notice(State(book): State<Arc<Mutex<Book>>>, Json(body): Json<Value>) -> StatusCode {
    let now = chrono::Utc::now();
    book.lock()
        .unwrap_or_else(|e| e.into_inner())
        .notice(&body, now);
    StatusCode::NO_CONTENT
}
