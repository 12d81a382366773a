//! One PostgreSQL with nothing to replicate to, at the same durable settings as the
//! cluster's nodes: the reference for what synchronous replication costs, and the chaos
//! run's database (gavel-devkit's private cluster).

use std::path::Path;

use gavel_devkit::postgres::Cluster;

/// PostgreSQL's durable defaults, said out loud (the devkit's clusters turn fsync off).
const DURABLE: &[(&str, &str)] = &[
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
    ("shared_buffers", "64MB"),
    ("max_connections", "100"),
];

/// A running single PostgreSQL; stopped and its files removed when dropped.
pub struct Single {
    cluster: Cluster,
}

impl Single {
    /// initdb into `dir` and start it; waits until it accepts connections.
    pub async fn start(dir: &Path) -> Result<Self, String> {
        let dir = dir.to_path_buf();
        let cluster =
            tokio::task::spawn_blocking(move || gavel_devkit::start_postgres(&dir, DURABLE))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("PostgreSQL: {e}"))?;
        Ok(Self { cluster })
    }

    /// A fast shutdown (sessions cut), waited for.
    pub async fn stop(&mut self) {
        let c = self.cluster.clone();
        let _ = tokio::task::spawn_blocking(move || c.stop("fast")).await;
    }

    /// Starts it again on the same port and data.
    pub async fn start_again(&mut self) -> Result<(), String> {
        let c = self.cluster.clone();
        tokio::task::spawn_blocking(move || c.start(DURABLE))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("PostgreSQL again: {e}"))
    }

    /// Its URL.
    pub fn database_url(&self) -> String {
        self.cluster.url()
    }
}

impl Drop for Single {
    fn drop(&mut self) {
        let _ = self.cluster.stop("immediate");
    }
}
