//! The chaos run: bids through two gavel instances on one PostgreSQL and one Redis while
//! Redis is flushed, stopped and started, PostgreSQL is stopped and started, and one
//! instance is killed with SIGKILL and started again. The books are checked after, as in
//! the failover drill; here an instance dying may also leave a request without an answer.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::gavel::Instance;
use crate::load::{Api, Fixture, Load};
use crate::single::Single;
use crate::{checks, receiver, say};
use gavel_devkit::free_port;

/// Runs the chaos scenario; the report, with `ok` false when a check failed.
pub async fn run(gavel: &Path, dir: &Path, clients: usize) -> Result<Value, String> {
    let t0 = Instant::now();
    let token: String = (0..40)
        .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
        .collect();
    let mut pg = Single::start(&dir.join("pg")).await?;
    let redis = gavel_devkit::start_redis(&dir.join("redis")).map_err(|e| format!("Redis: {e}"))?;
    let _guard = Guard(redis.clone());
    let (hook, received) = receiver::start().await?;
    let extra = |redis: &gavel_devkit::redis::Server| {
        vec![
            ("REDIS_URL", redis.url()),
            ("GAVEL_DB_ACQUIRE_TIMEOUT_MS", "1000".to_string()),
            ("GAVEL_REQUEST_TIMEOUT_MS", "5000".to_string()),
        ]
    };
    let (port_a, port_b) = (free_port(), free_port());
    let db = pg.database_url();
    // Redis keeps its address through the faults: the instances' settings are fixed.
    let settings = extra(&redis);
    let start = |port: u16, log: &str| {
        Instance::start_on(gavel, port, &db, &token, &settings, dir.join(log))
    };
    let a = start(port_a, "a.log").await?;
    let mut b = start(port_b, "b.log").await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .test_before_acquire(true)
        .connect_lazy(&db)
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(checks::SETTLEMENT_LOG)
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    let api = Api::new(vec![a.url.clone(), b.url.clone()], &token);
    let fixture = Fixture::create(&api, 32, 10, &hook).await?;
    let load = Load::start(api, fixture, clients, t0);

    let pause = |secs: u64| tokio::time::sleep(Duration::from_secs(secs));
    pause(3).await;
    say("fault: redis FLUSHALL");
    flush(&redis);
    pause(2).await;
    say("fault: redis stopped");
    redis.stop().map_err(|e| e.to_string())?;
    pause(3).await;
    say("fault: redis started again");
    redis.start().map_err(|e| e.to_string())?;
    pause(3).await;
    say("fault: PostgreSQL stopped (fast)");
    pg.stop().await;
    pause(2).await;
    say("fault: PostgreSQL started again");
    pg.start_again().await?;
    pause(3).await;
    say("fault: instance b killed (SIGKILL)");
    b.kill();
    pause(2).await;
    say("fault: instance b started again");
    b = start(port_b, "b.log").await?;
    pause(2).await;
    say("fault: redis FLUSHALL");
    flush(&redis);
    pause(3).await;
    let seen = load.stop().await;
    drop(b);

    crate::settle_shorts(&pool, &seen).await;
    let checks = checks::run(&pool, &seen, &received, true).await?;
    Ok(json!({
        "ok": checks.iter().all(|c| c["ok"] == true),
        "answers": seen.answers.len(),
        "short_auctions": seen.shorts.len(),
        "checks": checks,
        "seconds": t0.elapsed().as_secs(),
    }))
}

/// Empties Redis, as an operator's mistake would.
fn flush(redis: &gavel_devkit::redis::Server) {
    let _ = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "flushall"])
        .output();
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Kills the run's Redis however the run ends.
struct Guard(gavel_devkit::redis::Server);
