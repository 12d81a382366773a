//! PostgreSQL and Redis servers of a test's own, which the test may stop and start again.
//!
//! Starting and stopping them is `scripts/services.sh`'s job: the same code that
//! `scripts/with-services.sh` starts the suite's servers with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{free_port, unique_prefix};

/// `scripts/services.sh`.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/services.sh");

/// `services.sh`'s exit code when the port is taken (nothing is left running).
const PORT_TAKEN: i32 = 3;

/// Runs `services.sh SUBCOMMAND DIR ARGS...`.
fn services(subcommand: &str, dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new("bash")
        .arg(SCRIPT)
        .arg(subcommand)
        .arg(dir)
        .args(args)
        .output()
}

/// Panics with the script's output unless it succeeded.
fn check(subcommand: &str, result: std::io::Result<Output>) {
    let out = result.unwrap_or_else(|e| panic!("could not run {SCRIPT}: {e}"));
    assert!(
        out.status.success(),
        "services.sh {subcommand} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the script said the port was taken.
fn port_taken(result: &std::io::Result<Output>) -> bool {
    matches!(result, Ok(out) if out.status.code() == Some(PORT_TAKEN))
}

/// A fresh directory for one server's files.
fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_prefix());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A PostgreSQL server of the test's own, which the test may stop and start again.
pub struct PrivatePostgres {
    dir: PathBuf,
    /// Its port.
    pub port: u16,
}

impl PrivatePostgres {
    /// initdb into a fresh directory and start the server.
    pub fn start() -> Self {
        let mut pg = PrivatePostgres {
            dir: fresh_dir(),
            port: free_port(),
        };
        // A port that was free a moment ago may be taken by now: then try another.
        for _ in 0..5 {
            let result = pg.pg_start();
            if port_taken(&result) {
                pg.port = free_port();
                continue;
            }
            check("pg-start", result);
            return pg;
        }
        panic!("no free port for a private PostgreSQL");
    }

    fn pg_start(&self) -> std::io::Result<Output> {
        let port = self.port.to_string();
        services("pg-start", &self.dir, &[port.as_str()])
    }

    /// Starts (or restarts) the server on its port.
    pub fn start_server(&self) {
        check("pg-start", self.pg_start());
    }

    /// Stops the server (fast: open connections are cut).
    pub fn stop_server(&self) {
        check("pg-stop", services("pg-stop", &self.dir, &["fast"]));
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = services("pg-stop", &self.dir, &["immediate"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of the test's own, which the test may kill and start again.
pub struct PrivateRedis {
    dir: PathBuf,
    /// Its port.
    pub port: u16,
}

impl PrivateRedis {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let mut r = PrivateRedis {
            dir: fresh_dir(),
            port: free_port(),
        };
        // A port that was free a moment ago may be taken by now: then try another.
        for _ in 0..5 {
            let result = r.redis_start().await;
            if port_taken(&result) {
                r.port = free_port();
                continue;
            }
            check("redis-start", result);
            return r;
        }
        panic!("no free port for a private Redis");
    }

    /// `services.sh redis-start`, off the async threads: it waits until the server answers.
    async fn redis_start(&self) -> std::io::Result<Output> {
        let dir = self.dir.clone();
        let port = self.port.to_string();
        tokio::task::spawn_blocking(move || services("redis-start", &dir, &[port.as_str()]))
            .await
            .unwrap()
    }

    /// Starts (or restarts) the server on its port and waits until it answers.
    pub async fn start_server(&mut self) {
        check("redis-start", self.redis_start().await);
    }

    /// Kills the server.
    pub fn kill(&mut self) {
        check("redis-kill", services("redis-kill", &self.dir, &[]));
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = services("redis-kill", &self.dir, &[]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
