//! Processes the drill starts and kills: run as the PostgreSQL system user when the drill
//! runs as root (PostgreSQL refuses root), each in a process group of its own so that
//! nothing is left behind.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A started process; killed (with its process group) when dropped.
pub struct Proc {
    child: Child,
}

impl Proc {
    /// Starts `cmd` with its output in `log`.
    pub fn spawn(
        name: &str,
        cmd: Command,
        log: &Path,
        run_as: Option<(u32, u32)>,
    ) -> Result<Self, String> {
        let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        Self::spawn_to(name, cmd, out, run_as)
    }

    /// Starts `cmd` with its output appended to `out`.
    pub fn spawn_to(
        name: &str,
        mut cmd: Command,
        out: std::fs::File,
        run_as: Option<(u32, u32)>,
    ) -> Result<Self, String> {
        let err = out.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        if let Some((uid, gid)) = run_as {
            cmd.uid(uid).gid(gid);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self { child })
    }

    /// Its process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it still runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL to its whole process group, then reaped.
    pub fn kill(&mut self) {
        kill_group(self.pid());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILL to process group `pgid`.
pub fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// SIGKILL to each of `pids`.
pub fn kill_pids(pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let mut cmd = Command::new("kill");
    cmd.arg("-KILL");
    for p in pids {
        cmd.arg(p.to_string());
    }
    let _ = cmd.stderr(Stdio::null()).status();
}

/// The processes whose parent is `pid` (from `/proc`).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 2..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// The uid and gid of the system user `name` (from `/etc/passwd`).
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&name))
            .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))?
    })
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

pub use gavel_devkit::free_port;

/// Removes the System V shared memory segment a PostgreSQL killed with SIGKILL leaves
/// behind (the one its `postmaster.pid` names), once nothing is attached to it.
pub fn release_shm(data_dir: &Path) {
    let Ok(pid_file) = std::fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return;
    };
    // Line 7: "<key> <shmid>".
    if let Some(id) = pid_file
        .lines()
        .nth(6)
        .and_then(|l| l.split_whitespace().nth(1))
    {
        let _ = Command::new("ipcrm")
            .args(["-m", id])
            .stderr(Stdio::null())
            .status();
    }
}
