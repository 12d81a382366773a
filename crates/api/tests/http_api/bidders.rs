//! Creating and listing bidders: secrets shown once, only a hash stored.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, status_json, ADMIN_TOKEN};

#[sqlx::test(migrations = "../../migrations")]
async fn bidders_show_secrets_once_and_store_only_a_hash(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let r = app
        .post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "Seat 1", "webhook_url": "https://dsp.example/win"}),
        )
        .await;
    let (s, created) = status_json(r).await;
    assert_eq!(s, StatusCode::CREATED);
    let key = created["api_key"].as_str().unwrap();
    let secret = created["webhook_secret"].as_str().unwrap();
    assert_eq!(created["webhook_url"], "https://dsp.example/win");
    let (s, list) = status_json(app.get("/api/bidders", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(s, StatusCode::OK);
    let text = list.to_string();
    assert!(!text.contains(key) && !text.contains(secret) && !text.contains("api_key"));
    assert_eq!(list["items"][0]["name"], "Seat 1");
    // the database holds no plaintext key
    let stored: Vec<u8> = sqlx::query_scalar("SELECT api_key_hash FROM bidders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(key));
    // invalid input
    let (s, v) = status_json(
        app.post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "", "webhook_url": "ftp://x"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["code"], "validation_failed");
    let fields: Vec<_> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name", "webhook_url"]);
}
