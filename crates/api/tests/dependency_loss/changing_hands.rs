//! The database changing hands: a server that cannot take writes now (read-only, shut down
//! by an admin, crashed and recovering) is answered `503 database_unavailable` with
//! `Retry-After`, never 500, and the connection that met it leaves the pool, so bids are
//! decided again as soon as the server can take them, without a restart.
//!
//! The pools here hold one connection: a connection that stayed in the pool would be the
//! one reused, and the recovery asserted would not happen.

use std::str::FromStr;
use std::time::{Duration, Instant};

use gavel_storage::{PoolSettings, Storage};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgPool};

use crate::common::{self, spawn_app_on, Options, PrivatePostgres, TestApp};
use gavel_devkit::until;

/// An app on `options`' database through the production pool (its failover hooks
/// included), with one connection.
async fn app_with_one_connection(options: PgConnectOptions) -> TestApp {
    let storage = Storage::connect_lazy(
        options,
        &PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(2),
        },
    );
    spawn_app_on(
        storage,
        Options {
            redis_url: None,
            ..Default::default()
        },
    )
    .await
}

/// Places a bid and returns its status, checking that a 503 is `database_unavailable`
/// with `Retry-After` and that nothing else but 201 comes back.
async fn bid_status(app: &TestApp, key: &str, auction: i64, amount: &str) -> StatusCode {
    let r = app.bid(key, auction, json!(amount)).await;
    let retry_after = r.headers().get("retry-after").cloned();
    let (status, v) = common::status_json(r).await;
    match status {
        StatusCode::CREATED => {}
        StatusCode::SERVICE_UNAVAILABLE => {
            assert_eq!(v["code"], "database_unavailable", "{v}");
            assert!(retry_after.is_some(), "503 without Retry-After: {v}");
        }
        other => panic!("bid answered {other}: {v}"),
    }
    status
}

/// Ends every session on the app's database but the caller's (as an admin or a
/// switchover would): the next statement on them fails with 57P01 or a broken socket.
async fn terminate_others(pool: &PgPool) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(pool)
    .await
    .unwrap();
}

async fn set_read_only(pool: &PgPool, on: bool) {
    let mut conn = pool.acquire().await.unwrap();
    // This session may itself have opened read-only.
    sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        .execute(&mut *conn)
        .await
        .unwrap();
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let sql = if on {
        format!("ALTER DATABASE \"{db}\" SET default_transaction_read_only = on")
    } else {
        format!("ALTER DATABASE \"{db}\" RESET default_transaction_read_only")
    };
    sqlx::query(&sql).execute(&mut *conn).await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_session_ended_by_an_admin_is_503_then_the_next_bid_is_decided(pool: PgPool) {
    let app = app_with_one_connection((*pool.connect_options()).clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    assert_eq!(bid_status(&app, &key, id, "5").await, StatusCode::CREATED);

    terminate_others(&pool).await; // 57P01 admin_shutdown
                                   // The first statement on the ended session fails; never with a 500.
    bid_status(&app, &key, id, "6").await;
    assert_eq!(bid_status(&app, &key, id, "7").await, StatusCode::CREATED);
    app.stop().await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_read_only_server_is_503_and_its_connection_is_not_reused(pool: PgPool) {
    let app = app_with_one_connection((*pool.connect_options()).clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    assert_eq!(bid_status(&app, &key, id, "5").await, StatusCode::CREATED);

    // As a demoted primary or a standby answers: sessions opened now are read-only.
    set_read_only(&pool, true).await;
    terminate_others(&pool).await;
    bid_status(&app, &key, id, "6").await; // the ended session
    for amount in ["6", "7", "8"] {
        // 25006 read_only_sql_transaction on a fresh, read-only session each time.
        assert_eq!(
            bid_status(&app, &key, id, amount).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    // Reads still work on a read-only server.
    let r = app.get(&format!("/api/auctions/{id}"), Some(&key)).await;
    assert_eq!(r.status(), StatusCode::OK);

    // The server takes writes again. Had the read-only session gone back to the pool (of
    // one), every bid would still fail. One opened meanwhile (by a background worker's
    // read) may fail once more, and is dropped then: the next bid is decided.
    set_read_only(&pool, false).await;
    if bid_status(&app, &key, id, "9").await != StatusCode::CREATED {
        assert_eq!(bid_status(&app, &key, id, "9").await, StatusCode::CREATED);
    }
    let (_, v) =
        common::status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(v["bid_count"], 2, "{v}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_crashed_server_is_503_while_it_recovers_then_bids_are_decided() {
    let pg = PrivatePostgres::start();
    let app = app_with_one_connection(PgConnectOptions::from_str(&pg.url()).unwrap()).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    assert_eq!(bid_status(&app, &key, id, "5").await, StatusCode::CREATED);

    // SIGKILL of any backend makes the postmaster end every session (57P02 crash
    // shutdown) and replay the WAL, refusing connections meanwhile (57P03).
    let mut other = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    let victim: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut other)
        .await
        .unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let started = Instant::now();
    let mut amount = 6;
    loop {
        let status = bid_status(&app, &key, id, &amount.to_string()).await;
        if status == StatusCode::CREATED {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no bid decided 30 s after the crash"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        amount += 1;
    }
    // Nothing acknowledged was lost in the crash.
    until(Duration::from_secs(5), "the auction read back", || async {
        let (s, v) =
            common::status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
        s == StatusCode::OK && v["bid_count"] == 2
    })
    .await;
    app.stop().await.unwrap();
}
