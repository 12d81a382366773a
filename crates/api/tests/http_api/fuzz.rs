//! schemathesis against the served OpenAPI document, with the admin token and with a
//! bidder key: no 5xx, and every answer matches the document (status, body schema,
//! content type, headers). Bounded: a few dozen cases per operation.

use std::process::Command;

use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, ADMIN_TOKEN};

/// The schemathesis binary `scripts/test.sh` installed.
fn schemathesis() -> String {
    std::env::var("GAVEL_SCHEMATHESIS")
        .expect("GAVEL_SCHEMATHESIS is not set: run the tests through scripts/test.sh")
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_served_document_holds_under_fuzzing(pool: PgPool) {
    let bin = schemathesis();
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("fuzz").await;
    app.create_auction(json!({})).await;
    let schema = format!("{}/openapi.json", app.url);
    for (who, token) in [("admin", ADMIN_TOKEN.to_string()), ("bidder", key)] {
        let (bin, schema, header) = (
            bin.clone(),
            schema.clone(),
            format!("Authorization: Bearer {token}"),
        );
        // Blocking: schemathesis talks to the server this test's runtime serves.
        let out = tokio::task::spawn_blocking(move || {
            Command::new(bin)
                .arg("--config-file")
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/http_api/schemathesis.toml"
                ))
                .args(["run", &schema, "-H", &header])
                .args(["--checks", "all"])
                // Rules across fields (ends_at after starts_at…) are beyond JSON Schema:
                // a schema-valid body may still be refused, and that is no violation.
                .args(["--exclude-checks", "positive_data_acceptance"])
                .args(["--max-examples", "40", "--request-timeout", "5"])
                .args(["--continue-on-failure", "--no-color"])
                // Its caches go to a scratch folder, not the working tree.
                .args(["--generation-database", "none"])
                .current_dir(std::env::temp_dir())
                .output()
                .expect("schemathesis could not start")
        })
        .await
        .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis as {who} found problems:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
