//! Set-up through the API: wait for readiness, then create (or look up) the bidders and
//! auctions the load uses.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::amounts;
use crate::cli::{Args, Workload};

/// How long to wait for the server to answer its readiness path.
const READY_WAIT: Duration = Duration::from_secs(60);

/// An auction the load bids on or reads.
#[derive(Debug, Clone, PartialEq)]
pub struct AuctionInfo {
    /// Its id.
    pub id: i64,
    /// Its `min_increment`, in ten-thousandths.
    pub increment: u64,
    /// The least amount its next bid needs, in ten-thousandths, as known at set-up.
    pub next_min: u64,
}

/// The bidders and auctions of a run.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    /// Bidder API keys.
    pub keys: Vec<String>,
    /// The auctions bid on, with what each needs next.
    pub auctions: Vec<AuctionInfo>,
}

/// Waits until `GET {url}{path}` answers 2xx (`/ready` for gavel, `/hello` for the floor).
pub async fn wait_ready(client: &reqwest::Client, url: &str, path: &str) -> Result<(), String> {
    let deadline = Instant::now() + READY_WAIT;
    loop {
        let last = match client.get(format!("{url}{path}")).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => r.status().to_string(),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            return Err(format!(
                "{url}{path} not ready after {READY_WAIT:?}: {last}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates or looks up what the workload needs (nothing for `hello`).
pub async fn prepare(client: &reqwest::Client, args: &Args) -> Result<Fixture, String> {
    if !args.workload.needs_setup() {
        return Ok(Fixture::default());
    }
    let keys = if args.bidder_keys.is_empty() {
        create_bidders(client, args).await?
    } else {
        args.bidder_keys.clone()
    };
    let mut auctions = if args.auction_ids.is_empty() {
        create_auctions(client, args).await?
    } else {
        let key = args.admin_token.as_deref().unwrap_or(&keys[0]);
        look_up_auctions(client, args, key).await?
    };
    if args.workload == Workload::BidsHot {
        auctions.truncate(1);
    }
    Ok(Fixture { keys, auctions })
}

fn admin_token(args: &Args) -> Result<&str, String> {
    args.admin_token
        .as_deref()
        .ok_or_else(|| "set-up needs --admin-token (or GAVEL_ADMIN_TOKEN)".to_string())
}

async fn create_bidders(client: &reqwest::Client, args: &Args) -> Result<Vec<String>, String> {
    let token = admin_token(args)?;
    let mut keys = Vec::with_capacity(args.bidders as usize);
    for i in 0..args.bidders {
        let body = json!({"name": format!("loadgen {} {i}", args.label)});
        let v = call(client, args, token, "/api/bidders", Some(body)).await?;
        let key = v["api_key"].as_str().ok_or("bidder without api_key")?;
        keys.push(key.to_string());
    }
    Ok(keys)
}

async fn create_auctions(
    client: &reqwest::Client,
    args: &Args,
) -> Result<Vec<AuctionInfo>, String> {
    let token = admin_token(args)?;
    let increment = amounts::parse(&args.increment).ok_or("--increment is not a decimal")?;
    let reserve = amounts::parse(&args.reserve).ok_or("--reserve is not a decimal")?;
    // Open well past the run, so that no bid meets a closing auction.
    let run = args.warmup() + args.measured() + Duration::from_secs(600);
    let open_for = chrono::Duration::from_std(run.max(Duration::from_secs(3600)))
        .map_err(|e| e.to_string())?;
    let ends_at = (chrono::Utc::now() + open_for).to_rfc3339();
    let count = if args.workload == Workload::BidsHot {
        1
    } else {
        args.auctions
    };
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let body = json!({
            "title": format!("loadgen {} {i}", args.label), "kind": "english",
            "currency": "USD", "reserve_price": args.reserve,
            "min_increment": args.increment, "extend_secs": 0, "ends_at": ends_at,
        });
        let v = call(client, args, token, "/api/auctions", Some(body)).await?;
        let id = v["id"].as_i64().ok_or("auction without id")?;
        out.push(AuctionInfo {
            id,
            increment,
            next_min: reserve.max(1),
        });
    }
    Ok(out)
}

async fn look_up_auctions(
    client: &reqwest::Client,
    args: &Args,
    key: &str,
) -> Result<Vec<AuctionInfo>, String> {
    let mut out = Vec::with_capacity(args.auction_ids.len());
    for id in &args.auction_ids {
        let v = call(client, args, key, &format!("/api/auctions/{id}"), None).await?;
        out.push(auction_info(&v)?);
    }
    Ok(out)
}

/// Reads what the bid workloads need from an Auction document.
pub fn auction_info(v: &Value) -> Result<AuctionInfo, String> {
    let field = |name: &str| -> Result<u64, String> {
        v[name]
            .as_str()
            .and_then(amounts::parse)
            .ok_or_else(|| format!("auction without a decimal {name}: {v}"))
    };
    let id = v["id"].as_i64().ok_or("auction without id")?;
    let increment = field("min_increment")?.max(1);
    let reserve = field("reserve_price")?;
    let next_min = match v["highest_bid"]["amount"].as_str().and_then(amounts::parse) {
        Some(highest) => highest + increment,
        None => reserve,
    };
    Ok(AuctionInfo {
        id,
        increment,
        next_min: next_min.max(1),
    })
}

/// One set-up request; any non-2xx answer is an error naming the path.
async fn call(
    client: &reqwest::Client,
    args: &Args,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let url = format!("{}{path}", args.setup_url());
    let req = match &body {
        Some(b) => client.post(url).json(b),
        None => client.get(url),
    };
    let r = req
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let status = r.status();
    let text = r.text().await.map_err(|e| format!("{path}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auction_info_reads_the_next_minimum() {
        let fresh = json!({"id": 7, "min_increment": "0.05", "reserve_price": "1.00",
                           "highest_bid": null});
        assert_eq!(
            auction_info(&fresh).unwrap(),
            AuctionInfo {
                id: 7,
                increment: 500,
                next_min: 10_000
            }
        );
        let bid_on = json!({"id": 8, "min_increment": "0.05", "reserve_price": "1.00",
                            "highest_bid": {"amount": "2.50"}});
        assert_eq!(auction_info(&bid_on).unwrap().next_min, 25_500);
        assert!(auction_info(&json!({"id": 1})).is_err());
    }
}
