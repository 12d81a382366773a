//! gavel's HTTP API: configuration, the router and its layers, and the server loop.

pub mod app;
pub mod auth;
pub mod background;
pub mod bidding;
pub mod config;
pub mod error;
pub mod events;
pub mod extract;
pub mod keys;
pub mod metrics;
pub mod pagination;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod views;
pub mod webhooks;

pub use app::router;
pub use config::Settings;
pub use error::ApiError;
pub use state::AppState;
