//! Logging: JSON lines by default, `pretty` for people; `RUST_LOG` filters by target and
//! level (`info`, `gavel_api=debug,sqlx=warn`).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::boot::cli::LogFormat;

/// What is logged when `RUST_LOG` is unset or unreadable.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(format: LogFormat) {
    // Targets rather than EnvFilter: it covers `target=level` directives, which is all
    // operators use, without a regex engine in the binary (about a megabyte).
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| DEFAULT_FILTER.parse().unwrap_or_default());
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(filter)
            .try_init(),
        LogFormat::Pretty => builder.pretty().finish().with(filter).try_init(),
    };
}
