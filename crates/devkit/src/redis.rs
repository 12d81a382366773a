//! Private Redis servers: `redis-server` daemonized on a port of its own on 127.0.0.1, no
//! persistence, its pidfile and log in a directory of its own.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{alive, wait_gone, Failure};

/// One private server in `dir`.
#[derive(Debug, Clone)]
pub struct Server {
    /// Its directory (pidfile, log).
    pub dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Server {
    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.dir.join("redis.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        // A stale pidfile may name a recycled pid.
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        (alive(pid) && comm.starts_with("redis")).then_some(pid)
    }

    /// Starts it and waits until it answers — as itself: the server on the port must be
    /// the one whose pid is in the pidfile (another on that port would answer too).
    pub fn start(&self) -> Result<(), Failure> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Failure::Other(e.to_string()))?;
        if let Some(pid) = self.pid() {
            return Err(Failure::Other(format!(
                "redis-server in {} already runs (pid {pid})",
                self.dir.display()
            )));
        }
        let pidfile = self.dir.join("redis.pid");
        let _ = std::fs::remove_file(&pidfile);
        let log = self.dir.join("redis.log");
        let from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let out = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--daemonize", "yes", "--pidfile"])
            .arg(&pidfile)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .output()
            .map_err(|e| Failure::Other(format!("redis-server: {e}")))?;
        if !out.status.success() {
            return Err(Failure::Other(format!(
                "redis-server failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pid = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok());
            if let Some(pid) = pid {
                if ask(self.port, "INFO server")
                    .is_some_and(|i| i.contains(&format!("process_id:{pid}\r")))
                {
                    return Ok(());
                }
            }
            let log_text = std::fs::read(&log).unwrap_or_default();
            let tail = String::from_utf8_lossy(log_text.get(from as usize..).unwrap_or_default())
                .to_lowercase();
            if tail.contains("address already in use")
                || tail.contains("could not create server tcp")
            {
                if let Some(pid) = pid {
                    wait_gone(pid, Duration::from_secs(5));
                }
                let _ = std::fs::remove_file(&pidfile);
                return Err(Failure::PortTaken);
            }
            if pid.is_some_and(|p| !alive(p)) {
                return Err(Failure::Other(format!("redis-server exited:\n{tail}")));
            }
            if Instant::now() > deadline {
                let _ = self.kill();
                return Err(Failure::Other(format!(
                    "Redis not ready on 127.0.0.1:{}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops it gracefully (SIGTERM; SIGKILL after 5 s). Nothing is kept anyway.
    pub fn stop(&self) -> Result<(), Failure> {
        self.signal("TERM", Duration::from_secs(5))
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&self) -> Result<(), Failure> {
        self.signal("KILL", Duration::from_secs(10))
    }

    fn signal(&self, sig: &str, within: Duration) -> Result<(), Failure> {
        if let Some(pid) = self.pid() {
            crate::signal(pid, sig);
            if !wait_gone(pid, within) {
                crate::signal(pid, "KILL");
                if !wait_gone(pid, Duration::from_secs(10)) {
                    return Err(Failure::Other(format!(
                        "redis-server (pid {pid}) would not die"
                    )));
                }
            }
        }
        let _ = std::fs::remove_file(self.dir.join("redis.pid"));
        Ok(())
    }
}

/// One inline command to the server on `port`; its raw answer.
fn ask(port: u16, command: &str) -> Option<String> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    conn.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    let n = conn.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}
