//! The OpenAPI document is generated from the code: it lists exactly the routes served,
//! every example in it fits its schema, and it is served as built.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::spawn_app;

/// The routes of the contract (shared/API.md), as method and path template.
const CONTRACT: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("POST", "/api/bidders"),
    ("GET", "/api/bidders"),
    ("GET", "/api/bidders/{id}"),
    ("PATCH", "/api/bidders/{id}"),
    ("POST", "/api/bidders/{id}/keys"),
    ("DELETE", "/api/bidders/{id}/keys/{key_id}"),
    ("POST", "/api/auctions"),
    ("GET", "/api/auctions"),
    ("GET", "/api/auctions/{id}"),
    ("POST", "/api/auctions/{id}/cancel"),
    ("GET", "/api/auctions/{id}/bids"),
    ("GET", "/api/auctions/{id}/events"),
    ("POST", "/api/bids"),
    ("GET", "/api/bids/{auction_id}"),
    ("GET", "/admin"),
    ("GET", "/admin/app.js"),
    ("GET", "/admin/js/{module}"),
    ("GET", "/admin/app.css"),
    // Beyond the contract, which is silent on it: the console shows an auction's win and
    // loss notices with their delivery state, which no contract route gives.
    ("GET", "/api/auctions/{id}/notices"),
];

/// Methods probed on every documented path (HEAD and OPTIONS are answered for any GET
/// route and by CORS, and are not operations of their own).
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn document() -> Value {
    gavel_api::http::openapi_document()
}

/// Every operation of the document, as method and path.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

#[test]
fn the_document_is_openapi_3_1_with_unique_operation_ids() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"]
                .as_str()
                .expect("every operation has an id");
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
        }
    }
}

#[test]
fn the_document_lists_every_route_of_the_contract_and_no_other() {
    let documented = operations(&document());
    let contract: BTreeSet<(String, String)> = CONTRACT
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = contract.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&contract).collect();
    assert!(undocumented.is_empty(), "undocumented: {undocumented:?}");
    assert!(unknown.is_empty(), "not in the contract: {unknown:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn documented_operations_are_routed_and_no_others(pool: PgPool) {
    let app = spawn_app(pool).await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/json",
        "served as JSON"
    );
    let served: Value = r.json().await.unwrap();
    assert_eq!(served, document(), "the served document is the one built");

    let documented = operations(&served);
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        // No auction exists, so the events route answers at once instead of streaming.
        let concrete = path
            .replace("{id}", "1")
            .replace("{auction_id}", "1")
            .replace("{module}", "api.js");
        for method in METHODS {
            let r = app
                .client
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{}{concrete}", app.url),
                )
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if documented.contains(&(method.to_string(), path.clone())) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_ne!(body["code"], "not_found", "{method} {path} is not routed");
            } else {
                assert_eq!(
                    (status, &body["code"]),
                    (StatusCode::METHOD_NOT_ALLOWED, &json!("method_not_allowed")),
                    "{method} {path} is routed but undocumented"
                );
            }
        }
    }
}

/// Why `instance` does not fit `schema`, whose `$ref`s point into the document's
/// components (Draft 2020-12, formats asserted).
fn violations(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    // The schema becomes the root of a document that also holds the components, so
    // `#/components/schemas/...` resolves as it does in the OpenAPI document.
    let mut root = schema.clone();
    if let Value::Object(o) = &mut root {
        o.insert("components".into(), doc["components"].clone());
    }
    let validator = match jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
    {
        Ok(v) => v,
        Err(e) => return vec![format!("the schema does not compile: {e}")],
    };
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn check(doc: &Value, schema: &Value, instance: &Value, at: &str) {
    let errors = violations(doc, schema, instance);
    assert!(
        errors.is_empty(),
        "{at}: the example does not fit its schema: {errors:?}\n{instance:#}"
    );
}

/// Every example next to a schema in `node` (media types, parameters, schemas), by where
/// it is.
fn examples<'a>(node: &'a Value, at: String, found: &mut Vec<(String, &'a Value, &'a Value)>) {
    match node {
        Value::Object(o) => {
            if let Some(schema) = o.get("schema") {
                if let Some(example) = o.get("example") {
                    found.push((format!("{at}/example"), schema, example));
                }
                for (name, example) in o
                    .get("examples")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    found.push((format!("{at}/examples/{name}"), schema, &example["value"]));
                }
            }
            for (key, child) in o {
                examples(child, format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                examples(child, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_example_fits_its_schema() {
    let doc = document();
    let mut found = Vec::new();
    examples(&doc["paths"], "#/paths".into(), &mut found);
    examples(
        &doc["components"]["responses"],
        "#/components/responses".into(),
        &mut found,
    );
    assert!(
        found.len() > 40,
        "request, response and error examples: {}",
        found.len()
    );
    for (at, schema, example) in &found {
        check(&doc, schema, example, at);
    }
    // Schemas' own examples (an amount, an id…).
    let mut schema_examples = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for example in schema["examples"].as_array().into_iter().flatten() {
            check(
                &doc,
                schema,
                example,
                &format!("#/components/schemas/{name}"),
            );
            schema_examples += 1;
        }
    }
    assert!(schema_examples > 0);
}

#[test]
fn the_example_check_catches_wrong_examples() {
    let doc = document();
    let bid = json!({"$ref": "#/components/schemas/Bid"});
    let good = json!({"id": 1, "auction_id": 1, "bidder_id": 1, "amount": "1.00",
        "is_winning": null, "created_at": "2026-11-22T10:00:00.000Z"});
    assert_eq!(violations(&doc, &bid, &good), Vec::<String>::new());
    for (field, bad) in [
        ("amount", json!("1.5")),
        ("amount", json!(1.5)),
        ("created_at", json!("yesterday")),
        ("id", json!(0)),
    ] {
        let mut wrong = good.clone();
        wrong[field] = bad;
        assert!(!violations(&doc, &bid, &wrong).is_empty(), "{wrong}");
    }
    let problem = &doc["paths"]["/api/bids"]["post"]["responses"]["409"]["content"]
        ["application/problem+json"]["schema"];
    let mut too_low = json!({"type": "about:blank", "title": "Bid too low", "status": 409,
        "code": "bid_too_low", "detail": "…", "min_amount": null});
    assert_eq!(violations(&doc, problem, &too_low), Vec::<String>::new());
    too_low.as_object_mut().unwrap().remove("min_amount");
    assert!(!violations(&doc, problem, &too_low).is_empty());
}
