//! The OTLP output against an independent receiver: a server on loopback
//! (`tests/fixtures/otlp_receiver.py`) that decodes every request with the
//! `opentelemetry-proto` package from PyPI. Each record it decodes is
//! checked against the same record on stdout (`LOG_OUTPUT=both`), and in
//! every fault (receiver down at start, 503 for two seconds, 400, too slow
//! for the channel, partial success) exported + dropped + failed equals
//! what was logged, exactly.

use logged_model::otlp::{Compression, OtlpConfig};
use logged_model::{
    CapturedOutput, ConfigError, LogDestination, LogStats, Logged, LoggerBuilder, Model, Overflow,
    TraceContext, correlation,
};
use logged_model_test_support::models::{Application, CreditModel};
use logged_model_test_support::{JsonRecord, python_with, without_profiles};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The receiver's process, its port and what it wrote.
struct Receiver {
    child: Child,
    port: u16,
    directory: PathBuf,
}

impl Receiver {
    /// A receiver answering as `fault` says, on a free port.
    fn start(fault: &str) -> Self {
        Self::start_on(free_port(), fault)
    }

    fn start_on(port: u16, fault: &str) -> Self {
        let python = python_with("otlp", &["opentelemetry-proto==1.45.2"]);
        let directory =
            std::env::temp_dir().join(format!("logged-model-otlp-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).expect("a directory");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/otlp_receiver.py");
        let child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(directory.join("records.jsonl"))
            .arg(directory.join("requests.jsonl"))
            .arg(fault)
            .spawn()
            .expect("the receiver starts");
        let receiver = Receiver {
            child,
            port,
            directory,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the receiver did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        receiver
    }

    fn endpoint(&self) -> String {
        endpoint(self.port)
    }

    fn read(&self, file: &str) -> Vec<Value> {
        std::fs::read_to_string(self.directory.join(file))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("the receiver writes JSON"))
            .collect()
    }

    /// The records it decoded, in arrival order.
    fn records(&self) -> Vec<Value> {
        self.read("records.jsonl")
    }

    /// One entry per request: its status, records and compression.
    fn requests(&self) -> Vec<Value> {
        self.read("requests.jsonl")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn endpoint(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v1/logs")
}

/// A logger sending to `config` (and to `output` when `both`), with the
/// environment field `POD_NAME`, no profiles.
fn logger(
    destination: LogDestination,
    config: OtlpConfig,
    configure: impl FnOnce(LoggerBuilder) -> LoggerBuilder,
) -> (logged_model::Logger, logged_model::LogGuard, CapturedOutput) {
    let output = CapturedOutput::default();
    let builder = LoggerBuilder::from_env_with(|name| {
        (name == "POD_NAME").then(|| "credit-risk-7d9f".to_owned())
    })
    .expect("valid")
    .capture_log_crate(false)
    .env_vars(["POD_NAME"])
    .profile_interval(None)
    .destination(destination)
    .otlp(config.resource_attribute("service.name", "otlp-test"));
    let (logger, guard) = configure(builder)
        .build_with_writer(output.clone())
        .expect("valid configuration");
    (logger, guard, output)
}

/// `count` numbered records sent over OTLP only as `config` says, the
/// logger built by `configure`; the final counts.
fn numbered_over_otlp(
    config: OtlpConfig,
    configure: impl FnOnce(LoggerBuilder) -> LoggerBuilder,
    count: usize,
) -> LogStats {
    let (logger, guard, _) = logger(LogDestination::Otlp, config, configure);
    log_numbered(&logger, count);
    drop(logger);
    guard.finish()
}

/// `count` records of one's own, numbered.
fn log_numbered(logger: &logged_model::Logger, count: usize) {
    for n in 0..count {
        slog::info!(logger, "Numbered."; "n" => n);
    }
}

/// Every record logged ends in exactly one count.
fn assert_accounted(stats: LogStats, logged: u64) {
    assert_eq!(
        stats.exported + stats.dropped + stats.export_failed + stats.unwritten_at_shutdown,
        logged,
        "{stats:?}"
    );
}

/// The value an OTLP attribute decoded by the receiver should hold for a
/// JSON value, in the receiver's typed notation.
fn typed(value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Bool(flag) => serde_json::json!({ "bool": flag }),
        Value::Number(number) if number.is_f64() => serde_json::json!({ "double": number }),
        // Above i64::MAX: OTLP has no unsigned integer; the digits are kept.
        Value::Number(number) if number.as_i64().is_none() => {
            serde_json::json!({ "string": number.to_string() })
        }
        Value::Number(number) => serde_json::json!({ "int": number }),
        Value::String(text) => serde_json::json!({ "string": text }),
        Value::Array(values) => {
            serde_json::json!({ "array": values.iter().map(typed).collect::<Vec<_>>() })
        }
        Value::Object(fields) => serde_json::json!({
            "kvlist": fields.iter().map(|(k, v)| (k.clone(), typed(v))).collect::<serde_json::Map<_, _>>()
        }),
    }
}

fn unix_nanos(rfc3339: &str) -> u64 {
    humantime::parse_rfc3339(rfc3339)
        .expect("an RFC 3339 time")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64
}

/// The receiver's record matches the stdout record, by the README's table.
fn assert_same(line: &JsonRecord, decoded: &Value) {
    let resource_keys = ["host.hostname", "process.pid", "pod_name"];
    for (key, value) in line {
        match key.as_str() {
            "@timestamp" => assert_eq!(
                decoded["time"],
                unix_nanos(value.as_str().expect("text")),
                "{line:?}"
            ),
            "log.level" => {
                assert_eq!(&decoded["severity_text"], value);
                let number = match value.as_str() {
                    Some("INFO") => 9,
                    Some("WARN") => 13,
                    Some("ERROR") => 17,
                    other => panic!("unexpected level {other:?}"),
                };
                assert_eq!(decoded["severity_number"], number);
            }
            "message" => assert_eq!(decoded["body"], typed(value)),
            "log.logger" => assert_eq!(&decoded["scope"], value),
            "host.hostname" => assert_eq!(decoded["resource"]["host.name"], typed(value)),
            key if resource_keys.contains(&key) => {
                assert_eq!(decoded["resource"][key], typed(value), "{key}")
            }
            key => assert_eq!(
                decoded["attributes"][key],
                typed(value),
                "{key} of {line:?}"
            ),
        }
    }
    if let Some(trace) = line.get("trace.id") {
        assert_eq!(&decoded["trace_id"], trace);
        assert_eq!(&decoded["span_id"], &line["span.id"]);
    } else {
        assert_eq!(decoded["trace_id"], "");
    }
    let attributes = decoded["attributes"].as_object().expect("attributes");
    for key in attributes.keys() {
        assert!(line.contains_key(key), "{key} is not on the stdout record");
    }
    assert_eq!(
        decoded["resource"]["service.name"],
        typed(&Value::from("otlp-test"))
    );
    assert!(decoded["observed"].as_u64() >= decoded["time"].as_u64());
}

/// A logger writing lines and sending to `receiver`, a model wrapped with
/// it, and one prediction made in a trace.
fn both_after_a_traced_prediction(
    receiver: &Receiver,
) -> (
    logged_model::Logger,
    logged_model::LogGuard,
    CapturedOutput,
    Logged<CreditModel>,
) {
    let (logger, guard, output) = logger(
        LogDestination::Both,
        OtlpConfig::new(receiver.endpoint()),
        |b| b,
    );
    let model = Logged::new(CreditModel, &logger).expect("wraps");
    let trace =
        TraceContext::continue_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid");
    correlation::trace_scope(trace, || model.predict(&Application::typical())).expect("predicts");
    (logger, guard, output, model)
}

#[test]
fn every_record_arrives_as_stdout_has_it_with_types_ids_resource_and_scope() {
    let receiver = Receiver::start("ok");
    let (logger, guard, output, model) = both_after_a_traced_prediction(&receiver);
    let mut too_large = Application::typical();
    too_large.credit_amount = 1e12;
    let _ = model.predict(&too_large);
    slog::warn!(logger, "Nested values."; "flag" => true, "ratio" => 0.25, "count" => -3);
    drop(model);
    drop(logger);
    let stats = guard.finish();
    let lines = without_profiles(output.records().expect("JSON lines"));
    let decoded = receiver.records();
    assert_eq!(lines.len(), 5, "two predictions and a record of our own");
    assert_eq!(decoded.len(), lines.len());
    for (line, decoded) in lines.iter().zip(&decoded) {
        assert_same(line, decoded);
    }
    assert_eq!(stats.exported, 5);
    assert_eq!(stats.written, 5);
    assert_eq!(stats.export_failed, 0);
    assert!(receiver.requests().iter().all(|r| r["gzip"] == true));
}

#[test]
fn batches_are_bounded_in_records_and_compression_can_be_off() {
    let receiver = Receiver::start("ok");
    let config = OtlpConfig::new(receiver.endpoint())
        .max_batch(7, 1 << 20)
        .compression(Compression::None);
    let stats = numbered_over_otlp(config, |b| b, 100);
    let requests = receiver.requests();
    assert!(
        requests.iter().all(|r| r["records"].as_u64() <= Some(7)),
        "{requests:?}"
    );
    assert!(requests.iter().all(|r| r["gzip"] == false));
    let numbers: Vec<u64> = receiver
        .records()
        .iter()
        .filter_map(|r| r["attributes"]["n"]["int"].as_u64())
        .collect();
    assert_eq!(numbers, (0..100).collect::<Vec<_>>(), "all, in order");
    assert_eq!(
        (stats.exported, stats.written, stats.export_failed),
        (100, 100, 0)
    );
}

#[test]
fn a_receiver_down_at_start_gets_every_record_once_it_listens() {
    let port = free_port();
    let (logger, guard, _) = logger(LogDestination::Otlp, OtlpConfig::new(endpoint(port)), |b| b);
    log_numbered(&logger, 50);
    std::thread::sleep(Duration::from_millis(800));
    let receiver = Receiver::start_on(port, "ok");
    log_numbered(&logger, 50);
    drop(logger);
    let stats = guard.finish();
    assert_eq!(receiver.records().len(), 100);
    assert_eq!(
        (stats.exported, stats.export_failed, stats.dropped),
        (100, 0, 0)
    );
    assert_accounted(stats, 100);
}

#[test]
fn a_receiver_answering_503_for_two_seconds_loses_nothing() {
    let receiver = Receiver::start("503:2");
    let stats = numbered_over_otlp(OtlpConfig::new(receiver.endpoint()), |b| b, 200);
    let requests = receiver.requests();
    assert!(requests.iter().any(|r| r["status"] == 503), "{requests:?}");
    assert_eq!(receiver.records().len(), 200);
    assert_eq!((stats.exported, stats.export_failed), (200, 0));
    assert_accounted(stats, 200);
}

#[test]
fn a_receiver_answering_400_is_not_retried_and_every_record_is_counted_failed() {
    let receiver = Receiver::start("400");
    let stats = numbered_over_otlp(OtlpConfig::new(receiver.endpoint()), |b| b, 30);
    let requests = receiver.requests();
    let carried: u64 = requests.iter().filter_map(|r| r["records"].as_u64()).sum();
    // Each record was sent once; the loss report that tried to follow them
    // was refused too (it is not a logged record).
    assert!(
        carried >= 30 && carried <= 30 + requests.len() as u64,
        "{requests:?}"
    );
    assert!(receiver.records().is_empty());
    assert_eq!(
        (stats.exported, stats.export_failed, stats.failed_writes),
        (0, 30, 30)
    );
    assert_accounted(stats, 30);
}

#[test]
fn a_partial_success_counts_the_rejected_records_failed() {
    let receiver = Receiver::start("partial:1");
    let config = OtlpConfig::new(receiver.endpoint()).max_batch(10, 1 << 20);
    let stats = numbered_over_otlp(config, |b| b, 40);
    // Every request loses one record: those that carried the logged
    // records, and those that carried the report of the loss.
    let requests = receiver.requests().len() as u64;
    let report_requests = received(&receiver, "Log records lost");
    assert!(report_requests > 0);
    assert_eq!(stats.export_failed, requests - report_requests);
    assert_eq!(stats.export_failed, stats.failed_writes);
    assert_accounted(stats, 40);
}

/// Records the receiver got whose message starts with `start`.
fn received(receiver: &Receiver, start: &str) -> u64 {
    receiver
        .records()
        .iter()
        .filter(|r| {
            r["body"]["string"]
                .as_str()
                .is_some_and(|m| m.starts_with(start))
        })
        .count() as u64
}

/// Reports of dropped records the receiver got: records the drain logs of
/// its own, counted like any other. (Reports of failed writes are written
/// outside the count: a report that fails is not itself a lost record.)
fn reports(receiver: &Receiver) -> u64 {
    received(receiver, "Log records dropped")
}

#[test]
fn a_receiver_too_slow_for_the_channel_makes_drop_mode_drop_and_count() {
    let receiver = Receiver::start("slow:0.3");
    let config = OtlpConfig::new(receiver.endpoint()).max_batch(16, 1 << 20);
    let (logger, guard, _) = logger(LogDestination::Otlp, config, |b| {
        b.overflow(Overflow::Drop).channel_size(32)
    });
    let started = Instant::now();
    log_numbered(&logger, 2000);
    let logging = started.elapsed();
    drop(logger);
    let stats = guard.finish();
    assert!(stats.dropped > 0, "{stats:?}");
    // The caller never waited for the receiver: 2,000 records at 0.3 s a
    // request of 16 would take 37 s.
    assert!(logging < Duration::from_secs(10), "{logging:?}");
    assert_eq!(stats.export_failed, 0);
    assert_accounted(stats, 2000 + reports(&receiver));
    assert_eq!(stats.exported, receiver.records().len() as u64);
}

#[test]
fn a_receiver_too_slow_in_block_mode_holds_callers_no_longer_than_the_block_timeout() {
    let receiver = Receiver::start("slow:0.5");
    let config = OtlpConfig::new(receiver.endpoint()).max_batch(4, 1 << 20);
    let (logger, guard, _) = logger(LogDestination::Otlp, config, |b| {
        b.channel_size(8).block_timeout(Duration::from_millis(100))
    });
    let mut longest = Duration::ZERO;
    for n in 0..60 {
        let started = Instant::now();
        slog::info!(logger, "Numbered."; "n" => n);
        longest = longest.max(started.elapsed());
    }
    drop(logger);
    let stats = guard.finish();
    assert!(stats.dropped > 0, "some waited out the timeout: {stats:?}");
    // The timeout, plus scheduling: far below a request's half second.
    assert!(longest < Duration::from_millis(400), "{longest:?}");
    assert_accounted(stats, 60 + reports(&receiver));
}

#[test]
fn a_receiver_that_never_answers_is_given_up_within_the_guard_timeout_and_counted_once() {
    let port = free_port();
    let config = OtlpConfig::new(endpoint(port)).retry_for(Duration::from_secs(60));
    let (logger, guard, _) = logger(LogDestination::Otlp, config, |b| b);
    log_numbered(&logger, 20);
    drop(logger);
    let started = Instant::now();
    let stats = guard.finish_within(Duration::from_millis(500));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stats.unwritten_at_shutdown, 20, "{stats:?}");
    assert_accounted(stats, 20);
}

#[test]
fn the_standard_variables_choose_the_output_and_bad_ones_are_refused() {
    let receiver = Receiver::start("ok");
    let base = format!("http://127.0.0.1:{}", receiver.port);
    let env = move |name: &str| match name {
        "LOG_OUTPUT" => Some("otlp".to_owned()),
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(base.clone()),
        "OTEL_SERVICE_NAME" => Some("from-the-environment".to_owned()),
        "OTEL_EXPORTER_OTLP_HEADERS" => Some("x-test=1".to_owned()),
        _ => None,
    };
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::from_env_with(env)
        .expect("valid")
        .capture_log_crate(false)
        .profile_interval(None)
        .build_with_writer(output.clone())
        .expect("valid");
    slog::info!(logger, "Configured from the environment.");
    drop(logger);
    let stats = guard.finish();
    assert_eq!(stats.exported, 1);
    assert!(
        output.records().expect("none").is_empty(),
        "otlp only: no lines"
    );
    let records = receiver.records();
    assert_eq!(
        records[0]["resource"]["service.name"]["string"],
        "from-the-environment"
    );
    for (name, value) in [
        ("LOG_OUTPUT", "kafka"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ] {
        let env = move |asked: &str| match asked {
            "LOG_OUTPUT" if name != "LOG_OUTPUT" => Some("both".to_owned()),
            asked if asked == name => Some(value.to_owned()),
            _ => None,
        };
        let built = LoggerBuilder::from_env_with(env).and_then(|b| {
            b.capture_log_crate(false)
                .build_with_writer(std::io::sink())
                .map(|_| ())
        });
        assert!(
            matches!(built, Err(ConfigError::InvalidValue { .. })),
            "{name}={value}: {built:?}"
        );
    }
}

/// The rows of the README's mapping table: JSON key, OTLP field, how.
fn readme_mapping() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let start = readme
        .find("| JSON record | OTLP log record | how |")
        .expect("the mapping table");
    let cell = |text: &str| text.trim().trim_matches('`').to_owned();
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            (cell(cells[0]), cell(cells[1]), cells[2].trim().to_owned())
        })
        .collect()
}

#[test]
fn the_readmes_mapping_table_is_what_the_receiver_decodes() {
    let receiver = Receiver::start("ok");
    let (logger, guard, output, model) = both_after_a_traced_prediction(&receiver);
    slog::error!(logger, "Of our own."; "big" => u64::MAX, "list" => "x");
    drop(model);
    drop(logger);
    guard.finish();
    let lines = without_profiles(output.records().expect("JSON lines"));
    let decoded = receiver.records();
    assert_eq!(lines.len(), decoded.len());
    let rows = readme_mapping();
    assert!(rows.len() >= 12, "{rows:?}");
    for (line, decoded) in lines.iter().zip(&decoded) {
        let mut mapped_keys: Vec<&str> = Vec::new();
        for (json, otlp, how) in &rows {
            let value = line.get(json.as_str());
            match otlp.as_str() {
                "time_unix_nano" => assert_eq!(
                    decoded["time"],
                    unix_nanos(value.and_then(Value::as_str).expect("a time"))
                ),
                "severity_text" => assert_eq!(Some(&decoded["severity_text"]), value),
                "severity_number" => {
                    // "TRACE 1, DEBUG 5, ...": the level's number, as the row says.
                    let level = value.and_then(Value::as_str).expect("a level");
                    let number = how
                        .split(", ")
                        .find_map(|pair| pair.strip_prefix(level)?.trim().parse::<i64>().ok())
                        .unwrap_or_else(|| panic!("{level} is not in the row {how:?}"));
                    assert_eq!(decoded["severity_number"], number);
                }
                "body" => assert_eq!(decoded["body"], typed(value.expect("a message"))),
                "trace_id" | "span_id" => {
                    let expected = value.and_then(Value::as_str).unwrap_or("");
                    assert_eq!(decoded[otlp.as_str()], expected, "{otlp}");
                    if let Some(id) = value {
                        assert_eq!(decoded["attributes"][json.as_str()], typed(id));
                    }
                }
                "scope.name" => assert_eq!(
                    decoded["scope"],
                    value.cloned().unwrap_or(Value::from("logged_model"))
                ),
                "resource.service.name" => assert_eq!(
                    decoded["resource"]["service.name"]["string"], "otlp-test",
                    "set by the test, as OTEL_SERVICE_NAME would"
                ),
                "observed_time_unix_nano" => {
                    assert!(decoded["observed"].as_u64() >= decoded["time"].as_u64())
                }
                "attributes.<key>" => {
                    assert_eq!(json, "any other key");
                    for (key, value) in line {
                        if !mapped_keys.contains(&key.as_str()) {
                            assert_eq!(decoded["attributes"][key.as_str()], typed(value), "{key}");
                        }
                    }
                }
                resource if resource.starts_with("resource.") => {
                    let name = &resource["resource.".len()..];
                    assert_eq!(
                        decoded["resource"][name],
                        typed(value.unwrap_or_else(|| panic!("{json} on every record"))),
                        "{json} as {resource}"
                    );
                    assert!(decoded["attributes"].get(json.as_str()).is_none());
                }
                other => panic!("the test does not know the README's row {other:?}"),
            }
            mapped_keys.push(json);
        }
    }
    // A u64 above i64::MAX arrives as its digits.
    let own = decoded.last().expect("our record");
    assert_eq!(
        own["attributes"]["big"],
        serde_json::json!({"string": u64::MAX.to_string()})
    );
}

#[test]
fn sensitive_values_stay_redacted_and_the_size_caps_apply_over_otlp() {
    let receiver = Receiver::start("ok");
    let (logger, guard, _) = logger(
        LogDestination::Otlp,
        OtlpConfig::new(receiver.endpoint()),
        |b| b.field_max_bytes(64),
    );
    let phone = logged_model::Sensitive::new("+49 228 5550123".to_owned());
    slog::info!(logger, "Contact."; "phone" => %phone, "note" => "n".repeat(10_000));
    drop(logger);
    guard.finish();
    let records = receiver.records();
    let attributes = &records[0]["attributes"];
    assert_eq!(attributes["phone"]["string"], logged_model::REDACTED);
    let note = attributes["note"]["string"].as_str().expect("text");
    assert!(
        note.len() <= 64 + "…[truncated]".len(),
        "{} bytes",
        note.len()
    );
    assert!(note.ends_with("…[truncated]"));
    assert_eq!(
        attributes["truncated_fields"],
        typed(&serde_json::json!(["note"]))
    );
    assert!(
        !serde_json::to_string(&records)
            .expect("JSON")
            .contains("5550123")
    );
}

#[test]
fn a_receiver_refusing_past_the_retry_time_has_every_record_counted_failed_once() {
    let receiver = Receiver::start("503:3600");
    let config = OtlpConfig::new(receiver.endpoint()).retry_for(Duration::from_millis(1500));
    let stats = numbered_over_otlp(config, |b| b, 25);
    let requests = receiver.requests();
    assert!(requests.len() >= 2, "retried: {requests:?}");
    assert!(requests.iter().all(|r| r["status"] == 503));
    assert_eq!((stats.exported, stats.export_failed), (0, 25), "{stats:?}");
    assert_accounted(stats, 25);
}
