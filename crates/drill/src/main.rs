//! `gavel-drill`: the failover drill (`scripts/failover.sh` runs it).
//!
//! On one machine, on loopback ports: a PostgreSQL cluster of three Patroni nodes
//! (synchronous mode) over three etcd members, HAProxy routing to the primary, two gavel
//! instances on HAProxy, and bid load through both. Then the leader's whole machine is
//! killed, then only the new leader's PostgreSQL, then a planned switchover; after each the
//! drill waits for bids to be decided again and for the cluster to be whole. Last it reads
//! the books on the final primary. One JSON report on stdout; progress on stderr; exit 1
//! when a check fails.

mod chaos;
mod checks;
mod cluster;
mod gavel;
mod load;
mod procs;
mod receiver;
mod single;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

use crate::cluster::Cluster;
use crate::gavel::Instance;
use crate::load::{Api, Fixture, Load, Seen};

/// The drill's options.
#[derive(Debug, Parser)]
#[command(
    name = "gavel-drill",
    about = "Fail a loopback PostgreSQL cluster over under gavel and bid load; check the books"
)]
struct Args {
    /// The gavel binary to run.
    #[arg(long, default_value = "target/release/gavel")]
    gavel: PathBuf,
    /// Where the cluster's files and the logs go (default: a new directory under /tmp).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the directory afterwards (it is removed when every check held).
    #[arg(long)]
    keep: bool,
    /// One failover only (the leader's machine), no single-node reference: the test
    /// suite's short run.
    #[arg(long)]
    short: bool,
    /// Bidding clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds each throughput figure is measured over.
    #[arg(long, default_value_t = 10)]
    measure_secs: u64,
    /// Which run.
    #[command(subcommand)]
    run: Option<Run>,
}

/// The runs besides the failover drill (the default).
#[derive(Debug, clap::Subcommand)]
enum Run {
    /// One PostgreSQL and one Redis under two instances: Redis flushed, stopped and
    /// started, PostgreSQL stopped and started, an instance killed and started again.
    Chaos,
}

pub(crate) fn say(msg: &str) {
    eprintln!("gavel-drill: {msg}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("gavel-drill-{}", std::process::id()))
    });
    let result = match args.run {
        None => drill(&args, &dir).await,
        Some(Run::Chaos) => chaos::run(&args.gavel, &dir, args.clients).await,
    };
    let ok = matches!(&result, Ok(report) if report["ok"] == true);
    if let Ok(report) = &result {
        print_checks(report);
    }
    match result {
        Ok(report) => println!("{report}"),
        Err(e) => say(&format!("error: {e}")),
    }
    if ok && !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        say(&format!("files and logs kept in {}", dir.display()));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn drill(args: &Args, dir: &std::path::Path) -> Result<Value, String> {
    let t0 = Instant::now();
    let token: String = (0..40)
        .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;

    let single = if args.short {
        None
    } else {
        say("reference: one PostgreSQL, no replication");
        Some(single_node(args, dir, &token).await?)
    };

    // A receiver of the cluster's own: the reference run's auctions had the same ids.
    let (hook, received) = receiver::start().await?;
    say("starting etcd x3, Patroni x3 (synchronous mode), HAProxy");
    let mut cluster = Cluster::start(&dir.join("cluster")).await?;
    say(&format!(
        "cluster ready in {:.1} s; starting two gavel instances",
        t0.elapsed().as_secs_f64()
    ));
    let mut gavels = Vec::new();
    for i in 1..=2 {
        gavels.push(
            Instance::start(
                &args.gavel,
                &cluster.database_url(),
                &token,
                dir.join(format!("gavel{i}.log")),
            )
            .await?,
        );
    }
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .test_before_acquire(true)
        .connect_lazy(&cluster.database_url())
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(checks::SETTLEMENT_LOG)
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;

    let api = Api::new(gavels.iter().map(|g| g.url.clone()).collect(), &token);
    let fixture = Fixture::create(&api, 8, 20, &hook).await?;
    let load = Load::start(api, fixture, args.clients, t0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let synchronous = decided_rate(&load, args.measure_secs).await;
    say(&format!(
        "synchronous cluster: {synchronous:.0} bids decided/s"
    ));

    let mut events = Vec::new();
    let kinds: &[&str] = if args.short {
        &["machine"]
    } else {
        &["machine", "postgres", "switchover"]
    };
    for kind in kinds {
        events.push(event(&mut cluster, &load, kind, t0).await?);
        for g in &mut gavels {
            if !g.alive() {
                return Err("a gavel instance died".into());
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = load.stop().await;
    settle_shorts(&pool, &seen).await;
    let checks = checks::run(&pool, &seen, &received, false).await?;
    let ok = checks.iter().all(|c| c["ok"] == true);
    Ok(json!({
        "ok": ok,
        "events": events,
        "bids_decided_per_second": {
            "single_node": single,
            "synchronous_cluster": synchronous,
            "ratio": single.map(|s| if s > 0.0 { synchronous / s } else { 0.0 }),
        },
        "answers": seen.answers.len(),
        "short_auctions": seen.shorts.len(),
        "checks": checks,
        "seconds": t0.elapsed().as_secs(),
    }))
}

/// Each check's verdict, then the closing count.
fn print_checks(report: &Value) {
    let checks = report["checks"].as_array().cloned().unwrap_or_default();
    let passed = checks.iter().filter(|c| c["ok"] == true).count();
    for c in &checks {
        let verdict = if c["ok"] == true { "ok  " } else { "FAIL" };
        say(&format!("{verdict} {}", c["check"].as_str().unwrap_or("")));
    }
    eprintln!("drill: {passed} passed, {} failed", checks.len() - passed);
}

/// Bids decided a second over the next `secs` seconds.
async fn decided_rate(load: &Load, secs: u64) -> f64 {
    let before = load.decided();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    (load.decided() - before) as f64 / started.elapsed().as_secs_f64()
}

/// The same load on one PostgreSQL without replication.
async fn single_node(args: &Args, dir: &std::path::Path, token: &str) -> Result<f64, String> {
    let pg = single::Single::start(&dir.join("single")).await?;
    let (hook, _) = receiver::start().await?;
    let mut gavels = Vec::new();
    for i in 1..=2 {
        gavels.push(
            Instance::start(
                &args.gavel,
                &pg.database_url(),
                token,
                dir.join(format!("single-gavel{i}.log")),
            )
            .await?,
        );
    }
    let api = Api::new(gavels.iter().map(|g| g.url.clone()).collect(), token);
    let fixture = Fixture::create(&api, 8, 20, &hook).await?;
    let load = Load::start(api, fixture, args.clients, Instant::now());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rate = decided_rate(&load, args.measure_secs).await;
    load.stop().await;
    say(&format!("single node: {rate:.0} bids decided/s"));
    Ok(rate)
}

/// One failover of `kind`, the wait for bids to be decided again and for the cluster to
/// be whole again; what it cost.
async fn event(
    cluster: &mut Cluster,
    load: &Load,
    kind: &str,
    t0: Instant,
) -> Result<Value, String> {
    cluster.wait_healthy(Duration::from_secs(120)).await?;
    let leader = cluster.leader().await.ok_or("no leader before the event")?;
    let at = t0.elapsed();
    say(&format!(
        "event {kind}: leader {} at {:.1} s",
        cluster.nodes[leader].name,
        at.as_secs_f64()
    ));
    match kind {
        "machine" => cluster.kill_machine(leader),
        "postgres" => cluster.kill_postgres(leader)?,
        _ => {
            let candidate = cluster
                .sync_standby()
                .await
                .ok_or("no synchronous standby to switch to")?;
            cluster.switchover(leader, candidate)?;
        }
    }
    // Decided again: a decided answer completed well after the event, and a leader.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = t0.elapsed();
        let flowing = load
            .last_decided()
            .is_some_and(|d| d + Duration::from_millis(300) > now);
        if now > at + Duration::from_secs(2) && flowing && cluster.leader().await.is_some() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("no bid decided within 120 s of the {kind} event"));
        }
    }
    let recovered = t0.elapsed();
    let new_leader = cluster.leader().await;
    if kind == "machine" {
        cluster.restart_machine(leader)?;
    }
    cluster.wait_healthy(Duration::from_secs(120)).await?;
    let gap = load.longest_gap(at.saturating_sub(Duration::from_millis(500)), recovered);
    let unavailable = load.count_between(503, at, recovered);
    say(&format!(
        "  no decided bid for {:.2} s; {unavailable} answered 503",
        gap.as_secs_f64()
    ));
    Ok(json!({
        "kind": kind,
        "at_seconds": at.as_secs_f64(),
        "leader_before": cluster.nodes[leader].name,
        "leader_after": new_leader.map(|l| cluster.nodes[l].name.clone()),
        "seconds_without_decided_bids": gap.as_secs_f64(),
        "answered_503": unavailable,
    }))
}

/// Waits until every short auction has ended and been settled (or 20 s past the last end).
pub(crate) async fn settle_shorts(pool: &sqlx::PgPool, seen: &Seen) {
    let ids: Vec<i64> = seen.shorts.iter().map(|s| s.id).collect();
    let last_end = seen.shorts.iter().map(|s| s.ends_at).max();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let past = last_end.is_none_or(|e| chrono::Utc::now() > e + chrono::Duration::seconds(2));
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM auctions a
             LEFT JOIN win_notices n ON n.auction_id = a.id
             WHERE a.id = ANY($1) AND (a.closed_at IS NULL OR n.state = 'pending')",
        )
        .bind(&ids)
        .fetch_one(pool)
        .await
        .unwrap_or(i64::MAX);
        if past && open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
