//! gavel instances under drill: the real binary, as ops run it, on the cluster's HAProxy.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::procs::{free_port, Proc};

/// One running gavel.
pub struct Instance {
    /// Its base URL.
    pub url: String,
    proc: Proc,
}

impl Instance {
    /// Starts `binary serve` on a free port against `database_url` and waits until ready.
    pub async fn start(
        binary: &Path,
        database_url: &str,
        admin_token: &str,
        log: PathBuf,
    ) -> Result<Self, String> {
        Self::start_on(binary, free_port(), database_url, admin_token, &[], log).await
    }

    /// The same on `port`, with `extra` settings (`NAME`, value).
    pub async fn start_on(
        binary: &Path,
        port: u16,
        database_url: &str,
        admin_token: &str,
        extra: &[(&str, String)],
        log: PathBuf,
    ) -> Result<Self, String> {
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("GAVEL_ADMIN_TOKEN", admin_token)
            .env("GAVEL_BIND", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("GAVEL_RATE_LIMIT", "0")
            .env("GAVEL_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("GAVEL_WEBHOOK_BACKOFF_BASE_MS", "200")
            .env("GAVEL_WEBHOOK_BACKOFF_MAX_SECS", "2")
            .env("RUST_LOG", "warn");
        for (name, value) in extra {
            cmd.env(name, value);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let proc = Proc::spawn_to("gavel", cmd, log, None)?;
        let me = Self {
            url: format!("http://127.0.0.1:{port}"),
            proc,
        };
        me.wait_ready(Duration::from_secs(60)).await?;
        Ok(me)
    }

    async fn wait_ready(&self, within: Duration) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = client.get(format!("{}/ready", self.url)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("gavel on {} not ready within {within:?}", self.url));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the process still runs (it must, through every failover).
    pub fn alive(&mut self) -> bool {
        self.proc.alive()
    }

    /// SIGKILL: the instance dies mid-request.
    pub fn kill(&mut self) {
        self.proc.kill();
    }
}
