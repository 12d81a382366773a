//! `gavel-hello`: the HTTP floor. A minimal axum server on a multi-threaded tokio
//! runtime answering `GET /hello` with a tiny JSON body, so that the bench can compare
//! gavel's reads with what HTTP alone costs on the same machine and client.

use std::net::{Ipv4Addr, SocketAddr};

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use clap::Parser;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "gavel-hello",
    about = "GET /hello on 127.0.0.1: the HTTP floor"
)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 3001)]
    port: u16,
}

/// The one route's answer.
async fn hello() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    ([(CONTENT_TYPE, "application/json")], r#"{"hello":"world"}"#)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let app = Router::new().route("/hello", get(hello));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let int = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = int => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = int.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = int.await;
    }
}
