//! Server-Sent Events: bids, extensions and closes reach streams on every instance; streams
//! are checked before they open, limited, and hold nothing once they end.

#[path = "../common/mod.rs"]
mod common;

mod fanout;
mod limits;
mod resume;

pub use common::sse::SseReader;

/// An hour from now, as `ends_at`.
pub fn hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}
