//! `gavel-services up DIR | down DIR`: the private PostgreSQL and Redis that
//! `scripts/with-services.sh` runs a command with.
//!
//! `up` starts what the environment lacks — PostgreSQL when `DATABASE_URL` is unset, Redis
//! when `REDIS_URL` is — in DIR (installing Debian's packages when missing), and prints
//! the `export` lines for the caller's shell: `DATABASE_URL`, `REDIS_URL`,
//! `GAVEL_TEST_PG_BIN` (so tests can start clusters of their own) and
//! `GAVEL_TEST_PG_RUNAS`. PostgreSQL runs with fsync, synchronous_commit and
//! full_page_writes off, unless `GAVEL_PG_DURABLE=1` (the bench: what production runs).
//! `down` stops whatever runs in DIR and removes it.

use std::path::Path;
use std::process::{Command, ExitCode};

use gavel_devkit::{postgres, redis, start_postgres, start_redis};

fn say(msg: &str) {
    eprintln!("with-services: {msg}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [cmd, dir] if cmd == "up" => up(Path::new(dir)),
        [cmd, dir] if cmd == "down" => down(Path::new(dir)),
        _ => Err("usage: gavel-services up DIR | down DIR".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(&format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn unset(name: &str) -> bool {
    std::env::var(name).map_or(true, |v| v.is_empty())
}

/// Installs the Debian packages of what is missing (scripts/need.sh).
fn install(pairs: &[&str]) -> Result<(), String> {
    let need = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/need.sh");
    let ok = Command::new("bash")
        .arg(need)
        .args(pairs)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(())
        .ok_or_else(|| format!("could not install {pairs:?}"))
}

fn up(dir: &Path) -> Result<(), String> {
    let (need_pg, need_redis) = (unset("DATABASE_URL"), unset("REDIS_URL"));
    if postgres::bin_dir().is_none() {
        install(&["pg_ctlcluster=postgresql"])?;
    }
    let bin = postgres::bin_dir()
        .ok_or("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found")?;
    let user = gavel_devkit::run_as_user().map_err(|e| e.to_string())?;
    println!("export GAVEL_TEST_PG_BIN='{}'", bin.display());
    println!("export GAVEL_TEST_PG_RUNAS='{}'", user.unwrap_or_default());
    if need_pg {
        let durable = std::env::var("GAVEL_PG_DURABLE").is_ok_and(|v| v == "1");
        let mut settings = vec![("max_connections", "400"), ("shared_buffers", "128MB")];
        if durable {
            settings.extend([
                ("fsync", "on"),
                ("synchronous_commit", "on"),
                ("full_page_writes", "on"),
            ]);
        } else {
            settings.extend([("synchronous_commit", "off"), ("full_page_writes", "off")]);
        }
        let pg = start_postgres(dir, &settings).map_err(|e| format!("PostgreSQL: {e}"))?;
        say(&format!(
            "PostgreSQL ready on 127.0.0.1:{} (data dir {}/pgdata)",
            pg.port,
            dir.display()
        ));
        println!("export DATABASE_URL='{}'", pg.url());
    }
    if need_redis {
        install(&["redis-server=redis-server"])?;
        let r = start_redis(&dir.join("redis")).map_err(|e| format!("Redis: {e}"))?;
        say(&format!("Redis ready on 127.0.0.1:{}", r.port));
        println!("export REDIS_URL='{}'", r.url());
    }
    Ok(())
}

fn down(dir: &Path) -> Result<(), String> {
    let r = redis::Server {
        dir: dir.join("redis"),
        port: 0,
    };
    let _ = r.stop();
    let pg = postgres::Cluster {
        dir: dir.to_path_buf(),
        port: 0,
    };
    let stopped = pg.stop("fast");
    let _ = std::fs::remove_dir_all(dir);
    stopped.map_err(|e| e.to_string())
}
