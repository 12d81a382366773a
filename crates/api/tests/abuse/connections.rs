//! Connections: slow or idle clients are cut off, the instance caps how many it holds, and
//! none of them holds up shutdown.

use std::time::{Duration, Instant};

use gavel_api::boot::connections::ConnectionLimits;
use gavel_api::HttpOptions;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{counted, spawn_app_with, Options, TestApp};

fn limited(header_timeout: Duration, max: usize) -> Options {
    Options {
        http: HttpOptions {
            connections: ConnectionLimits {
                header_timeout,
                max,
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// How long until the server closes `conn` (reads whatever it sends until EOF).
async fn closed_within(conn: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn half_sent_headers_and_idle_connections_are_closed(pool: PgPool) {
    let app = spawn_app_with(pool, limited(Duration::from_secs(1), 100)).await;
    let mut half = connect(&app).await;
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = connect(&app).await;
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    for (what, conn) in [
        ("half", &mut half),
        ("silent", &mut silent),
        ("idle", &mut idle),
    ] {
        let t = closed_within(conn, Duration::from_secs(5)).await;
        assert!(t.is_some(), "{what} connection still open after 5 s");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_head_sent_a_byte_at_a_time_is_cut_off_at_its_deadline(pool: PgPool) {
    let app = spawn_app_with(pool, limited(Duration::from_secs(1), 100)).await;
    let mut conn = connect(&app).await;
    let started = Instant::now();
    // A byte every 200 ms: each arrives well within the limit, the whole head never does.
    for b in b"GET /health HTTP/1.1\r\nHost: x\r\n"
        .iter()
        .cycle()
        .take(40)
    {
        if conn.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(1), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            _ => {}
        }
    }
    let t = started.elapsed();
    assert!(
        t >= Duration::from_millis(900) && t < Duration::from_millis(2_500),
        "closed after {t:?}, not at the 1 s deadline"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_request_head_gets_the_whole_deadline(pool: PgPool) {
    let app = spawn_app_with(pool, limited(Duration::from_secs(1), 100)).await;
    let mut conn = connect(&app).await;
    // Six requests 400 ms apart on one connection: 2.4 s in all, each head on time.
    for i in 0..6 {
        conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).await.unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "request {i} was not answered"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // Then idle: closed at the deadline.
    let t = closed_within(&mut conn, Duration::from_secs(3)).await;
    assert!(t.is_some(), "an idle connection stayed open");
}

#[sqlx::test(migrations = "../../migrations")]
async fn connections_past_the_cap_are_closed_at_once(pool: PgPool) {
    let app = spawn_app_with(pool, limited(Duration::from_secs(30), 3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = connect(&app).await;
    let _ = extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let t = closed_within(&mut extra, Duration::from_secs(2)).await;
    assert!(t.is_some(), "a connection past the cap was served");
    // A place comes back when a held connection goes.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = app.get("/health", None).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}

#[sqlx::test(migrations = "../../migrations")]
async fn slow_and_idle_clients_do_not_hold_up_shutdown(pool: PgPool) {
    let mut opts = limited(Duration::from_secs(60), 1000);
    opts.grace = Duration::from_secs(3);
    let app = spawn_app_with(pool, opts).await;
    let mut conns = Vec::new();
    for i in 0..50 {
        let mut c = connect(&app).await;
        if i % 2 == 0 {
            c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        conns.push(c);
    }
    let started = Instant::now();
    app.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn heads_hyper_refuses_are_counted(pool: PgPool) {
    let app = spawn_app_with(pool, Options::default()).await;
    let many_headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let long_uri = format!("/{}", "a".repeat(70_000));
    for (raw, want) in [
        ("GARBAGE\r\n\r\n".to_string(), "400"),
        (
            format!("GET /health HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n"),
            "431",
        ),
        (format!("GET {long_uri} HTTP/1.1\r\nHost: x\r\n\r\n"), "414"),
    ] {
        let mut c = connect(&app).await;
        c.write_all(raw.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {want}")),
            "{want}: {text}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = app.get("/metrics", None).await.text().await.unwrap();
        if ["400", "414", "431"]
            .iter()
            .all(|s| counted(&text, "unmatched", s))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "refused heads not counted: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
