//! The OpenAPI document matches the routes served.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::common::spawn_app;

#[sqlx::test(migrations = "../../migrations")]
async fn openapi_document_describes_served_routes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/api/bidders",
        "/api/auctions",
        "/api/auctions/{id}",
        "/api/auctions/{id}/cancel",
        "/api/auctions/{id}/bids",
        "/api/auctions/{id}/events",
        "/api/bids",
        "/api/bids/{auction_id}",
    ] {
        assert!(paths.contains_key(expected), "{expected} undocumented");
    }
    // Every documented operation is routed: no 404 not_found, no 405.
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "1").replace("{auction_id}", "1");
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(m, format!("{}{concrete}", app.url))
                .send()
                .await
                .unwrap();
            assert_ne!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert_ne!(v["code"], "not_found", "{method} {path}");
        }
    }
}
