//! Redis reached through Sentinel: the primary killed under bid load, a replica promoted by
//! the Sentinel; no wrong answer meanwhile, and the fast path back on the new primary.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{self, status_json, Options, PrivateRedis};
use gavel_devkit::until;

/// One Redis Sentinel process of the test's own (`redis-server --sentinel`), watching
/// `primary` as the service `gavel`, alone (quorum 1), quick to call a failover.
struct Sentinel {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Sentinel {
    fn start(primary_port: u16) -> Self {
        let dir = std::env::temp_dir().join(common::unique_prefix());
        std::fs::create_dir_all(&dir).unwrap();
        let port = common::free_port();
        // Sentinel rewrites its configuration file, so it gets one of its own.
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor gavel 127.0.0.1 {primary_port} 1\n\
                 sentinel down-after-milliseconds gavel 1000\n\
                 sentinel failover-timeout gavel 5000\n\
                 sentinel parallel-syncs gavel 1\n",
                dir.display()
            ),
        )
        .unwrap();
        let child = Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (with --sentinel) must be installed");
        Sentinel { child, dir, port }
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn redis_cmd(url: &str, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(&mut conn).await
}

/// The primary's port as the Sentinel says.
async fn sentinel_primary(sentinel_port: u16) -> Option<u16> {
    let url = format!("redis://127.0.0.1:{sentinel_port}");
    let reply = redis_cmd(&url, &["SENTINEL", "get-master-addr-by-name", "gavel"])
        .await
        .ok()?;
    let addr: Vec<String> = redis::from_redis_value(reply).ok()?;
    addr.get(1)?.parse().ok()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_sentinel_failover_under_bid_load_gives_no_wrong_answer(pool: PgPool) {
    let mut primary = PrivateRedis::start().await;
    let replica = PrivateRedis::start().await;
    let replica_of = primary.port.to_string();
    redis_cmd(&replica.url(), &["REPLICAOF", "127.0.0.1", &replica_of])
        .await
        .unwrap();
    let sentinel = Sentinel::start(primary.port);
    until(Duration::from_secs(10), "the sentinel", || async {
        sentinel_primary(sentinel.port).await == Some(primary.port)
    })
    .await;

    let opts = Options {
        redis_sentinel: Some(gavel_cache::RedisTarget::Sentinel {
            sentinels: vec![format!("redis://127.0.0.1:{}", sentinel.port)],
            service: "gavel".into(),
        }),
        ..Default::default()
    };
    let app = Arc::new(common::spawn_app_with(pool.clone(), opts.clone()).await);
    until(Duration::from_secs(5), "redis ok", || async {
        app.redis_state().await == "ok"
    })
    .await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({"min_increment": "1"})).await["id"]
        .as_i64()
        .unwrap();

    // Bids from four clients, each rising by its own steps, while the primary dies.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4i64 {
        let (app, key, stop) = (app.clone(), key.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let amount = Decimal::from(n * 4 + c);
                let (s, v) = status_json(app.bid(&key, id, json!(amount.to_string())).await).await;
                answers.push((amount, s, v));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    primary.kill();
    until(
        Duration::from_secs(30),
        "the sentinel's failover",
        || async { sentinel_primary(sentinel.port).await == Some(replica.port) },
    )
    .await;
    until(
        Duration::from_secs(15),
        "redis ok on the new primary",
        || async { app.redis_state().await == "ok" },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    // No wrong answer: every acknowledged bid stored; accepted bids rising in id order; a
    // refusal as too low only for an amount below what the auction needed then.
    let mut accepted = Vec::new();
    for c in clients {
        for (amount, s, v) in c.await.unwrap() {
            match s {
                StatusCode::CREATED => accepted.push((v["id"].as_i64().unwrap(), amount)),
                StatusCode::CONFLICT => {
                    assert_eq!(v["code"], "bid_too_low", "{v}");
                    let min: Decimal = v["min_amount"].as_str().unwrap().parse().unwrap();
                    assert!(amount < min, "{amount} refused with min_amount {min}");
                }
                other => panic!("{other}: {v}"),
            }
        }
    }
    accepted.sort();
    assert!(accepted.len() > 3, "too few bids accepted: {accepted:?}");
    assert!(
        accepted.windows(2).all(|w| w[0].1 < w[1].1),
        "accepted bids not rising: {accepted:?}"
    );
    let stored: Vec<(i64, Decimal)> =
        sqlx::query_as("SELECT id, amount FROM bids WHERE auction_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored, accepted);

    // The fast path works again, against the promoted replica: a hopeless bid is refused
    // there without PostgreSQL (the memory tier of another instance knows nothing).
    let highest = accepted.last().unwrap().1;
    tokio::time::sleep(Duration::from_millis(300)).await; // the last raise, written after its 201
    let other = common::spawn_app_with(pool.clone(), opts).await;
    let (s, v) = status_json(other.bid(&key, id, json!(highest.to_string())).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("bid_too_low"))
    );
    let metrics = other.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("gavel_fast_path_checks_total")
                && l.contains("tier=\"redis\"")
                && l.contains("result=\"hit\"")),
        "the refusal did not come from Redis:\n{metrics}"
    );
}
