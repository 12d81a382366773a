//! The two ways of sending: closed loop (N workers, each sending back to back) and open
//! loop (sends on a fixed schedule, latency counted from the scheduled time, so a slow
//! answer cannot hide the requests that should have been sent meanwhile).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::progress::Progress;
use crate::report::Recorder;
use crate::schedule::{send_offset, sends_before, Window};
use crate::workloads::Target;

/// Shards of the open loop's recorders (requests record into shard `i % SHARDS`).
const SHARDS: usize = 16;

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
    window: Window,
    progress: &Progress,
) -> Result<Outcome, String> {
    let last = Arc::new(LastDone::default());
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..connections {
        let (target, last, progress) = (target.clone(), last.clone(), progress.clone());
        workers.spawn(async move {
            let mut rec = Recorder::default();
            let mut seq = u64::from(w);
            loop {
                let start = Instant::now();
                if window.is_over(start) {
                    break;
                }
                let status = target.send(seq).await;
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

/// Sends request `i` at `t0 + i / rate` from a dedicated thread (finer sleeps than the
/// runtime's 1 ms timer), each in its own task, at most `max_inflight` at once; latency
/// runs from the scheduled time. Waits for every answer before returning.
pub async fn open_loop(
    target: Arc<Target>,
    rate: f64,
    max_inflight: u32,
    window: Window,
    progress: &Progress,
) -> Result<Outcome, String> {
    let shards: Arc<Vec<Mutex<Recorder>>> =
        Arc::new((0..SHARDS).map(|_| Mutex::default()).collect());
    let last = Arc::new(LastDone::default());
    let slots = Arc::new(Semaphore::new(max_inflight as usize));
    let sink = Sink {
        target,
        shards: shards.clone(),
        last: last.clone(),
        progress: progress.clone(),
        window,
    };
    let dispatcher = {
        let (slots, handle) = (slots.clone(), tokio::runtime::Handle::current());
        tokio::task::spawn_blocking(move || dispatch(sink, rate, slots, handle))
    };
    let (max_send_lag, mut recorder) = dispatcher
        .await
        .map_err(|e| format!("dispatcher failed: {e}"))?;
    // Every slot back: every request answered (or timed out).
    let _all = slots
        .acquire_many(max_inflight)
        .await
        .map_err(|e| e.to_string())?;
    for shard in shards.iter() {
        recorder.merge(&shard.lock().unwrap_or_else(|e| e.into_inner()));
    }
    Ok(Outcome {
        recorder,
        duration: window.measured_duration(last.get()),
        max_send_lag,
    })
}

/// What each open-loop request needs to send and record itself.
#[derive(Clone)]
struct Sink {
    target: Arc<Target>,
    shards: Arc<Vec<Mutex<Recorder>>>,
    last: Arc<LastDone>,
    progress: Progress,
    window: Window,
}

/// The open loop's clock (on a blocking thread): returns the largest send lag and the
/// recorder of the measured requests left unsent when the run ran out of time.
fn dispatch(
    sink: Sink,
    rate: f64,
    slots: Arc<Semaphore>,
    handle: tokio::runtime::Handle,
) -> (Duration, Recorder) {
    let window = sink.window;
    let give_up = window.t0 + window.end + LATE_GRACE;
    let total = sends_before(window.end, rate);
    let mut max_lag = Duration::ZERO;
    let mut i = 0;
    while i < total {
        let scheduled = window.t0 + send_offset(i, rate);
        let now = Instant::now();
        if scheduled > now {
            std::thread::sleep(scheduled - now);
        }
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => handle.block_on(async {
                let wait = slots.clone().acquire_owned();
                tokio::time::timeout_at(give_up.into(), wait)
                    .await
                    .ok()?
                    .ok()
            }),
        };
        let Some(permit) = permit.filter(|_| Instant::now() < give_up) else {
            break;
        };
        max_lag = max_lag.max(Instant::now().saturating_duration_since(scheduled));
        let sink = sink.clone();
        handle.spawn(async move {
            let status = sink.target.send(i).await;
            let done = Instant::now();
            sink.progress.tick();
            if sink.window.is_measured(scheduled) {
                let mut rec = sink.shards[i as usize % SHARDS]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                rec.record(status, done.saturating_duration_since(scheduled));
                sink.last.mark(&sink.window, done);
            }
            drop(permit);
        });
        i += 1;
    }
    let mut unsent = Recorder::default();
    let now = Instant::now();
    for j in i..total {
        let scheduled = window.t0 + send_offset(j, rate);
        if window.is_measured(scheduled) {
            unsent.record_unsent(now.saturating_duration_since(scheduled));
        }
    }
    if i < total {
        sink.last.mark(&window, now);
    }
    (max_lag, unsent)
}
