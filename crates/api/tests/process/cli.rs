//! Start-up settings refused with one line, and the `migrate`, `bidder create` and
//! `healthcheck` sub-commands.

use serde_json::Value;
use sqlx::PgPool;

use crate::common::ADMIN_TOKEN;
use crate::{database_url, gavel};

fn one_line_error(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn missing_database_url_stops_start_up_with_one_line() {
    let out = gavel()
        .env("GAVEL_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("DATABASE_URL"));
}

#[test]
fn short_admin_token_stops_start_up_with_one_line() {
    let out = gavel()
        .env("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/db")
        .env("GAVEL_ADMIN_TOKEN", "too-short")
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("GAVEL_ADMIN_TOKEN"), "{err}");
    assert!(!err.contains("hunter2"));
}

#[test]
fn bad_port_stops_start_up_with_one_line() {
    let out = gavel()
        .env("DATABASE_URL", "postgres://u@127.0.0.1/db")
        .env("GAVEL_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert!(one_line_error(&out).to_lowercase().contains("port"));
}

#[sqlx::test(migrations = false)]
async fn migrate_and_bidder_create_commands(pool: PgPool) {
    let url = database_url(&pool);
    let out = gavel()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = gavel()
        .args([
            "bidder",
            "create",
            "--name",
            "Seat 9",
            "--webhook-url",
            "https://dsp.example/w",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["api_key"].as_str().unwrap().starts_with("gvl_"));
    assert!(v["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
    let name: String = sqlx::query_scalar("SELECT name FROM bidders WHERE id = $1")
        .bind(v["id"].as_i64().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Seat 9");
    // Keys and status, for ops without HTTP access; audit lines on stderr, no secrets.
    let id = v["id"].as_i64().unwrap().to_string();
    let run = |args: &[&str]| {
        let out = gavel()
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {err}");
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), err)
    };
    let (key, err) = run(&[
        "bidder",
        "key",
        "create",
        "--id",
        &id,
        "--expire-others-in-secs",
        "60",
    ]);
    let new_key = key["api_key"].as_str().unwrap();
    assert!(
        new_key.starts_with("gvl_") && key["key_id"].is_number(),
        "{key}"
    );
    assert!(
        err.contains("bidder.key_created") && !err.contains(new_key),
        "{err}"
    );
    let key_id = key["key_id"].to_string();
    let (revoked, err) = run(&["bidder", "key", "revoke", "--id", &id, "--key-id", &key_id]);
    assert_eq!(revoked["revoked"], true);
    assert!(err.contains("bidder.key_revoked"), "{err}");
    let (off, _) = run(&["bidder", "disable", "--id", &id]);
    assert_eq!(off["status"], "disabled");
    let (on, _) = run(&["bidder", "enable", "--id", &id]);
    assert_eq!(on["status"], "active");
    let out = gavel()
        .args(["bidder", "key", "revoke", "--id", &id, "--key-id", &key_id])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        one_line_error(&out).contains("no such bidder"),
        "revoked already"
    );
    let out = gavel()
        .args(["bidder", "create", "--name", " "])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("--name"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn healthcheck_says_whether_the_local_server_answers(pool: PgPool) {
    let app = crate::common::spawn_app(pool).await;
    let check = |port: u16| {
        let started = std::time::Instant::now();
        let out = gavel()
            .arg("healthcheck")
            .env("PORT", port.to_string())
            .env("GAVEL_BIND", "127.0.0.1")
            .output()
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        out
    };
    let port = app.addr.port();
    let up = tokio::task::spawn_blocking(move || check(port))
        .await
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let nobody = crate::common::free_port();
    let down = tokio::task::spawn_blocking(move || check(nobody))
        .await
        .unwrap();
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).starts_with("gavel: "));
}

#[test]
fn sub_commands_show_and_read_only_what_they_use() {
    let help = |args: &[&str]| {
        let out = gavel().args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let bidder = help(&["bidder", "create"]);
    for flag in ["--name", "--webhook-url", "--database-url"] {
        assert!(bidder.contains(flag), "{flag} missing: {bidder}");
    }
    for flag in [
        "--port",
        "--admin-token",
        "--max-inflight",
        "--metrics-token",
    ] {
        assert!(!bidder.contains(flag), "{flag} shown: {bidder}");
    }
    let migrate = help(&["migrate"]);
    assert!(
        migrate.contains("--database-url") && !migrate.contains("--port"),
        "{migrate}"
    );
    let healthcheck = help(&["healthcheck"]);
    assert!(healthcheck.contains("--port") && !healthcheck.contains("--database-url"));
    let serve = help(&["serve"]);
    assert!(serve.contains("--admin-token") && serve.contains("--max-inflight"));
    let top = help(&[]);
    assert!(
        top.contains("healthcheck") && top.contains("bidder"),
        "{top}"
    );
    // A server setting in the environment does not trouble a command that ignores it.
    let out = gavel()
        .arg("migrate")
        .env("PORT", "eighty")
        .env("GAVEL_MAX_INFLIGHT", "lots")
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("DATABASE_URL"), "{err}");
}
