//! `gavel-plain`: the plain design the bench compares gavel's bid latency with. An axum
//! server answering `POST /api/bids` the way one would write it first: look up the key,
//! then one transaction per bid (a conditional update of the auction's highest, the
//! insert), no batching, no cache, no locks of its own. It shares gavel's tables, so the
//! load generator sets up through gavel (`--setup-url`) and bids here.

use std::net::{Ipv4Addr, SocketAddr};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "gavel-plain",
    about = "POST /api/bids, one transaction per bid"
)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 3002)]
    port: u16,
    /// gavel's database (migrated by gavel).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Pool size (one connection per concurrent bid, as such a design runs).
    #[arg(long, default_value_t = 64)]
    pool: u32,
}

/// Raises the auction's highest if `amount` beats it; the id of the stored bid, or the
/// least amount that would have won.
const RAISE: &str = "UPDATE auctions
    SET highest_amount = $2::numeric, highest_bidder_id = $3, bid_count = bid_count + 1
    WHERE id = $1 AND cancelled_at IS NULL AND closed_at IS NULL
      AND starts_at <= now() AND ends_at > now()
      AND $2::numeric >= COALESCE(highest_amount + min_increment, reserve_price)
    RETURNING id";

async fn bid(State(pool): State<PgPool>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (Some(auction), Some(amount)) = (body["auction_id"].as_i64(), body["amount"].as_str())
    else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    match decide(&pool, key, auction, amount).await {
        Ok(Ok(id)) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Ok(Err(min)) => (
            StatusCode::CONFLICT,
            Json(json!({ "code": "bid_too_low", "min_amount": min })),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// The bid's id, or the least amount that would have won.
async fn decide(
    pool: &PgPool,
    key: &str,
    auction: i64,
    amount: &str,
) -> sqlx::Result<Result<i64, Option<String>>> {
    let hash = Sha256::digest(key.as_bytes()).to_vec();
    let bidder: i64 = sqlx::query_scalar("SELECT id FROM bidders WHERE api_key_hash = $1")
        .bind(hash)
        .fetch_one(pool)
        .await?;
    let mut tx = pool.begin().await?;
    let raised: Option<i64> = sqlx::query_scalar(RAISE)
        .bind(auction)
        .bind(amount)
        .bind(bidder)
        .fetch_optional(&mut *tx)
        .await?;
    if raised.is_none() {
        tx.rollback().await?;
        let min: Option<String> = sqlx::query_scalar(
            "SELECT COALESCE(highest_amount + min_increment, reserve_price)::text
             FROM auctions WHERE id = $1",
        )
        .bind(auction)
        .fetch_optional(pool)
        .await?;
        return Ok(Err(min));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO bids (auction_id, bidder_id, amount) VALUES ($1, $2, $3::numeric) RETURNING id",
    )
    .bind(auction)
    .bind(bidder)
    .bind(amount)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let pool = PgPoolOptions::new()
        .max_connections(args.pool)
        .connect(&args.database_url)
        .await
        .map_err(|e| format!("gavel-plain: PostgreSQL: {e}"))?;
    let app = Router::new()
        .route("/api/bids", post(bid))
        .route("/ready", get(|| async { "ok" }))
        .with_state(pool);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| e.to_string())?;
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
