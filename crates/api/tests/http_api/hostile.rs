//! What hostile clients tried: bytes PostgreSQL cannot store, bodies of the wrong shape,
//! oversized request ids, made-up methods. Each gets a clear answer and costs nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{counted, spawn_app, status_json, ADMIN_TOKEN};

/// The field errors of a `422`.
fn fields(v: &Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn nul_characters_are_field_errors_not_500s(pool: PgPool) {
    let app = spawn_app(pool).await;
    let nul = "a\u{0}b";
    for (path, body, field) in [
        ("/api/bidders", json!({"name": nul}), "name"),
        (
            "/api/bidders",
            json!({"name": "ok", "webhook_url": format!("https://example.com/{nul}")}),
            "webhook_url",
        ),
        (
            "/api/auctions",
            json!({"title": nul, "ends_at": "2099-01-01T00:00:00Z"}),
            "title",
        ),
    ] {
        let (s, v) = status_json(app.post(path, Some(ADMIN_TOKEN), &body).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
        assert_eq!(fields(&v)[0].0, field, "{v}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn bodies_must_be_objects_and_errors_speak_the_contract(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    for body in [json!([id, "2000", null]), json!(5), json!(null), json!("x")] {
        let (s, v) = status_json(app.post("/api/bids", Some(&key), &body).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(
            fields(&v),
            [("body".into(), "must be a JSON object".into())]
        );
    }
    let (_, v) = status_json(
        app.post(
            "/api/bids",
            Some(&key),
            &json!({"auction_id": "x", "amount": "1"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        fields(&v),
        [("auction_id".into(), "must be an integer".into())]
    );
    let (s, v) = status_json(app.get("/api/auctions?limit=abc", Some(&key)).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&v), [("limit".into(), "must be an integer".into())]);
    for text in [v.to_string()] {
        for internal in ["i64", "struct", "PlaceBid", "query"] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn request_ids_are_capped(pool: PgPool) {
    let app = spawn_app(pool).await;
    let send = |id: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .get(format!("{}/health", app.url))
                .header("x-request-id", id)
                .send()
                .await
                .unwrap();
            r.headers()["x-request-id"].to_str().unwrap().to_string()
        }
    };
    let fits = "r".repeat(128);
    assert_eq!(send(fits.clone()).await, fits);
    let long = "r".repeat(7_000);
    let given = send(long).await;
    assert!(given.len() <= 128 && !given.starts_with("rrrr"), "{given}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn metrics_labels_stay_bounded_and_count_every_answer(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..20 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        app.client
            .request(method, format!("{}/api/auctions", app.url))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        app.get("/no/such/route", None).await.status(),
        StatusCode::NOT_FOUND
    );
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(!text.contains("MADEUP"), "made-up methods became labels");
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(
        counted(&text, "/api/auctions", "405"),
        "a method a route does not serve is not counted under the route:\n{text}"
    );
    assert!(
        counted(&text, "unmatched", "404"),
        "404 fallbacks are not counted"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_canonical_ids_name_an_auction(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    let (s, _) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(s, StatusCode::OK);
    for bad in [format!("+{id}"), format!("0{id}"), "abc".into(), "0".into()] {
        for path in [
            format!("/api/auctions/{bad}"),
            format!("/api/auctions/{bad}/bids"),
            format!("/api/bids/{bad}"),
        ] {
            let (s, v) = status_json(app.get(&path, Some(&key)).await).await;
            assert_eq!(
                (s, v["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("auction_not_found")),
                "{path}"
            );
        }
    }
}
