//! `GET /metrics`, parsed by a Prometheus text-format parser, with counts
//! that match the requests sent exactly; linted by Prometheus's own
//! `promtool check metrics`; and in OpenMetrics to scrapers that ask for it.

mod common;

use common::{TestService, good_application_json};
use prometheus_parse::{Scrape, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn scrape_metrics(service: &TestService) -> Scrape {
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
    let scrape = scrape_metrics(&service);

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
    let later = scrape_metrics(&service);
    assert!(value(&later, "log_records_written_total", &[]).is_some_and(|written| written >= 12.0));
    assert_eq!(value(&later, "log_records_dropped_total", &[]), Some(0.0));
    assert_eq!(value(&later, "log_records_failed_total", &[]), Some(0.0));
}

/// A program of Prometheus's (`promtool`, `prometheus`): from the PATH, or
/// else from Debian's `prometheus` package, fetched once with `apt-get
/// download` and unpacked under the target directory (no root needed).
fn prometheus_program(name: &str) -> PathBuf {
    if Command::new(name).arg("--version").output().is_ok() {
        return PathBuf::from(name);
    }
    static UNPACKED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    UNPACKED
        .get_or_init(unpack_prometheus_package)
        .join("usr/bin")
        .join(name)
}

fn unpack_prometheus_package() -> PathBuf {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/metrics-tools");
    if tools.join("usr/bin/promtool").exists() && tools.join("usr/bin/prometheus").exists() {
        return tools;
    }
    std::fs::create_dir_all(&tools).expect("a tools directory");
    let downloaded = Command::new("apt-get")
        .args(["download", "prometheus"])
        .current_dir(&tools)
        .output()
        .expect(
            "Prometheus is not on the PATH, and fetching Debian's prometheus package needs apt-get",
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
    tools
}

/// `promtool check metrics` on `text`: its exit status and what it printed.
fn lint(text: &[u8]) -> (bool, String) {
    let mut child = Command::new(prometheus_program("promtool"))
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

/// A Prometheus server, killed when dropped.
struct PrometheusServer {
    child: std::process::Child,
    address: std::net::SocketAddr,
    directory: PathBuf,
}

impl PrometheusServer {
    /// Prometheus on a free loopback port, scraping `target` every second.
    fn scraping(target: std::net::SocketAddr) -> Self {
        let directory = std::env::temp_dir().join(format!(
            "credit-risk-prometheus-{}-{}",
            std::process::id(),
            target.port()
        ));
        std::fs::create_dir_all(&directory).expect("a directory for Prometheus");
        let config = directory.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: credit-risk-service\n    \
                 static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .expect("the configuration is written");
        let address = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port");
        let child = Command::new(prometheus_program("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                directory.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        PrometheusServer {
            child,
            address,
            directory,
        }
    }

    /// The value of the instant query `query`, if it has exactly one.
    fn query(&self, query: &str) -> Option<String> {
        let encoded: String = query
            .bytes()
            .map(|byte| match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (byte as char).to_string(),
                _ => format!("%{byte:02X}"),
            })
            .collect();
        let path = format!("/api/v1/query?query={encoded}");
        // Until Prometheus listens, there is no answer yet.
        std::net::TcpStream::connect(self.address).ok()?;
        let response = common::send(self.address, "GET", &path, &[], b"");
        if response.status != 200 {
            return None;
        }
        let body = response.json();
        let results = body["data"]["result"].as_array()?;
        match results.as_slice() {
            [one] => one["value"][1].as_str().map(str::to_owned),
            _ => None,
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

#[test]
fn a_real_prometheus_server_scrapes_the_service_and_sees_every_prediction() {
    let service = TestService::start();
    for _ in 0..3 {
        assert_eq!(service.predict(&good_application_json()).status, 200);
    }
    let prometheus = PrometheusServer::scraping(service.address);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let query = r#"predictions_total{job="credit-risk-service",status="success"}"#;
    let mut seen = None;
    while std::time::Instant::now() < deadline {
        seen = prometheus.query(query);
        if seen.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(seen.as_deref(), Some("3"), "{query} within 30 s");
    assert_eq!(
        prometheus
            .query(r#"up{job="credit-risk-service"}"#)
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        prometheus
            .query(r#"prediction_duration_seconds_count{job="credit-risk-service"}"#)
            .as_deref(),
        Some("3")
    );
}

#[test]
fn predictions_sampled_out_are_counted_exactly_at_a_rate_below_one() {
    use credit_risk_service::http::state::ServedModel;
    use credit_risk_service::model::CreditRiskModel;
    const PREDICTIONS: usize = 400;
    let service =
        TestService::start_with(std::time::Duration::from_secs(10), |artifact, logger| {
            let settings = common::test_settings()
                .sample_rate(0.25)
                .expect("a valid rate");
            ServedModel::Logged(std::sync::Arc::new(
                logged_model::Logged::with_settings(
                    CreditRiskModel::new(artifact),
                    logger,
                    &settings,
                )
                .expect("no key collides"),
            ))
        });
    for _ in 0..PREDICTIONS {
        assert_eq!(service.predict(&good_application_json()).status, 200);
    }
    let scrape = scrape_metrics(&service);
    let model = [("model", "credit_risk_model"), ("version", "0.1.0")];
    let success = [model[0], model[1], ("status", "success")];
    assert_eq!(
        value(&scrape, "predictions_total", &success),
        Some(PREDICTIONS as f64)
    );
    let sampled_out =
        value(&scrape, "predictions_sampled_out_total", &model).expect("the counter is there");
    let records = service.stop();
    let logged = records
        .iter()
        .filter(|record| record["message"] == logged_model::REQUESTED_MESSAGE)
        .count();
    assert_eq!(
        sampled_out + logged as f64,
        PREDICTIONS as f64,
        "every prediction is in the log or counted sampled out"
    );
    // Three in four sampled out, within five standard deviations (43).
    assert!(
        (sampled_out - 300.0).abs() <= 5.0 * (400.0_f64 * 0.25 * 0.75).sqrt(),
        "{sampled_out} sampled out of {PREDICTIONS} at a rate of 0.25"
    );
}
