//! A progress bar on stderr, only when stderr is a terminal (never in logs or pipes).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::schedule::Window;

/// Counts answers and, on a terminal, shows the run's progress.
#[derive(Debug, Clone)]
pub struct Progress {
    done: Arc<AtomicU64>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts the bar (if stderr is a terminal) over the window's length.
    pub fn start(window: Window, label: &str) -> Self {
        let done = Arc::new(AtomicU64::new(0));
        if !std::io::stderr().is_terminal() {
            return Self { done, bar: None };
        }
        let bar = ProgressBar::new(window.end.as_millis() as u64);
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        let (ticker_bar, ticker_done) = (bar.clone(), done.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            while !ticker_bar.is_finished() {
                tick.tick().await;
                let elapsed = window.t0.elapsed();
                let phase = if elapsed < window.warmup {
                    "warm-up"
                } else {
                    "measuring"
                };
                ticker_bar.set_position(elapsed.as_millis() as u64);
                ticker_bar.set_message(format!(
                    "{phase} {:.1}s, {} answers",
                    elapsed.as_secs_f64(),
                    ticker_done.load(Ordering::Relaxed)
                ));
            }
        });
        Self {
            done,
            bar: Some(bar),
        }
    }

    /// Counts one answer.
    pub fn tick(&self) {
        if self.bar.is_some() {
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
