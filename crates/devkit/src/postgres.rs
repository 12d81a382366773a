//! Private PostgreSQL clusters: initdb into a directory of their own, started on a port
//! of their own on 127.0.0.1, stopped and thrown away after.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::{alive, run_as_user, wait_gone, Failure};

/// Longest wait for a server to be ready.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `GAVEL_TEST_PG_BIN`, then
/// `pg_config --bindir`, then the newest `/usr/lib/postgresql/*/bin`, then `initdb` on PATH.
pub fn bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("GAVEL_TEST_PG_BIN").filter(|d| !d.is_empty()) {
        candidates.push(d.into());
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        candidates.push(String::from_utf8_lossy(&out.stdout).trim().into());
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    versioned.sort_by_key(|p| {
        let v = p
            .parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str()?.parse::<u32>().ok());
        std::cmp::Reverse(v)
    });
    candidates.extend(versioned);
    if let Ok(out) = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v initdb)\""])
        .output()
    {
        let initdb = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        candidates.extend(initdb.parent().map(Path::to_path_buf));
    }
    candidates.into_iter().find(|d| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|t| d.join(t).is_file())
    })
}

/// One private cluster in `dir` (files in `dir/pgdata`, socket and logs in `dir`).
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Its directory.
    pub dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    /// Its URL (trust authentication, superuser `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("pgdata")
    }

    /// Starts it (initdb the first time) with `fsync` off unless `settings` say otherwise
    /// (later settings win), and waits until it accepts connections.
    pub fn start(&self, settings: &[(&str, &str)]) -> Result<(), Failure> {
        let bin = bin_dir().ok_or_else(|| {
            Failure::Other("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found".into())
        })?;
        let user = run_as_user()?;
        std::fs::create_dir_all(&self.dir).map_err(|e| Failure::Other(e.to_string()))?;
        if let Some(u) = &user {
            chown(&self.dir, u)?;
        }
        let data = self.data();
        if !data.join("PG_VERSION").exists() {
            let out = self.run(
                &user,
                Command::new(bin.join("initdb"))
                    .args([
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--locale=C",
                        "--no-sync",
                        "-D",
                    ])
                    .arg(&data),
            )?;
            if !out.status.success() {
                return Err(Failure::Other(format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            // The settings of each start come from services.conf; later settings win.
            append(
                &data.join("postgresql.conf"),
                "\ninclude_if_exists = 'services.conf'\n",
            )?;
        }
        let mut conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = off\n",
            self.port,
            self.dir.display()
        );
        for (k, v) in settings {
            conf.push_str(&format!("{k} = {v}\n"));
        }
        let conf_path = data.join("services.conf");
        std::fs::write(&conf_path, conf).map_err(|e| Failure::Other(e.to_string()))?;
        if let Some(u) = &user {
            chown(&conf_path, u)?;
        }
        let log = self.dir.join("postgres.log");
        let from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let out = self.run(
            &user,
            Command::new(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "start"]),
        )?;
        if !out.status.success() {
            let tail = read_from(&log, from);
            let _ = self.stop("immediate");
            if tail.contains("already in use") || tail.contains("could not bind") {
                return Err(Failure::PortTaken);
            }
            return Err(Failure::Other(format!("PostgreSQL did not start:\n{tail}")));
        }
        let deadline = Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                let _ = self.stop("immediate");
                return Err(Failure::Other(format!(
                    "PostgreSQL not ready on 127.0.0.1:{}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Stops it (`fast` cuts sessions; `immediate` is a crash), or kills the postmaster
    /// when pg_ctl cannot. Stopping one that is not running succeeds.
    pub fn stop(&self, mode: &str) -> Result<(), Failure> {
        let data = self.data();
        let Some(pid) = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|p| p.lines().next()?.trim().parse::<u32>().ok())
        else {
            return Ok(());
        };
        if let (Some(bin), Ok(user)) = (bin_dir(), run_as_user()) {
            let stopped = self.run(
                &user,
                Command::new(bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(&data)
                    .args(["-m", mode, "-w", "-t", "20", "stop"]),
            );
            if stopped.is_ok_and(|o| o.status.success()) || !alive(pid) {
                return Ok(());
            }
        }
        crate::signal(pid, "QUIT");
        if !wait_gone(pid, Duration::from_secs(5)) {
            crate::signal(pid, "KILL");
            if !wait_gone(pid, Duration::from_secs(10)) {
                return Err(Failure::Other(format!(
                    "PostgreSQL (pid {pid}) would not stop"
                )));
            }
        }
        Ok(())
    }

    /// Runs `cmd` as `user` (when set), from the cluster's directory (which it can reach).
    fn run(&self, user: &Option<String>, cmd: &mut Command) -> Result<Output, Failure> {
        let mut full = match user {
            Some(u) => {
                let mut r = Command::new("runuser");
                r.args(["-u", u, "--"])
                    .arg(cmd.get_program())
                    .args(cmd.get_args());
                r
            }
            None => {
                let mut r = Command::new(cmd.get_program());
                r.args(cmd.get_args());
                r
            }
        };
        full.current_dir(&self.dir)
            .output()
            .map_err(|e| Failure::Other(format!("{:?}: {e}", cmd.get_program())))
    }
}

fn chown(path: &Path, user: &str) -> Result<(), Failure> {
    let ok = Command::new("chown")
        .arg(format!("{user}:"))
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(())
        .ok_or_else(|| Failure::Other(format!("cannot hand {} to {user}", path.display())))
}

fn append(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))
}

/// What `path` got past byte `from`.
fn read_from(path: &Path, from: u64) -> String {
    let all = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(all.get(from as usize..).unwrap_or_default()).into_owned()
}
