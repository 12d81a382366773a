//! One PostgreSQL with nothing to replicate to, at the same durable settings: the
//! reference for what synchronous replication costs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::procs::{self, free_port, Proc};

/// A running single PostgreSQL.
pub struct Single {
    /// Its port on 127.0.0.1.
    pub port: u16,
    proc: Proc,
    data: std::path::PathBuf,
}

impl Drop for Single {
    fn drop(&mut self) {
        self.proc.kill();
        procs::release_shm(&self.data);
    }
}

impl Single {
    /// initdb into `dir` and start it; waits until it accepts connections.
    pub async fn start(dir: &Path) -> Result<Self, String> {
        let bin = crate::cluster::pg_bin_dir()?;
        let run_as = if procs::is_root() {
            procs::user_ids("postgres")
        } else {
            None
        };
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
        let data = dir.join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data);
        let log = dir.join("initdb.log");
        let mut p = Proc::spawn("initdb", initdb, &log, run_as)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while p.alive() {
            if Instant::now() > deadline {
                return Err("initdb took too long".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !data.join("PG_VERSION").exists() {
            return Err(format!("initdb failed (see {})", log.display()));
        }
        let port = free_port();
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=on"])
            .args(["-c", "synchronous_commit=on", "-c", "full_page_writes=on"])
            .args(["-c", "shared_buffers=64MB", "-c", "max_connections=100"]);
        let proc = Proc::spawn("postgres", cmd, &dir.join("postgres.log"), run_as)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("the single PostgreSQL did not start".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { port, proc, data })
    }

    /// Its URL.
    pub fn database_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}
