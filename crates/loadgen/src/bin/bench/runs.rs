//! The runs of one bench: each load generator run, its JSON line kept in a file and for
//! the final table.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::procs::settle;

/// One run's JSON report, kept and printed.
pub struct Runs {
    /// Where every run's JSON line is appended.
    pub jsonl: PathBuf,
    /// Every run's JSON line, for the table.
    pub lines: Vec<Value>,
    /// Warm-up seconds before each measurement.
    pub warmup: u64,
    /// The database each run lets settle first.
    pub database_url: String,
}

impl Runs {
    /// Runs gavel-loadgen (after settling the machine) and keeps its JSON line.
    pub fn loadgen(&mut self, label: &str, seconds: u64, args: &[String]) -> Result<Value, String> {
        settle(&self.database_url);
        eprintln!("bench: run: {label}");
        let out = Command::new("target/release/gavel-loadgen")
            .args(["--label", label, "--seconds", &seconds.to_string()])
            .args(["--warmup-seconds", &self.warmup.to_string()])
            .args(args)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("gavel-loadgen: {e}"))?;
        if !out.status.success() {
            return Err(format!("gavel-loadgen failed on {label}"));
        }
        let line: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        self.keep(line.clone())?;
        Ok(line)
    }

    /// Appends `line` to the JSON lines file and keeps it for the table.
    pub fn keep(&mut self, line: Value) -> Result<(), String> {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.jsonl)
            .map_err(|e| e.to_string())?;
        writeln!(f, "{line}").map_err(|e| e.to_string())?;
        self.lines.push(line);
        Ok(())
    }
}
