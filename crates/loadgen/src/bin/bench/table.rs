//! The table of every run, as the bench prints it.

use serde_json::Value;

/// Every run, one line each.
pub fn print(lines: &[Value]) {
    println!();
    println!(
        "{:<16} {:<13} {:<6} {:>10} {:>10} {:>8} {:>6} {:>8} {:>8} {:>8} {:>9}",
        "label",
        "workload",
        "mode",
        "req/s",
        "decided/s",
        "success",
        "errors",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "max_ms"
    );
    for j in lines {
        let l = |k: &str| j["latency_ms"][k].to_string();
        println!(
            "{:<16} {:<13} {:<6} {:>10} {:>10} {:>8} {:>6} {:>8} {:>8} {:>8} {:>9}",
            j["label"].as_str().unwrap_or(""),
            j["workload"].as_str().unwrap_or(""),
            j["mode"].as_str().unwrap_or(""),
            j["requests_per_second"],
            j["decided_per_second"],
            j["success_rate"],
            j["error_count"],
            l("p50"),
            l("p99"),
            l("p999"),
            l("max")
        );
    }
    println!();
}
