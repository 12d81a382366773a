//! Problem documents for bad bodies, unknown routes and methods, and internal errors.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, status_json};

#[sqlx::test(migrations = "../../migrations")]
async fn body_errors_have_their_codes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let send = |ct: Option<&'static str>, body: Vec<u8>| {
        let mut r = app
            .client
            .post(format!("{}/api/bids", app.url))
            .bearer_auth(&key)
            .body(body);
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        r.send()
    };
    let (s, v) = status_json(send(None, b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (s, _) = status_json(send(Some("text/plain"), b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, v) = status_json(
        send(Some("application/json"), b"{\"auction_id\": 1,".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, v) = status_json(
        send(Some("application/json"), b"[]".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, v) = status_json(
        send(Some("application/json"), b"{\"amount\": \"1\"}".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "auction_id");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024));
    let (s, v) = status_json(
        send(Some("application/json"), big.into_bytes())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_routes_and_methods_are_problems(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (s, v) = status_json(app.get("/nope", None).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = app
        .client
        .delete(format!("{}/api/bids", app.url))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn internal_errors_leak_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    // Fault injection: the bids table vanishes under the running service.
    sqlx::query("DROP TABLE bids CASCADE")
        .execute(&pool)
        .await
        .unwrap();
    let r = app
        .get(&format!("/api/auctions/{}/bids", a["id"]), Some(&key))
        .await;
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal"))
    );
    let text = v.to_string().to_lowercase();
    for leak in ["relation", "bids", "sql", "postgres", "does not exist"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
}

/// A body past 64 KiB is `413` also when it comes in chunks, with no length announced, and
/// on the route that takes any body (a new key's).
#[sqlx::test(migrations = "../../migrations")]
async fn bodies_past_the_limit_are_refused_however_sent(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app(pool).await;
    let (bidder, key) = app.create_bidder("b").await;
    let mut req = format!(
        "POST /api/bids HTTP/1.1\r\nhost: gavel\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let chunk = "x".repeat(8 * 1024);
    for _ in 0..10 {
        req += &format!("{:x}\r\n{chunk}\r\n", chunk.len());
    }
    req += "0\r\n\r\n";
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // The answer may come, and the connection close, before all of it is written.
    let _ = conn.write_all(req.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");

    let r = app
        .client
        .post(format!("{}/api/bidders/{bidder}/keys", app.url))
        .bearer_auth(crate::common::ADMIN_TOKEN)
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
}
