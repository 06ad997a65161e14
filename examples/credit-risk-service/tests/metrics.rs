//! `GET /metrics`, parsed by a Prometheus text-format parser, with counts
//! that match the requests sent exactly.

mod common;

use common::{TestService, good_application_json};
use prometheus_parse::{Scrape, Value};

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
