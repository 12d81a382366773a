//! A PostgreSQL cluster on loopback ports, built from the engines production uses: three
//! etcd members, three PostgreSQL nodes each run by Patroni (synchronous mode), and HAProxy
//! sending connections to the node Patroni's REST API calls the primary — the layout of
//! `deploy/cluster/`, with one machine's ports and directories per node.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::procs::{self, free_port, Proc};

mod config;
use config::{HAPROXY_CFG, PATRONI_YML};

/// Ports and files of one database "machine".
pub struct Node {
    /// Patroni's member name (`pg1` …).
    pub name: String,
    /// PostgreSQL's port.
    pub pg_port: u16,
    /// Patroni's REST API port.
    pub rest_port: u16,
    /// Patroni's configuration file.
    pub config: PathBuf,
    data_dir: PathBuf,
    patroni: Option<Proc>,
}

/// The running cluster; everything it started is killed when it is dropped.
pub struct Cluster {
    dir: PathBuf,
    run_as: Option<(u32, u32)>,
    /// The database nodes.
    pub nodes: Vec<Node>,
    etcd: Vec<Proc>,
    haproxy: Option<Proc>,
    /// Where gavel connects: HAProxy's listener.
    pub haproxy_port: u16,
    /// HAProxy's stats page.
    pub stats_port: u16,
    http: reqwest::Client,
}

/// Where PostgreSQL's server binaries are (`initdb`, `pg_ctl`, `postgres`).
pub fn pg_bin_dir() -> Result<PathBuf, String> {
    gavel_devkit::postgres::bin_dir().ok_or_else(|| "no PostgreSQL server binaries found".into())
}

impl Cluster {
    /// Starts etcd, the three Patroni nodes and HAProxy under `dir`, and waits for a leader
    /// with a synchronous standby.
    pub async fn start(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let run_as = if procs::is_root() {
            let ids = procs::user_ids("postgres").ok_or("no 'postgres' system user")?;
            std::os::unix::fs::chown(dir, Some(ids.0), Some(ids.1)).map_err(|e| e.to_string())?;
            Some(ids)
        } else {
            None
        };
        let pg_bin = pg_bin_dir()?;
        let mut cluster = Cluster {
            dir: dir.to_path_buf(),
            run_as,
            nodes: Vec::new(),
            etcd: Vec::new(),
            haproxy: None,
            haproxy_port: free_port(),
            stats_port: free_port(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_millis(800))
                .build()
                .map_err(|e| e.to_string())?,
        };
        let etcd_hosts = cluster.start_etcd()?;
        for i in 1..=3 {
            let node = cluster.node(i, &etcd_hosts, &pg_bin)?;
            cluster.nodes.push(node);
        }
        // The first node bootstraps the cluster; the others clone from it.
        cluster.start_patroni(0)?;
        cluster.wait_leader(Duration::from_secs(60)).await?;
        cluster.start_patroni(1)?;
        cluster.start_patroni(2)?;
        cluster.start_haproxy()?;
        cluster.wait_healthy(Duration::from_secs(90)).await?;
        Ok(cluster)
    }

    fn start_etcd(&mut self) -> Result<String, String> {
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let initial: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("e{}=http://127.0.0.1:{peer}", i + 1))
            .collect();
        for (i, (client, peer)) in ports.iter().enumerate() {
            let name = format!("e{}", i + 1);
            let mut cmd = Command::new("etcd");
            cmd.arg("--name")
                .arg(&name)
                .arg("--data-dir")
                .arg(self.dir.join(format!("etcd{}", i + 1)))
                .arg(format!("--listen-client-urls=http://127.0.0.1:{client}"))
                .arg(format!("--advertise-client-urls=http://127.0.0.1:{client}"))
                .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer}"))
                .arg(format!(
                    "--initial-advertise-peer-urls=http://127.0.0.1:{peer}"
                ))
                .arg(format!("--initial-cluster={}", initial.join(",")))
                .arg("--initial-cluster-state=new")
                .arg("--initial-cluster-token=gavel-drill")
                // Patroni 3.0's etcd3 client can let a primary frozen past its lease take the
                // leader key back (fixed in later Patroni): the v2 API, as deploy/cluster.
                .arg("--enable-v2=true");
            let log = self.dir.join(format!("{name}.log"));
            self.etcd.push(Proc::spawn(&name, cmd, &log, self.run_as)?);
        }
        Ok(ports
            .iter()
            .map(|(c, _)| format!("127.0.0.1:{c}"))
            .collect::<Vec<_>>()
            .join(","))
    }

    fn node(&self, i: usize, etcd_hosts: &str, pg_bin: &Path) -> Result<Node, String> {
        let name = format!("pg{i}");
        let (pg_port, rest_port) = (free_port(), free_port());
        let data_dir = self.dir.join(&name);
        let socket_dir = self.dir.join(format!("sock{i}"));
        std::fs::create_dir_all(&socket_dir).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&socket_dir, Some(uid), Some(gid))
                .map_err(|e| e.to_string())?;
        }
        let config = self.dir.join(format!("{name}.yml"));
        let yml = PATRONI_YML
            .replace("{name}", &name)
            .replace("{rest_port}", &rest_port.to_string())
            .replace("{pg_port}", &pg_port.to_string())
            .replace("{etcd_hosts}", etcd_hosts)
            .replace("{bin_dir}", &pg_bin.display().to_string())
            .replace("{data_dir}", &data_dir.display().to_string())
            .replace("{socket_dir}", &socket_dir.display().to_string())
            .replace(
                "{pgpass}",
                &self.dir.join(format!("pgpass{i}")).display().to_string(),
            );
        std::fs::write(&config, yml).map_err(|e| e.to_string())?;
        Ok(Node {
            name,
            pg_port,
            rest_port,
            config,
            data_dir,
            patroni: None,
        })
    }

    fn start_patroni(&mut self, i: usize) -> Result<(), String> {
        let node = &self.nodes[i];
        let mut cmd = Command::new("patroni");
        cmd.arg(&node.config);
        let log = self.dir.join(format!("{}.log", node.name));
        let proc = Proc::spawn(&node.name, cmd, &log, self.run_as)?;
        self.nodes[i].patroni = Some(proc);
        Ok(())
    }

    fn start_haproxy(&mut self) -> Result<(), String> {
        let servers: String = self
            .nodes
            .iter()
            .map(|n| {
                format!(
                    "    server {} 127.0.0.1:{} maxconn 100 check port {}\n",
                    n.name, n.pg_port, n.rest_port
                )
            })
            .collect();
        let cfg = HAPROXY_CFG
            .replace("{stats_port}", &self.stats_port.to_string())
            .replace("{port}", &self.haproxy_port.to_string())
            .replace("{servers}", &servers);
        let path = self.dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("haproxy");
        cmd.arg("-db").arg("-f").arg(&path);
        let log = self.dir.join("haproxy.log");
        self.haproxy = Some(Proc::spawn("haproxy", cmd, &log, self.run_as)?);
        Ok(())
    }

    /// Whether node `i`'s Patroni answers `path` with 200.
    async fn answers(&self, i: usize, path: &str) -> bool {
        let url = format!("http://127.0.0.1:{}{path}", self.nodes[i].rest_port);
        matches!(self.http.get(url).send().await, Ok(r) if r.status().as_u16() == 200)
    }

    /// The node Patroni calls the primary now, if any.
    pub async fn leader(&self) -> Option<usize> {
        for i in 0..self.nodes.len() {
            if self.answers(i, "/primary").await {
                return Some(i);
            }
        }
        None
    }

    /// The node that is the synchronous standby now, if any.
    pub async fn sync_standby(&self) -> Option<usize> {
        for i in 0..self.nodes.len() {
            if self.answers(i, "/sync").await {
                return Some(i);
            }
        }
        None
    }

    async fn wait_leader(&self, within: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self.leader().await {
                return Ok(l);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no leader within {within:?} (logs in {})",
                    self.dir.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until there is a leader, a synchronous standby and a third node streaming.
    pub async fn wait_healthy(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            let mut running = 0;
            for i in 0..self.nodes.len() {
                if self.answers(i, "/health").await {
                    running += 1;
                }
            }
            if running == 3 && self.leader().await.is_some() && self.sync_standby().await.is_some()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the cluster was not healthy within {within:?} (logs in {})",
                    self.dir.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The postmaster's pid of node `i`, from its data directory.
    fn postmaster(&self, i: usize) -> Option<u32> {
        let pid = std::fs::read_to_string(self.nodes[i].data_dir.join("postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }

    /// The whole "machine" of node `i` dies: Patroni, the postmaster and every backend,
    /// SIGKILL at once, nothing left to clean up after itself.
    pub fn kill_machine(&mut self, i: usize) {
        // One signal call for all: the postmaster is not Patroni's child (it has a session
        // of its own), and neither may notice the other die first.
        let mut pids = Vec::new();
        if let Some(p) = &self.nodes[i].patroni {
            pids.push(p.pid());
        }
        if let Some(pm) = self.postmaster(i) {
            pids.push(pm);
            pids.extend(procs::children(pm));
        }
        procs::kill_pids(&pids);
        if let Some(mut p) = self.nodes[i].patroni.take() {
            p.kill();
        }
    }

    /// Only node `i`'s PostgreSQL dies (the postmaster and its backends); Patroni lives on
    /// and starts it again.
    pub fn kill_postgres(&mut self, i: usize) -> Result<(), String> {
        let pm = self.postmaster(i).ok_or("no postmaster.pid")?;
        let mut pids = vec![pm];
        pids.extend(procs::children(pm));
        procs::kill_pids(&pids);
        Ok(())
    }

    /// Starts node `i`'s Patroni again (after its machine "came back").
    pub fn restart_machine(&mut self, i: usize) -> Result<(), String> {
        self.start_patroni(i)
    }

    /// A planned switchover from the leader to `candidate`, as an operator runs it.
    pub fn switchover(&self, leader: usize, candidate: usize) -> Result<(), String> {
        let out = Command::new("patronictl")
            .arg("-c")
            .arg(&self.nodes[leader].config)
            .args(["switchover", "--force", "--leader"])
            .arg(&self.nodes[leader].name)
            .arg("--candidate")
            .arg(&self.nodes[candidate].name)
            .output()
            .map_err(|e| format!("patronictl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "patronictl switchover failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The URL gavel and the checks connect to (through HAProxy).
    pub fn database_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.haproxy_port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.haproxy.take();
        for i in 0..self.nodes.len() {
            self.kill_machine(i);
            procs::release_shm(&self.nodes[i].data_dir);
        }
        self.etcd.clear();
    }
}
