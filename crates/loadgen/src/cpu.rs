//! CPU time spent by the servers under load (gavel, PostgreSQL), read from `/proc` over
//! the measured window: what sizing needs, beside the requests a second.
//!
//! A watched process counts with its direct children (PostgreSQL's backends are children
//! of the postmaster): its own time, the time of children already reaped (`cutime`,
//! `cstime`) and that of children still alive.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::schedule::Window;

/// Clock ticks a second in `/proc/*/stat` (`USER_HZ`: 100 on every Linux architecture).
const TICKS_PER_SEC: u64 = 100;

/// One process tree to watch: `NAME=PID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// Name in the report (`gavel`, `postgres`).
    pub name: String,
    /// The tree's root.
    pub pid: u32,
}

/// Parses `NAME=PID`.
pub fn parse_watched(s: &str) -> Result<Watched, String> {
    let (name, pid) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PID, got {s:?}"))?;
    let pid = pid
        .parse()
        .map_err(|_| format!("not a process id: {pid:?}"))?;
    if name.is_empty() {
        return Err(format!("expected NAME=PID, got {s:?}"));
    }
    Ok(Watched {
        name: name.into(),
        pid,
    })
}

/// `(ppid, own ticks, reaped children's ticks)` from one `/proc/PID/stat` line.
fn parse_stat(line: &str) -> Option<(u32, u64, u64)> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &line[line.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    let num = |i: usize| f.get(i - 3)?.parse::<u64>().ok();
    let ppid = u32::try_from(num(4)?).ok()?;
    Some((ppid, num(14)? + num(15)?, num(16)? + num(17)?))
}

/// Ticks used so far by `pid` and its direct children.
fn tree_ticks(pid: u32) -> Option<u64> {
    let own = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, ticks, reaped) = parse_stat(&own)?;
    let mut total = ticks + reaped;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(child) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Some((ppid, ticks, _)) = std::fs::read_to_string(format!("/proc/{child}/stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            if ppid == pid {
                total += ticks;
            }
        }
    }
    Some(total)
}

/// CPU seconds each watched tree used between the warm-up's end and the window's end.
pub async fn measure(watched: Vec<Watched>, window: Window) -> BTreeMap<String, Duration> {
    let sample =
        |w: &[Watched]| -> Vec<Option<u64>> { w.iter().map(|w| tree_ticks(w.pid)).collect() };
    tokio::time::sleep_until((window.t0 + window.warmup).into()).await;
    let before = sample(&watched);
    tokio::time::sleep_until((window.t0 + window.end).into()).await;
    let after = sample(&watched);
    // Trees watched under one name (several gavel instances) are added up.
    let mut used: BTreeMap<String, Duration> = BTreeMap::new();
    for (w, (b, a)) in watched.into_iter().zip(before.into_iter().zip(after)) {
        if let Some(ticks) = a.zip(b).and_then(|(a, b)| a.checked_sub(b)) {
            *used.entry(w.name).or_default() += Duration::from_millis(ticks * 1000 / TICKS_PER_SEC);
        }
    }
    used
}

/// Flat report members per watched name: `cpu_<name>_seconds` and
/// `cpu_<name>_us_per_decided` (CPU microseconds per decided request).
pub fn report(summary: &mut Value, used: &BTreeMap<String, Duration>, decided: u64) {
    for (name, d) in used {
        let per = if decided == 0 {
            0.0
        } else {
            (d.as_secs_f64() * 1e6 / decided as f64 * 10.0).round() / 10.0
        };
        summary[format!("cpu_{name}_seconds")] = json!(d.as_secs_f64());
        summary[format!("cpu_{name}_us_per_decided")] = json!(per);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let line = "4242 (post gres: a) b) S 17 4242 4242 0 -1 4194560 500 0 0 0 \
                    120 30 7 3 20 0 1 0 100 1000 200";
        assert_eq!(parse_stat(line), Some((17, 150, 10)));
    }

    #[test]
    fn this_process_uses_cpu_time() {
        let me = std::process::id();
        let t0 = tree_ticks(me).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(tree_ticks(me).unwrap() > t0);
    }

    #[test]
    fn watched_processes_are_name_equals_pid() {
        assert_eq!(
            parse_watched("gavel=12").unwrap(),
            Watched {
                name: "gavel".into(),
                pid: 12
            }
        );
        assert!(parse_watched("gavel").is_err());
        assert!(parse_watched("=12").is_err());
        assert!(parse_watched("gavel=x").is_err());
    }
}
