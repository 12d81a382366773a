//! gavel's HTTP API and the `gavel` binary's insides:
//!
//! - [`boot`]: the command line, settings, logging, start and graceful stop;
//! - [`http`]: the router and its layers, the one error mapping, extractors, views and
//!   routes (the only part that knows HTTP);
//! - [`workers`]: the background loops (settlement, win notices, event relay, housekeeping).
//!
//! The use cases themselves live in the `gavel-service` crate, the rules in `gavel-domain`.

pub mod boot;
pub mod http;
pub mod workers;

pub use boot::server;
pub use boot::settings::Settings;
pub use http::error::ApiError;
pub use http::state::AppState;
pub use http::{router, HttpOptions};
