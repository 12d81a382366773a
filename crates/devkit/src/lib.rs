//! What development needs beside the product: private, throw-away PostgreSQL clusters
//! and Redis servers on ports of their own (`scripts/with-services.sh` starts them through
//! the `gavel-services` binary for the suite, the quick start and the bench; tests start
//! more of their own), and the helpers the test suites share.

pub mod postgres;
pub mod redis;

use std::future::Future;
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// Why a server did not start.
#[derive(Debug)]
pub enum Failure {
    /// Its port was taken meanwhile (nothing is left running): try another.
    PortTaken,
    /// Anything else, said in words.
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::PortTaken => f.write_str("the port was taken"),
            Failure::Other(why) => f.write_str(why),
        }
    }
}

/// A TCP port free on 127.0.0.1 now (the one way ports are found; a server that then
/// finds it taken says [`Failure::PortTaken`] and the caller tries another).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Starts a private PostgreSQL in `dir`, trying other ports while its port is taken.
pub fn start_postgres(
    dir: &std::path::Path,
    settings: &[(&str, &str)],
) -> Result<postgres::Cluster, Failure> {
    for _ in 0..5 {
        let cluster = postgres::Cluster {
            dir: dir.to_path_buf(),
            port: free_port(),
        };
        match cluster.start(settings) {
            Err(Failure::PortTaken) => continue,
            other => return other.map(|()| cluster),
        }
    }
    Err(Failure::Other("no free port for PostgreSQL".into()))
}

/// Starts a private Redis in `dir`, trying other ports while its port is taken.
pub fn start_redis(dir: &std::path::Path) -> Result<redis::Server, Failure> {
    for _ in 0..5 {
        let server = redis::Server {
            dir: dir.to_path_buf(),
            port: free_port(),
        };
        match server.start() {
            Err(Failure::PortTaken) => continue,
            other => return other.map(|()| server),
        }
    }
    Err(Failure::Other("no free port for Redis".into()))
}

/// The user PostgreSQL runs as: `postgres` when this runs as root (PostgreSQL refuses
/// root; the system user is created when missing), else this process's own.
pub fn run_as_user() -> Result<Option<String>, Failure> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        return Ok(None);
    }
    let exists = || {
        Command::new("id")
            .args(["-u", "postgres"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !exists() {
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/var/lib/postgresql",
                "--shell",
                "/bin/bash",
                "postgres",
            ])
            .status();
        // A concurrent caller may have created it meanwhile.
        if !exists() {
            return Err(Failure::Other(
                "could not create the system user postgres".into(),
            ));
        }
    }
    Ok(Some("postgres".into()))
}

/// Whether `pid` runs (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(") ")
            .next()
            .is_some_and(|rest| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to `within` for `pid` to be gone; whether it is.
pub fn wait_gone(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// Sends `SIG<name>` to `pid`.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status();
}

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(25);

/// Polls `probe` until it returns `Some`, and returns that; fails naming `what` when
/// `within` passes first. The one way tests wait for something that happens by itself
/// (a settlement, a notice, a recovery).
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for a yes-or-no condition.
pub async fn until<F, Fut>(within: Duration, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(within, what, || {
        let check = probe();
        async move { check.await.then_some(()) }
    })
    .await
}

/// Holds auction `id`'s row lock until the returned transaction ends, so that any bid
/// reaching PostgreSQL waits: the way tests keep a bid in flight.
pub async fn hold_row_lock(pool: &PgPool, id: i64) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut held = pool.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM auctions WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *held)
        .await
        .expect("the auction's row lock");
    held
}
