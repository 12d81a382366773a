//! The processes a bench run starts (gavel instances, the HTTP floor), the database tools
//! it runs, and what it reads of the machine (RSS, CPU busy) from `/proc`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A started server; stopped (TERM, then KILL after 10 s) when dropped.
pub struct Server {
    /// Its base URL.
    pub url: String,
    child: Child,
}

impl Server {
    /// Starts `cmd` with its output in `log`, listening on `port`.
    pub fn start(mut cmd: Command, port: u16, log: &Path) -> Result<Self, String> {
        let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gavel instance of the release build on `database_url`, its Redis keys and channel
/// under `redis_prefix`, as the bench runs it (no rate limit, warn logs).
pub fn gavel(
    port: u16,
    admin_token: &str,
    log: &Path,
    database_url: &str,
    redis_prefix: &str,
) -> Result<Server, String> {
    let mut cmd = Command::new("target/release/gavel");
    cmd.arg("serve")
        .env("DATABASE_URL", database_url)
        .env("GAVEL_REDIS_PREFIX", redis_prefix)
        .env("PORT", port.to_string())
        .env("GAVEL_BIND", "127.0.0.1")
        .env("GAVEL_RATE_LIMIT", "0")
        // The rtb run's notice receiver is on 127.0.0.1; the idle-stream run opens
        // 10,000 streams with one token.
        .env("GAVEL_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("GAVEL_MAX_STREAMS_PER_KEY", "10000")
        .env("RUST_LOG", "warn")
        .env("GAVEL_ADMIN_TOKEN", admin_token);
    Server::start(cmd, port, log)
}

/// gavel-plain (the plain design's bid handler) on gavel's database.
pub fn plain(port: u16, database_url: &str, log: &Path) -> Result<Server, String> {
    let mut cmd = Command::new("target/release/gavel-plain");
    cmd.args(["--port", &port.to_string()])
        .env("DATABASE_URL", database_url);
    Server::start(cmd, port, log)
}

pub use gavel_devkit::free_port;

/// A PostgreSQL client tool: beside the server the scripts started, else on PATH.
pub fn pg_tool(name: &str) -> PathBuf {
    std::env::var_os("GAVEL_TEST_PG_BIN")
        .map(|d| PathBuf::from(d).join(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Runs one SQL statement with psql; its output, trimmed.
pub fn psql(database_url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(pg_tool("psql"))
        .args([
            database_url,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Samples `pid`'s resident set every half second into `file` (`epoch_s\trss_kib`) until
/// the returned flag is set.
pub fn sample_rss(pid: u32, file: PathBuf) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let Ok(mut out) = std::fs::File::create(&file) else {
            return;
        };
        let _ = writeln!(out, "epoch_s\trss_kib");
        while !flag.load(Ordering::Relaxed) {
            if let Some(kib) = status_kib(pid, "VmRSS:") {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let _ = writeln!(out, "{:.3}\t{kib}", now.as_secs_f64());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    stop
}

/// A `kB` line of `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Percent of all CPUs busy over half a second (from `/proc/stat`).
fn cpu_busy() -> u64 {
    let read = || -> Vec<u64> {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .take(8)
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let a = read();
    std::thread::sleep(Duration::from_millis(500));
    let b = read();
    if a.len() < 8 || b.len() < 8 {
        return 0;
    }
    let total: u64 = (0..8).map(|i| b[i].saturating_sub(a[i])).sum();
    let idle = b[3].saturating_sub(a[3]) + b[4].saturating_sub(a[4]);
    (100 * total.saturating_sub(idle))
        .checked_div(total)
        .unwrap_or(0)
}

/// Before each measurement: a CHECKPOINT (so the last run's dirty pages are not written
/// during this one), then up to 10 s for the machine to go quiet (< 20 % busy), so one
/// run's after-effects stay out of the next. Busy all along: measure anyway, but say so.
pub fn settle(database_url: &str) {
    let _ = psql(database_url, "CHECKPOINT");
    let mut busy = 0;
    for _ in 0..20 {
        busy = cpu_busy();
        if busy < 20 {
            return;
        }
    }
    eprintln!(
        "bench: warning: the machine stayed {busy}% busy; measuring anyway (figures may be low)"
    );
}
