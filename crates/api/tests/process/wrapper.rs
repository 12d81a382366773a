//! `scripts/with-services.sh` (behind `scripts/run.sh`): a signal to the wrapper's PID
//! alone, as a supervisor, `timeout` or CI sends it, stops gavel and then the private
//! PostgreSQL and Redis it started.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::server::{signal, wait_exit};

/// The repository's root.
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test]
async fn a_signal_to_the_wrapper_stops_gavel_then_its_services() {
    for sig in ["-TERM", "-INT", "-HUP"] {
        let port = common::free_port();
        // Started with every signal at its default: a test harness run from a script's
        // background job inherits INT ignored, and bash can then never trap it.
        let mut child = Command::new("env")
            .arg("--default-signal")
            .arg(root().join("scripts/with-services.sh"))
            .arg(env!("CARGO_BIN_EXE_gavel"))
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("GAVEL_ADMIN_TOKEN", common::ADMIN_TOKEN)
            .env("GAVEL_BIND", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("GAVEL_SHUTDOWN_GRACE_SECS", "5")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The wrapper says where the private cluster lives.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(dir) = line.split("(data dir ").nth(1) {
                    let _ = tx.send(dir.trim_end_matches(')').to_string());
                }
            }
        });
        let pgdata = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the wrapper started no PostgreSQL");

        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(Instant::now() < deadline, "gavel never got ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        signal(&child, sig);
        let started = Instant::now();
        wait_exit(&mut child, Duration::from_secs(20)).await;
        assert!(started.elapsed() < Duration::from_secs(20), "{sig}");
        assert!(
            client
                .get(format!("http://127.0.0.1:{port}/health"))
                .send()
                .await
                .is_err(),
            "gavel still answers after {sig} to the wrapper"
        );
        assert!(
            !std::path::Path::new(&pgdata).exists(),
            "{pgdata} left behind after {sig}"
        );
    }
}

/// The command runs with INT and QUIT at their defaults, though bash ignores them in the
/// background jobs of a script: else a nested wrapper (`scripts/test.sh` runs the suite
/// under one) could never catch the INT it is sent.
#[test]
fn the_wrapped_command_can_be_interrupted() {
    let out = Command::new(root().join("scripts/with-services.sh"))
        .args(["grep", "^SigIgn:", "/proc/self/status"])
        // Given services: nothing is started.
        .env("DATABASE_URL", "postgres://unused")
        .env("REDIS_URL", "redis://unused")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    let mask = u64::from_str_radix(line.trim_start_matches("SigIgn:").trim(), 16).unwrap();
    // Bit n-1 stands for signal n: SIGINT is 2, SIGQUIT 3.
    assert_eq!(
        mask & 0b110,
        0,
        "INT or QUIT ignored in the wrapped command: {line}"
    );
}
