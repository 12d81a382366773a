//! The report's figures as a small human table (for stderr).

use serde_json::Value;

/// The same figures as a small human table.
pub fn render(report: &Value) -> String {
    let lat = &report["latency_ms"];
    let rate = match report["rate"].as_f64() {
        Some(r) => format!("open loop at {r}/s"),
        None => format!("closed loop, {} connections", report["connections"]),
    };
    let mut out = format!(
        "── {} ({}, {rate}) ──\n",
        report["label"].as_str().unwrap_or(""),
        report["workload"].as_str().unwrap_or("")
    );
    let rows = [
        ("requests", report["total_requests"].to_string()),
        ("duration ms", report["duration_ms"].to_string()),
        ("requests/s", report["requests_per_second"].to_string()),
        ("decided/s", report["decided_per_second"].to_string()),
        ("accepted share", report["accepted_share"].to_string()),
        ("success rate", report["success_rate"].to_string()),
        ("errors", report["error_count"].to_string()),
        ("statuses", report["status"].to_string()),
        (
            "latency ms",
            format!(
                "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                lat["p50"], lat["p90"], lat["p99"], lat["p999"], lat["max"]
            ),
        ),
    ];
    for (k, v) in rows {
        out.push_str(&format!("  {k:<15} {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rate_or_connections_and_the_percentiles() {
        let v = serde_json::json!({"label": "l", "workload": "get", "rate": null,
            "connections": 8, "latency_ms": {"p50": 1.5, "p99": 2.5}});
        let t = render(&v);
        assert!(t.contains("closed loop, 8 connections"), "{t}");
        assert!(t.contains("p99 2.5"), "{t}");
        let v = serde_json::json!({"rate": 100.0});
        assert!(render(&v).contains("open loop at 100/s"));
    }
}
