//! PostgreSQL and Redis servers of a test's own, which the test may stop and start again:
//! gavel-devkit's private servers (the code `scripts/with-services.sh` uses too).

use std::path::PathBuf;

use gavel_devkit::{postgres, redis};

use super::unique_prefix;

/// A fresh directory for one server's files, under /tmp (reachable by the postgres user).
fn fresh_dir() -> PathBuf {
    let dir = PathBuf::from("/tmp").join(unique_prefix());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A PostgreSQL server of the test's own, which the test may stop and start again.
pub struct PrivatePostgres {
    cluster: postgres::Cluster,
    /// Its port.
    pub port: u16,
}

impl PrivatePostgres {
    /// initdb into a fresh directory and start the server.
    pub fn start() -> Self {
        let cluster = gavel_devkit::start_postgres(&fresh_dir(), &[])
            .unwrap_or_else(|e| panic!("a private PostgreSQL: {e}"));
        Self {
            port: cluster.port,
            cluster,
        }
    }

    /// Starts (or restarts) the server on its port.
    pub fn start_server(&self) {
        self.cluster
            .start(&[])
            .unwrap_or_else(|e| panic!("PostgreSQL again: {e}"));
    }

    /// Stops the server (fast: open connections are cut).
    pub fn stop_server(&self) {
        self.cluster.stop("fast").unwrap();
    }

    /// Its URL.
    pub fn url(&self) -> String {
        self.cluster.url()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.cluster.stop("immediate");
        let _ = std::fs::remove_dir_all(&self.cluster.dir);
    }
}

/// A Redis server of the test's own, which the test may kill and start again.
pub struct PrivateRedis {
    server: redis::Server,
    /// Its port.
    pub port: u16,
}

impl PrivateRedis {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let server = tokio::task::spawn_blocking(|| gavel_devkit::start_redis(&fresh_dir()))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("a private Redis: {e}"));
        Self {
            port: server.port,
            server,
        }
    }

    /// Starts (or restarts) the server on its port and waits until it answers.
    pub async fn start_server(&mut self) {
        let server = self.server.clone();
        tokio::task::spawn_blocking(move || server.start())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("Redis again: {e}"));
    }

    /// Kills the server.
    pub fn kill(&mut self) {
        self.server.kill().unwrap();
    }

    /// Its URL.
    pub fn url(&self) -> String {
        self.server.url()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = std::fs::remove_dir_all(&self.server.dir);
    }
}
