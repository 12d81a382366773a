//! `gavel-loadgen`: drives a running gavel with many bidders racing on a few english
//! auctions, a share of them sending bids that cannot win, and prints what it measured.
//!
//! It talks only to the URL it is given (loopback in the bench script), and stops by
//! itself after `--seconds`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::Rng;
use serde_json::{json, Value};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "gavel-loadgen", about = "Bid load against a running gavel")]
struct Args {
    /// Base URL of gavel.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Admin token (to create bidders and auctions).
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    /// How long to send bids.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Auctions bid on.
    #[arg(long, default_value_t = 8)]
    auctions: usize,
    /// Bidders (API keys) sending bids.
    #[arg(long, default_value_t = 16)]
    bidders: usize,
    /// Share of bids that cannot win (0..=1).
    #[arg(long, default_value_t = 0.8)]
    hopeless_share: f64,
    /// A label printed with the figures.
    #[arg(long, default_value = "run")]
    label: String,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    created: u64,
    too_low: u64,
    other_4xx: u64,
    server_errors: u64,
    failed: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("gavel-loadgen: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    wait_ready(&client, &args.url).await?;
    let keys = setup_bidders(&client, &args).await?;
    let auctions = setup_auctions(&client, &args).await?;
    // Least amount each auction needs next, in hundredths, as last seen by any worker.
    let next_min: Arc<Vec<AtomicU64>> =
        Arc::new(auctions.iter().map(|_| AtomicU64::new(100)).collect());
    let auctions = Arc::new(auctions);
    let keys = Arc::new(keys);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (client, keys, auctions, next_min) = (
            client.clone(),
            keys.clone(),
            auctions.clone(),
            next_min.clone(),
        );
        let url = format!("{}/api/bids", args.url);
        let share = args.hopeless_share;
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let key = &keys[w % keys.len()];
            while Instant::now() < deadline {
                let (i, cents) = {
                    let mut rng = rand::rng();
                    let i = rng.random_range(0..auctions.len());
                    let min = next_min[i].load(Ordering::Relaxed);
                    let cents = if rng.random_bool(share) {
                        1.max(min / 2)
                    } else {
                        min + rng.random_range(0..3)
                    };
                    (i, cents)
                };
                let amount = format!("{}.{:02}", cents / 100, cents % 100);
                let sent = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(key)
                    .json(&json!({"auction_id": auctions[i], "amount": amount}))
                    .send()
                    .await;
                let status = match r {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        if status == 409 {
                            if let Some(m) = body["min_amount"].as_str().and_then(cents_of) {
                                next_min[i].fetch_max(m, Ordering::Relaxed);
                            }
                        } else if status == 201 {
                            next_min[i].fetch_max(cents + 1, Ordering::Relaxed);
                        }
                        Some(status)
                    }
                    Err(_) => None,
                };
                tally
                    .latencies_us
                    .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                match status {
                    Some(201) => tally.created += 1,
                    Some(409) => tally.too_low += 1,
                    Some(s) if s >= 500 => tally.server_errors += 1,
                    Some(_) => tally.other_4xx += 1,
                    None => tally.failed += 1,
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for w in workers {
        let t = w.await.map_err(|e| e.to_string())?;
        all.latencies_us.extend(t.latencies_us);
        all.created += t.created;
        all.too_low += t.too_low;
        all.other_4xx += t.other_4xx;
        all.server_errors += t.server_errors;
        all.failed += t.failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    report(&args.label, &mut all, elapsed);
    Ok(())
}

/// Prints one line of figures (also as JSON, for scripts).
fn report(label: &str, t: &mut Tally, elapsed: f64) {
    t.latencies_us.sort_unstable();
    let n = t.latencies_us.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        t.latencies_us[i] as f64 / 1000.0
    };
    let rps = n as f64 / elapsed;
    let figures = json!({
        "label": label,
        "requests": n,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "requests_per_sec": rps.round(),
        "created": t.created,
        "bid_too_low": t.too_low,
        "other_4xx": t.other_4xx,
        "server_errors": t.server_errors,
        "transport_errors": t.failed,
        "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
    });
    println!("{figures}");
}

fn cents_of(amount: &str) -> Option<u64> {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, "0"));
    let frac = format!("{frac:0<2}");
    let cents: u64 = int.parse::<u64>().ok()? * 100 + frac[..2].parse::<u64>().ok()?;
    // Round sub-cent amounts up: the next bid must reach them.
    Some(cents + u64::from(frac[2..].bytes().any(|b| b != b'0')))
}

/// Waits (up to 30 s) until gavel says it is ready.
async fn wait_ready(client: &reqwest::Client, url: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/ready")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{url} did not become ready"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn setup_bidders(client: &reqwest::Client, args: &Args) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for i in 0..args.bidders {
        let v = admin_post(
            client,
            args,
            "/api/bidders",
            json!({"name": format!("loadgen {i}")}),
        )
        .await?;
        keys.push(v["api_key"].as_str().ok_or("no api_key")?.to_string());
    }
    Ok(keys)
}

async fn setup_auctions(client: &reqwest::Client, args: &Args) -> Result<Vec<i64>, String> {
    let ends = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mut ids = Vec::new();
    for i in 0..args.auctions {
        let v = admin_post(
            client,
            args,
            "/api/auctions",
            json!({"title": format!("loadgen {i}"), "reserve_price": "1.00",
                   "min_increment": "0.01", "ends_at": ends}),
        )
        .await?;
        ids.push(v["id"].as_i64().ok_or("no auction id")?);
    }
    Ok(ids)
}

async fn admin_post(
    client: &reqwest::Client,
    args: &Args,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    let r = client
        .post(format!("{}{path}", args.url))
        .bearer_auth(&args.admin_token)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let status = r.status();
    let v: Value = r.json().await.map_err(|e| format!("{path}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {v}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents() {
        assert_eq!(cents_of("12.50"), Some(1250));
        assert_eq!(cents_of("3"), Some(300));
        assert_eq!(cents_of("1.0001"), Some(101));
    }
}
