//! The HTTP layer's own upkeep, beside the use cases' workers (`Services::spawn_workers`):
//! folding metric samples and tidying the per-bidder rate limiter.

use std::time::Duration;

use gavel_service::workers::every;
use tokio::sync::watch;

use crate::http::state::AppState;

/// How often the metrics recorder folds recorded samples (until then it holds every
/// sample, so without this memory grows with the request count).
const METRICS_UPKEEP_TICK: Duration = Duration::from_secs(5);
/// How often the rate limiter forgets idle bidders.
const HOUSEKEEPING_TICK: Duration = Duration::from_secs(600);

/// Starts every background loop: the use cases' and the HTTP layer's.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) {
    state.services.spawn_workers(stop.clone());
    tokio::spawn(every(METRICS_UPKEEP_TICK, stop.clone(), (), |()| async {
        crate::http::metrics::handle().run_upkeep();
    }));
    tokio::spawn(every(
        HOUSEKEEPING_TICK,
        stop,
        state.clone(),
        |s| async move {
            s.housekeeping();
        },
    ));
}
