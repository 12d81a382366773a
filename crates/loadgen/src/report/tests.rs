//! Tests of the report's counts, percentiles and field names.

use super::*;

fn info(workload: Workload, rate: Option<f64>) -> RunInfo {
    RunInfo {
        label: "t".into(),
        workload,
        connections: 8,
        rate,
        duration: Duration::from_secs(2),
        max_send_lag: rate.map(|_| Duration::from_micros(1500)),
    }
}

#[test]
fn json_has_the_contracted_fields() {
    let v = summarize(&info(Workload::Get, None), &Recorder::default());
    for f in [
        "label",
        "workload",
        "mode",
        "connections",
        "rate",
        "total_requests",
        "duration_ms",
        "requests_per_second",
        "decided_per_second",
        "success_count",
        "error_count",
        "success_rate",
        "status",
        "latency_ms",
    ] {
        assert!(v.get(f).is_some(), "missing {f}");
    }
    for f in ["p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_ms"].get(f).is_some(), "missing latency_ms.{f}");
    }
    assert_eq!(v["mode"], "closed");
    assert!(v["rate"].is_null());
    assert!(v["max_send_lag_ms"].is_null());
    assert_eq!(v["total_requests"], 0);
    assert_eq!(v["success_rate"].as_f64(), Some(0.0));
}

#[test]
fn bids_count_201_and_409_as_decided_and_the_rest_as_errors() {
    let mut a = Recorder::default();
    let mut b = Recorder::default();
    let ms = Duration::from_millis;
    for _ in 0..6 {
        a.record(Some(201), ms(1));
    }
    for _ in 0..3 {
        b.record(Some(409), ms(2));
    }
    b.record(Some(503), ms(3));
    b.record(None, ms(100));
    b.record(Some(401), ms(1));
    a.merge(&b);
    let v = summarize(&info(Workload::Bids, Some(50.0)), &a);
    assert_eq!(v["mode"], "open");
    assert_eq!(v["rate"].as_f64(), Some(50.0));
    assert_eq!(v["max_send_lag_ms"].as_f64(), Some(1.5));
    assert_eq!(v["total_requests"], 12);
    assert_eq!(v["decided_count"], 9);
    assert_eq!(v["decided_per_second"].as_f64(), Some(4.5));
    assert_eq!(v["requests_per_second"].as_f64(), Some(6.0));
    assert_eq!(v["success_count"], 6);
    assert_eq!(v["error_count"], 3, "503, transport error and 401");
    assert_eq!(v["success_rate"].as_f64(), Some(0.5));
    assert_eq!(v["accepted_share"].as_f64(), Some(0.6667));
    assert_eq!(v["status"]["201"], 6);
    assert_eq!(v["status"]["409"], 3);
    assert_eq!(v["status"]["error"], 1);
    assert_eq!(v["duration_ms"], 2000);
}

#[test]
fn unsent_requests_are_errors_not_throughput() {
    let mut r = Recorder::default();
    r.record(Some(200), Duration::from_millis(1));
    r.record_unsent(Duration::from_millis(900));
    let v = summarize(&info(Workload::Get, Some(1.0)), &r);
    assert_eq!(v["total_requests"], 2);
    assert_eq!(v["requests_per_second"].as_f64(), Some(0.5));
    assert_eq!(v["error_count"], 1);
    assert_eq!(v["status"]["unsent"], 1);
    assert_eq!(v["success_rate"].as_f64(), Some(0.5));
    assert!(v["latency_ms"]["max"].as_f64().unwrap() >= 899.0);
}

#[test]
fn reads_count_2xx_as_decided() {
    let mut r = Recorder::default();
    r.record(Some(200), Duration::from_millis(1));
    r.record(Some(409), Duration::from_millis(1));
    let v = summarize(&info(Workload::List, None), &r);
    assert_eq!(v["decided_count"], 1);
    assert_eq!(v["error_count"], 1);
    assert!(v["accepted_share"].is_null());
    assert!(v["status"].get("error").is_none());
}

#[test]
fn percentiles_come_from_the_histogram_in_ms() {
    let mut r = Recorder::default();
    for us in 1..=1000u64 {
        r.record(Some(200), Duration::from_micros(us * 10));
    }
    let v = summarize(&info(Workload::Get, None), &r);
    let p = |k: &str| v["latency_ms"][k].as_f64().unwrap();
    assert!((p("p50") - 5.0).abs() < 0.01, "{}", p("p50"));
    assert!((p("p99") - 9.9).abs() < 0.01, "{}", p("p99"));
    assert!((p("max") - 10.0).abs() < 0.01, "{}", p("max"));
    assert!(p("p50") <= p("p90") && p("p90") <= p("p99") && p("p99") <= p("p999"));
}

#[test]
fn huge_latencies_saturate_instead_of_failing() {
    let mut r = Recorder::default();
    r.record(Some(200), Duration::from_secs(3600));
    assert_eq!(r.total(), 1);
    let v = summarize(&info(Workload::Get, None), &r);
    assert!(v["latency_ms"]["max"].as_f64().unwrap() >= 59_000.0);
}
