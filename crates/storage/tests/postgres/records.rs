//! Rows become domain values in one place: rules the schema cannot hold are checked there,
//! and rules written twice (Rust and SQL) are checked against each other.

use chrono::{DateTime, Duration, Utc};
use gavel_domain::auction::status_at;
use gavel_domain::{AuctionStatus, BidOutcome, Money, NewAuctionInput};
use gavel_storage::{Storage, StorageError};
use sqlx::PgPool;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sql_status_rule_is_the_domain_rule(pool: PgPool) {
    let starts = t("2026-11-22T10:00:00Z");
    let ends = t("2026-11-22T10:05:00Z");
    let clocks = [
        starts - Duration::seconds(1),
        starts,
        starts + Duration::seconds(1),
        ends - Duration::microseconds(1),
        ends,
        ends + Duration::hours(1),
    ];
    let mut seen = std::collections::HashSet::new();
    for cancelled in [false, true] {
        for closed in [false, true] {
            for now in clocks {
                let sql: String = sqlx::query_scalar(
                    "SELECT auction_status(CASE WHEN $1 THEN $5 END, CASE WHEN $2 THEN $5 END,
                                           $3, $4, $5)",
                )
                .bind(cancelled)
                .bind(closed)
                .bind(starts)
                .bind(ends)
                .bind(now)
                .fetch_one(&pool)
                .await
                .unwrap();
                let rust = status_at(cancelled, closed, starts, ends, now);
                assert_eq!(sql, rust.as_str(), "{cancelled} {closed} {now}");
                seen.insert(rust);
            }
        }
    }
    assert_eq!(
        seen.len(),
        AuctionStatus::ALL.len(),
        "every status was compared"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_unknown_kind_is_an_error_not_a_default(pool: PgPool) {
    let s = Storage::from_pool(pool.clone());
    s.migrate().await.unwrap();
    let now = Utc::now();
    let new = NewAuctionInput {
        title: Some("t".into()),
        ends_at: Some(now + Duration::hours(1)),
        ..Default::default()
    }
    .validate(now)
    .unwrap();
    let a = s.create_auction(&new).await.unwrap();
    // A kind no rule writes, as a hand edit or a broken migration might leave it.
    sqlx::query("UPDATE auctions SET kind = 'dutch' WHERE id = $1")
        .bind(a.id.get())
        .execute(&pool)
        .await
        .unwrap();
    let e = s.get_auction(a.id).await.unwrap_err();
    assert!(matches!(e, StorageError::Corrupt(_)), "{e:?}");
}

/// The migration that moved idempotency keys from HTTP answers to domain outcomes keeps
/// the answers stored before it.
#[sqlx::test(migrations = false)]
async fn stored_http_answers_become_outcomes(pool: PgPool) {
    let all = &gavel_storage::MIGRATOR;
    let cut = all
        .iter()
        .position(|m| m.description.contains("domain outcomes"))
        .expect("the outcomes migration");
    let mut conn = pool.acquire().await.unwrap();
    for m in all.iter().take(cut) {
        sqlx::raw_sql(&m.sql).execute(&mut *conn).await.unwrap();
    }
    sqlx::raw_sql(
        r#"INSERT INTO bidders (name, api_key_hash, webhook_secret) VALUES ('b', '\x01', 's');
           INSERT INTO auctions (title, kind, currency, reserve_price, min_increment, extend_secs,
                                 starts_at, ends_at)
           VALUES ('t', 'first_price', 'USD', 1, 0.01, 0, now(), now() + interval '1 hour');
           INSERT INTO idempotency_keys (bidder_id, key, request_hash, status, response) VALUES
           (1, 'ok', '\x00', 201, '{"id": 9, "auction_id": 1, "bidder_id": 1, "amount": "5.00",
                                   "is_winning": null, "created_at": "2026-11-22T10:00:00.123Z"}'),
           (1, 'low', '\x00', 409, '{"code": "bid_too_low", "min_amount": "2.05"}'),
           (1, 'shut', '\x00', 409, '{"code": "auction_not_open", "auction_status": "closing"}'),
           (1, 'gone', '\x00', 404, '{"code": "auction_not_found"}');"#,
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql(&all.iter().nth(cut).unwrap().sql)
        .execute(&mut *conn)
        .await
        .unwrap();
    let rows: Vec<(String, sqlx::types::Json<BidOutcome>)> =
        sqlx::query_as("SELECT key, outcome FROM idempotency_keys ORDER BY key")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let text: Vec<String> = rows
        .iter()
        .map(|(k, o)| format!("{k} {}", serde_json::to_string(&o.0).unwrap()))
        .collect();
    assert_eq!(
        text,
        [
            r#"gone {"refused":"unknown_auction"}"#,
            r#"low {"refused":{"too_low":{"min_amount":"2.05"}}}"#,
            r#"ok {"accepted":{"bid":{"id":9,"auction_id":1,"bidder_id":1,"amount":"5.00","created_at":"2026-11-22T10:00:00.123Z"},"kind":"first_price"}}"#,
            r#"shut {"refused":{"not_open":"closing"}}"#,
        ]
    );
    let _ = Money::ZERO;
}

/// A database a newer release migrated still serves this one, so an upgrade can be rolled
/// back to the previous binary.
#[sqlx::test(migrations = false)]
async fn a_database_migrated_by_a_newer_release_is_accepted(pool: PgPool) {
    let storage = gavel_storage::Storage::from_pool(pool.clone());
    storage.migrate().await.unwrap();
    sqlx::raw_sql(
        r#"INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
           VALUES (99991231000000, 'from the future', true, '\x00', 1)"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let again = gavel_storage::Storage::from_pool(pool);
    again.migrate().await.unwrap();
    again.ping().await.unwrap();
}
