//! The real binary with `LOG_OUTPUT=both`: every record it prints on
//! standard output also reaches an OTLP/HTTP receiver on loopback, with the
//! resource the standard variables name, and `/metrics` counts them as
//! exported.

mod common;

use flate2::read::GzDecoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Requests a loopback receiver decoded, answered 200 each.
type Received = Arc<Mutex<Vec<ExportLogsServiceRequest>>>;

/// An OTLP/HTTP receiver on a free loopback port.
fn receiver() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    let received: Received = Arc::default();
    let kept = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = Arc::clone(&kept);
            std::thread::spawn(move || serve(stream, &kept));
        }
    });
    (port, received)
}

/// Answers the requests of one connection.
fn serve(stream: std::net::TcpStream, received: &Received) {
    let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
    let mut writer = stream;
    loop {
        let mut length = 0;
        let mut gzip = false;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            gzip |= header == "content-encoding: gzip";
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if gzip {
            let mut plain = Vec::new();
            GzDecoder::new(body.as_slice())
                .read_to_end(&mut plain)
                .expect("gzip");
            body = plain;
        }
        let request = ExportLogsServiceRequest::decode(body.as_slice()).expect("protobuf");
        received.lock().expect("not poisoned").push(request);
        let _ = writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    }
}

#[test]
fn with_log_output_both_every_printed_record_is_also_exported_and_counted() {
    let (port, received) = receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_credit-risk-service"))
        .env("HTTP_HOST", "127.0.0.1")
        .env("HTTP_PORT", "0")
        .env("LOG_OUTPUT", "both")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env("OTEL_SERVICE_NAME", "credit-risk-service")
        .env("LOG_PROFILE_INTERVAL", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the service starts");
    let stdout = child.stdout.take().expect("piped");
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            kept.lock().expect("not poisoned").push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let address = loop {
        assert!(Instant::now() < deadline, "the service did not start");
        let started = lines.lock().expect("not poisoned").iter().find_map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).ok()?;
            (record["message"] == "Service started.").then(|| record["server.port"].as_u64())?
        });
        if let Some(port) = started {
            break SocketAddr::from(([127, 0, 0, 1], u16::try_from(port).expect("a port")));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for _ in 0..3 {
        let response = common::send(
            address,
            "POST",
            "/api/models/credit_risk_model/prediction",
            &[("content-type", "application/json")],
            common::good_application_json().as_bytes(),
        );
        assert_eq!(response.status, 200);
    }
    // The counters, once the writer has sent what it has.
    let metric = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(-1.0)
    };
    let (written, exported) = loop {
        let metrics = common::send(address, "GET", "/metrics", &[], b"");
        let text = String::from_utf8_lossy(&metrics.body).into_owned();
        let written = metric(&text, "log_records_written_total");
        let exported = metric(&text, "log_records_exported_total");
        if written >= 6.0 && exported == written || Instant::now() > deadline {
            assert_eq!(metric(&text, "log_records_export_failed_total"), 0.0);
            break (written, exported);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exported, written);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(child.wait().expect("waits").success());
    reader.join().expect("the reader ends with the pipe");

    let printed = lines.lock().expect("not poisoned").clone();
    let requests = received.lock().expect("not poisoned").clone();
    let records: Vec<_> = requests
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|r| r.scope_logs.iter().flat_map(|s| &s.log_records))
        .collect();
    assert_eq!(records.len(), printed.len(), "every printed line, exported");
    let resource = requests[0].resource_logs[0]
        .resource
        .as_ref()
        .expect("a resource");
    let service_name = resource
        .attributes
        .iter()
        .find(|a| a.key == "service.name")
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.clone());
    assert_eq!(
        service_name,
        Some(
            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                "credit-risk-service".to_owned()
            )
        )
    );
    let scopes: Vec<&str> = requests
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|r| &r.scope_logs)
        .filter_map(|s| s.scope.as_ref().map(|s| s.name.as_str()))
        .collect();
    assert!(scopes.contains(&"credit_risk_model_logger"), "{scopes:?}");
}
