//! The run's clock: a warm-up, then the measured window; and the open loop's fixed send
//! schedule (send `i` at `t0 + i / rate`, whatever happened to earlier sends).

use std::time::{Duration, Instant};

/// The phases of a run, as offsets from its start `t0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When the run started.
    pub t0: Instant,
    /// Offset where measuring starts (the warm-up's length).
    pub warmup: Duration,
    /// Offset where sending stops (warm-up plus measured seconds).
    pub end: Duration,
}

impl Window {
    /// A window starting now.
    pub fn starting_now(warmup: Duration, measured: Duration) -> Self {
        Self {
            t0: Instant::now(),
            warmup,
            end: warmup + measured,
        }
    }

    /// Whether a request sent (or scheduled) at `at` is measured.
    pub fn is_measured(&self, at: Instant) -> bool {
        let offset = at.saturating_duration_since(self.t0);
        offset >= self.warmup && offset < self.end
    }

    /// Whether sending is over at `at`.
    pub fn is_over(&self, at: Instant) -> bool {
        at.saturating_duration_since(self.t0) >= self.end
    }

    /// The measured duration, from the warm-up's end to the later of the window's end and
    /// the last measured answer (`last_done`, an offset from `t0`).
    pub fn measured_duration(&self, last_done: Duration) -> Duration {
        last_done.max(self.end) - self.warmup
    }
}

/// Offset of open-loop send `i` from `t0` at `rate` requests per second.
pub fn send_offset(i: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// How many sends are scheduled strictly before `offset` at `rate`: the sends `i` with
/// `i / rate < offset`.
pub fn sends_before(offset: Duration, rate: f64) -> u64 {
    (offset.as_secs_f64() * rate).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_are_evenly_spaced_from_t0() {
        assert_eq!(send_offset(0, 100.0), Duration::ZERO);
        assert_eq!(send_offset(1, 100.0), Duration::from_millis(10));
        assert_eq!(send_offset(250, 100.0), Duration::from_millis(2500));
        assert_eq!(send_offset(3, 4.0), Duration::from_millis(750));
        let offsets: Vec<_> = (0..1000).map(|i| send_offset(i, 333.0)).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_window_holds_rate_times_seconds_sends() {
        let (warmup, end) = (Duration::from_secs(2), Duration::from_secs(12));
        for rate in [1.0, 100.0, 333.0, 2500.5] {
            let measured = sends_before(end, rate) - sends_before(warmup, rate);
            assert!(
                (measured as f64 - rate * 10.0).abs() <= 1.0,
                "{rate}: {measured}"
            );
        }
        assert_eq!(sends_before(Duration::from_secs(1), 10.0), 10);
        assert_eq!(sends_before(Duration::from_millis(1001), 10.0), 11);
        assert_eq!(sends_before(Duration::ZERO, 10.0), 0);
    }

    #[test]
    fn the_window_measures_after_the_warmup_only() {
        let w = Window::starting_now(Duration::from_secs(2), Duration::from_secs(10));
        assert!(!w.is_measured(w.t0 + Duration::from_millis(1999)));
        assert!(w.is_measured(w.t0 + Duration::from_secs(2)));
        assert!(w.is_measured(w.t0 + Duration::from_millis(11_999)));
        assert!(!w.is_measured(w.t0 + Duration::from_secs(12)));
        assert!(w.is_over(w.t0 + Duration::from_secs(12)));
        assert!(!w.is_over(w.t0 + Duration::from_secs(11)));
        assert_eq!(
            w.measured_duration(Duration::from_secs(5)),
            Duration::from_secs(10)
        );
        assert_eq!(
            w.measured_duration(Duration::from_millis(12_500)),
            Duration::from_millis(10_500)
        );
    }
}
