//! `GET /metrics`, parsed by a Prometheus text-format parser, with counts
//! that match the requests sent exactly; linted by Prometheus's own
//! `promtool check metrics`; and in OpenMetrics to scrapers that ask for it.

mod common;

use common::{TestService, good_application_json};
use prometheus_parse::{Scrape, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn scrape(service: &TestService) -> Scrape {
    let response = service.request("GET", "/metrics", &[], b"");
    assert_eq!(response.status, 200);
    let text = String::from_utf8(response.body).expect("UTF-8");
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    Scrape::parse(lines).expect("the Prometheus text format")
}

/// The value of `name` with these labels.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == name
                && labels
                    .iter()
                    .all(|(key, expected)| sample.labels.get(key) == Some(*expected))
        })
        .and_then(|sample| match &sample.value {
            Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => Some(*value),
            Value::Histogram(_) | Value::Summary(_) => None,
        })
}

#[test]
fn the_metrics_count_exactly_what_was_sent() {
    let service = TestService::start();
    for _ in 0..5 {
        assert_eq!(service.predict(&good_application_json()).status, 200);
    }
    assert_eq!(service.predict("{").status, 400);
    let invalid = common::application_with("age_in_years", serde_json::Value::from(12));
    assert_eq!(service.predict(&invalid).status, 422);
    assert_eq!(service.request("GET", "/nowhere", &[], b"").status, 404);
    let scrape = scrape(&service);

    let model = [("model", "credit_risk_model"), ("version", "0.1.0")];
    let success = [model[0], model[1], ("status", "success")];
    let error = [model[0], model[1], ("status", "error")];
    assert_eq!(value(&scrape, "predictions_total", &success), Some(5.0));
    assert_eq!(
        value(&scrape, "predictions_total", &error),
        Some(1.0),
        "the out-of-range age"
    );
    assert_eq!(
        value(&scrape, "predictions_sampled_out_total", &model),
        Some(0.0)
    );
    let route = "/api/models/:model/prediction";
    let ok = [("route", route), ("method", "POST"), ("status", "200")];
    assert_eq!(value(&scrape, "http_requests_total", &ok), Some(5.0));
    let bad = [("route", route), ("method", "POST"), ("status", "400")];
    assert_eq!(value(&scrape, "http_requests_total", &bad), Some(1.0));
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert_eq!(value(&scrape, "http_requests_total", &unmatched), Some(1.0));

    // The duration histograms: one per logged prediction and per request.
    let histogram = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .find_map(|sample| match &sample.value {
                Value::Histogram(buckets)
                    if sample.metric == name
                        && labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v)) =>
                {
                    Some(buckets.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no histogram {name}"))
    };
    let predictions = histogram("prediction_duration_seconds", &model);
    let infinite = predictions
        .iter()
        .find(|bucket| bucket.less_than.is_infinite());
    assert_eq!(
        infinite.map(|bucket| bucket.count),
        Some(6.0),
        "five successes and one error"
    );
    assert!(
        predictions.iter().any(|bucket| bucket.less_than <= 1e-5),
        "microsecond buckets"
    );
    let requests = histogram(
        "http_request_duration_seconds",
        &[("route", route), ("method", "POST")],
    );
    assert_eq!(
        requests
            .iter()
            .find(|b| b.less_than.is_infinite())
            .map(|b| b.count),
        Some(7.0)
    );

    // The log's own counters (the records are written by the time of a
    // later scrape: the writer batches every millisecond).
    std::thread::sleep(std::time::Duration::from_millis(50));
    let later = scrape_after(&service);
    assert!(value(&later, "log_records_written_total", &[]).is_some_and(|written| written >= 12.0));
    assert_eq!(value(&later, "log_records_dropped_total", &[]), Some(0.0));
    assert_eq!(value(&later, "log_records_failed_total", &[]), Some(0.0));
}

fn scrape_after(service: &TestService) -> Scrape {
    scrape(service)
}

/// Prometheus's linter: `promtool` from the PATH, or else from Debian's
/// `prometheus` package, fetched once with `apt-get download` and unpacked
/// under the target directory (no root needed).
fn promtool() -> PathBuf {
    static FOUND: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FOUND.get_or_init(find_or_fetch_promtool).clone()
}

fn find_or_fetch_promtool() -> PathBuf {
    if Command::new("promtool").arg("--version").output().is_ok() {
        return PathBuf::from("promtool");
    }
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/metrics-tools");
    let program = tools.join("usr/bin/promtool");
    if program.exists() {
        return program;
    }
    std::fs::create_dir_all(&tools).expect("a tools directory");
    let downloaded = Command::new("apt-get")
        .args(["download", "prometheus"])
        .current_dir(&tools)
        .output()
        .expect(
            "promtool is not on the PATH, and fetching Debian's prometheus package needs apt-get",
        );
    assert!(
        downloaded.status.success(),
        "apt-get download prometheus failed (run apt-get update?): {}",
        String::from_utf8_lossy(&downloaded.stderr)
    );
    let package = std::fs::read_dir(&tools)
        .expect("the tools directory")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|extension| extension == "deb"))
        .expect("the downloaded package");
    let unpacked = Command::new("dpkg")
        .arg("-x")
        .arg(&package)
        .arg(&tools)
        .status()
        .expect("dpkg runs");
    assert!(unpacked.success(), "dpkg -x {} failed", package.display());
    program
}

/// `promtool check metrics` on `text`: its exit status and what it printed.
fn lint(text: &[u8]) -> (bool, String) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(text)
        .expect("promtool reads the metrics");
    let output = child.wait_with_output().expect("promtool finishes");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

#[test]
fn promtool_finds_nothing_to_lint_in_the_scrape() {
    let service = TestService::start();
    assert_eq!(service.predict(&good_application_json()).status, 200);
    assert_eq!(service.predict("{").status, 400);
    let response = service.request("GET", "/metrics", &[], b"");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let (clean, printed) = lint(&response.body);
    assert!(clean && printed.trim().is_empty(), "promtool: {printed}");

    // The linter can fail: the OpenMetrics text names a counter's family
    // without `_total`, which the classic format's linter reports.
    let openmetrics = service.request(
        "GET",
        "/metrics",
        &[("accept", "application/openmetrics-text; version=1.0.0")],
        b"",
    );
    let (clean, printed) = lint(&openmetrics.body);
    assert!(
        !clean && printed.contains("predictions_total"),
        "promtool: {printed}"
    );
}

#[test]
fn a_scraper_that_accepts_openmetrics_gets_the_same_samples_in_openmetrics() {
    let service = TestService::start();
    assert_eq!(service.predict(&good_application_json()).status, 200);
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let openmetrics = service.request("GET", "/metrics", &[("accept", accept)], b"");
    let text = service.request("GET", "/metrics", &[], b"");
    assert_eq!(
        openmetrics.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let openmetrics = String::from_utf8(openmetrics.body).expect("UTF-8");
    let text = String::from_utf8(text.body).expect("UTF-8");
    assert!(openmetrics.ends_with("# EOF\n"), "{openmetrics}");
    assert!(openmetrics.contains("# TYPE predictions counter\n"));
    assert!(text.contains("# TYPE predictions_total counter\n"));
    // The samples are the same, but for the HTTP counters and histograms
    // that the first scrape moved, and the records written, which the
    // writer thread may have moved in between.
    let samples = |exposition: &str| -> Vec<String> {
        exposition
            .lines()
            .filter(|line| {
                !line.starts_with('#')
                    && !line.starts_with("http_")
                    && !line.starts_with("log_records_written")
            })
            .map(str::to_owned)
            .collect()
    };
    assert!(!samples(&text).is_empty());
    assert_eq!(samples(&openmetrics), samples(&text));
}
