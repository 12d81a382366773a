//! What a run measured: per-worker recorders (an HDR histogram of latencies in
//! microseconds and a count per status), merged, then summed up as one JSON object
//! (stdout) and a table (stderr).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::cli::Workload;

/// Highest latency the histograms hold apart (longer ones count as this): 60 s.
const MAX_LATENCY_US: u64 = 60_000_000;

/// Latencies and statuses seen by one worker (or, merged, by all).
#[derive(Debug, Clone)]
pub struct Recorder {
    hist: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    unsent: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid bounds"),
            statuses: BTreeMap::new(),
            transport_errors: 0,
            unsent: 0,
        }
    }
}

impl Recorder {
    /// Counts one answer (`None`: no answer, a transport error or timeout) and its latency.
    pub fn record(&mut self, status: Option<u16>, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.hist.saturating_record(us);
        match status {
            Some(s) => *self.statuses.entry(s).or_default() += 1,
            None => self.transport_errors += 1,
        }
    }

    /// Counts an open-loop request the run had no time left to send, with the time it
    /// had waited since its schedule (a lower bound of its latency).
    pub fn record_unsent(&mut self, waited: Duration) {
        let us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.hist.saturating_record(us);
        self.unsent += 1;
    }

    /// Adds another recorder's counts to this one.
    pub fn merge(&mut self, other: &Recorder) {
        self.hist.add(&other.hist).expect("same bounds");
        for (s, n) in &other.statuses {
            *self.statuses.entry(*s).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        self.unsent += other.unsent;
    }

    /// Requests sent (answered or failed in transport).
    pub fn sent(&self) -> u64 {
        self.statuses.values().sum::<u64>() + self.transport_errors
    }

    /// Requests recorded: sent, plus (open loop) those left unsent.
    pub fn total(&self) -> u64 {
        self.sent() + self.unsent
    }

    fn count(&self, pred: impl Fn(u16) -> bool) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| pred(**s))
            .map(|(_, n)| n)
            .sum()
    }
}

/// How the load was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// Free-form label from `--label`.
    pub label: String,
    /// What was sent.
    pub workload: Workload,
    /// Closed-loop workers (and pool size).
    pub connections: u32,
    /// Open loop's requests per second; `None` for closed loop.
    pub rate: Option<f64>,
    /// Length of the measured window (until the last measured answer).
    pub duration: Duration,
    /// Open loop: the most a send started after its scheduled time.
    pub max_send_lag: Option<Duration>,
}

/// Whether a status is an expected answer of the workload (else it is an error).
pub fn expected(workload: Workload, status: u16) -> bool {
    (200..300).contains(&status) || (workload.is_bids() && status == 409)
}

/// Whether a status counts as decided: 201/409 for bids, 2xx for reads.
pub fn decided(workload: Workload, status: u16) -> bool {
    if workload.is_bids() {
        status == 201 || status == 409
    } else {
        (200..300).contains(&status)
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    if x.is_finite() {
        (x * f).round() / f
    } else {
        0.0
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The report as one JSON object (field names are a contract with scripts/bench.sh).
/// `total_requests` counts the measured requests, with (open loop) those the run had no
/// time left to send (status `"unsent"`, errors); `requests_per_second` only those sent.
pub fn summarize(info: &RunInfo, rec: &Recorder) -> Value {
    let w = info.workload;
    let total = rec.total();
    let success = rec.count(|s| (200..300).contains(&s));
    let decided_n = rec.count(|s| decided(w, s));
    let errors = rec.transport_errors + rec.unsent + rec.count(|s| !expected(w, s));
    let secs = info.duration.as_secs_f64();
    let per_sec = |n: u64| {
        if secs > 0.0 {
            round(n as f64 / secs, 1)
        } else {
            0.0
        }
    };
    let ms = |us: u64| round(us as f64 / 1000.0, 3);
    let q = |p: f64| {
        if total == 0 {
            0.0
        } else {
            ms(rec.hist.value_at_quantile(p))
        }
    };
    let mut status = Map::new();
    for (s, n) in &rec.statuses {
        status.insert(s.to_string(), json!(n));
    }
    if rec.transport_errors > 0 {
        status.insert("error".into(), json!(rec.transport_errors));
    }
    if rec.unsent > 0 {
        status.insert("unsent".into(), json!(rec.unsent));
    }
    let accepted_share = w
        .is_bids()
        .then(|| round(ratio(rec.count(|s| s == 201), decided_n), 4));
    json!({
        "label": info.label,
        "workload": w.name(),
        "mode": if info.rate.is_some() { "open" } else { "closed" },
        "connections": info.connections,
        "rate": info.rate,
        "max_send_lag_ms": info.max_send_lag.map(|d| round(d.as_secs_f64() * 1000.0, 3)),
        "total_requests": total,
        "duration_ms": info.duration.as_millis() as u64,
        "requests_per_second": per_sec(rec.sent()),
        "decided_per_second": per_sec(decided_n),
        "decided_count": decided_n,
        "accepted_share": accepted_share,
        "success_count": success,
        "error_count": errors,
        "success_rate": round(ratio(success, total), 4),
        "status": status,
        "latency_ms": {
            "p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "p999": q(0.999),
            "max": if total == 0 { 0.0 } else { ms(rec.hist.max()) },
        },
    })
}

#[cfg(test)]
mod tests;
