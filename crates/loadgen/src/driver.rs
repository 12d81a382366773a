//! The two ways of sending: closed loop (N workers, each sending back to back) and open
//! loop (sends on a fixed schedule, latency counted from the scheduled time, so a slow
//! answer cannot hide the requests that should have been sent meanwhile).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::progress::Progress;
use crate::report::Recorder;
use crate::schedule::{send_offset, sends_before, Window};
use crate::workloads::Target;

/// What a run measured.
#[derive(Debug)]
pub struct Outcome {
    /// All measured answers, merged.
    pub recorder: Recorder,
    /// The measured window, up to the last measured answer.
    pub duration: Duration,
    /// Open loop: the most a send started after its scheduled time (the generator's own
    /// lag; its latency still counts from the schedule).
    pub max_send_lag: Duration,
}

/// Latest answer seen, as nanoseconds since `t0`.
#[derive(Debug, Default)]
struct LastDone(AtomicU64);

impl LastDone {
    fn mark(&self, window: &Window, at: Instant) {
        let ns = at.saturating_duration_since(window.t0).as_nanos() as u64;
        self.0.fetch_max(ns, Ordering::Relaxed);
    }

    fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// `connections` workers, each sending its next request as soon as the last is answered,
/// until the window ends; requests started during the warm-up are not measured.
pub async fn closed_loop(
    target: Arc<Target>,
    connections: u32,
    timeout: Duration,
    window: Window,
    progress: &Progress,
) -> Result<Outcome, String> {
    let last = Arc::new(LastDone::default());
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..connections {
        let (target, last, progress) = (target.clone(), last.clone(), progress.clone());
        workers.spawn(async move {
            let mut rec = Recorder::default();
            let mut conns = target.connections(timeout);
            let mut seq = u64::from(w);
            loop {
                let start = Instant::now();
                if window.is_over(start) {
                    break;
                }
                let status = target.send(seq, &mut conns).await;
                let done = Instant::now();
                seq += u64::from(connections);
                progress.tick();
                if window.is_measured(start) {
                    rec.record(status, done - start);
                    last.mark(&window, done);
                }
            }
            rec
        });
    }
    let mut recorder = Recorder::default();
    while let Some(r) = workers.join_next().await {
        recorder.merge(&r.map_err(|e| format!("worker failed: {e}"))?);
    }
    Ok(Outcome {
        recorder,
        duration: window.measured_duration(last.get()),
        max_send_lag: Duration::ZERO,
    })
}

/// How long past the window's end the open loop still sends late requests; the rest are
/// recorded as unsent (an error, latency as waited so far) and the run ends on time.
const LATE_GRACE: Duration = Duration::from_secs(1);
/// The runtime's timer wakes up to this late, so a send is aimed this much early (its
/// latency then runs from when it really went, never from a time before it).
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// Sends request `i` at `t0 + i / rate` over `connections` connections, request `i` on
/// connection `i % connections`, one request in flight per connection (as wrk2 does):
/// latency runs from the scheduled time, or from the real send when that was earlier,
/// so an answer that holds a connection up shows as the latency of every request queued
/// behind it (no coordinated omission). Cheap enough to leave the cores to the server.
pub async fn open_loop(
    target: Arc<Target>,
    rate: f64,
    connections: u32,
    timeout: Duration,
    window: Window,
    progress: &Progress,
) -> Result<Outcome, String> {
    let last = Arc::new(LastDone::default());
    let total = sends_before(window.end, rate);
    let give_up = window.t0 + window.end + LATE_GRACE;
    let mut workers = tokio::task::JoinSet::new();
    for c in 0..u64::from(connections) {
        let (target, last, progress) = (target.clone(), last.clone(), progress.clone());
        let step = u64::from(connections);
        workers.spawn(async move {
            let mut rec = Recorder::default();
            let mut conns = target.connections(timeout);
            let mut max_lag = Duration::ZERO;
            let mut i = c;
            while i < total {
                let scheduled = window.t0 + send_offset(i, rate);
                let now = Instant::now();
                if now >= give_up {
                    break;
                }
                if scheduled > now + TIMER_SLACK {
                    tokio::time::sleep_until((scheduled - TIMER_SLACK).into()).await;
                }
                let sent = Instant::now();
                let status = target.send(i, &mut conns).await;
                let done = Instant::now();
                progress.tick();
                if window.is_measured(scheduled) {
                    max_lag = max_lag.max(sent.saturating_duration_since(scheduled));
                    rec.record(status, done.saturating_duration_since(scheduled.min(sent)));
                    last.mark(&window, done);
                }
                i += step;
            }
            let now = Instant::now();
            let mut unsent = false;
            while i < total {
                let scheduled = window.t0 + send_offset(i, rate);
                if window.is_measured(scheduled) {
                    rec.record_unsent(now.saturating_duration_since(scheduled));
                    unsent = true;
                }
                i += step;
            }
            if unsent {
                last.mark(&window, now);
            }
            (rec, max_lag)
        });
    }
    let mut recorder = Recorder::default();
    let mut max_send_lag = Duration::ZERO;
    while let Some(r) = workers.join_next().await {
        let (rec, lag) = r.map_err(|e| format!("worker failed: {e}"))?;
        recorder.merge(&rec);
        max_send_lag = max_send_lag.max(lag);
    }
    Ok(Outcome {
        recorder,
        duration: window.measured_duration(last.get()),
        max_send_lag,
    })
}
