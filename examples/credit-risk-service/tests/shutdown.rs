//! The real binary under load: SIGTERM lets in-flight requests finish, an
//! idle keep-alive connection does not hold the process, and every record
//! is written before it exits.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PREDICTIONS: usize = 60;

fn start_service() -> (Child, mpsc::Receiver<String>, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_credit-risk-service"))
        .env("HTTP_HOST", "127.0.0.1")
        .env("HTTP_PORT", "0")
        .env("LOG_ENV_VARS", "POD_NAME")
        .env("POD_NAME", "credit-risk-test-pod")
        .env_remove("LOG_HASH_KEY")
        .env_remove("LOG_SAMPLE_RATE")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the service starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = lines
        .recv_timeout(Duration::from_secs(30))
        .expect("a first record");
    let mut port = None;
    let mut seen = vec![started];
    while port.is_none() {
        let record: serde_json::Value =
            serde_json::from_str(seen.last().expect("a line")).expect("JSON");
        if record["message"] == "Service started." {
            port = record["server.port"].as_u64();
        } else {
            seen.push(
                lines
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the start record"),
            );
        }
    }
    let address = SocketAddr::from((
        [127, 0, 0, 1],
        u16::try_from(port.unwrap_or(0)).expect("a port"),
    ));
    // Hand the start-up lines back for counting.
    let (all_tx, all) = mpsc::channel();
    std::thread::spawn(move || {
        for line in seen.into_iter().chain(lines.iter()) {
            if all_tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, all, address)
}

/// Reads one keep-alive response whose body length is given.
fn read_keep_alive_response(stream: &mut TcpStream) -> u16 {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        head.push(byte[0]);
    }
    let response = common::parse_response(&head);
    let length: usize = response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("a length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("a body");
    response.status
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_bounded(child: &mut Child, bound: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the service did not stop within {bound:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_finishes_in_flight_requests_and_loses_no_record() {
    let (mut child, lines, address) = start_service();
    let body = common::good_application_json();

    // An idle keep-alive connection, used once and left open.
    let mut idle = TcpStream::connect(address).expect("connects");
    idle.set_read_timeout(Some(common::SOCKET_TIMEOUT))
        .expect("a timeout");
    write!(idle, "GET /api/health HTTP/1.1\r\nhost: x\r\n\r\n").expect("writes");
    assert_eq!(read_keep_alive_response(&mut idle), 200);

    // Load from four threads.
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || {
                (0..PREDICTIONS / 4)
                    .filter(|_| {
                        let response = common::send(
                            address,
                            "POST",
                            "/api/models/credit_risk_model/prediction",
                            &[("content-type", "application/json")],
                            body.as_bytes(),
                        );
                        response.status == 200
                    })
                    .count()
            })
        })
        .collect();
    let successes: usize = workers
        .into_iter()
        .map(|w| w.join().expect("no panic"))
        .sum();
    assert_eq!(successes, PREDICTIONS);

    // A request in flight when the signal arrives: its body is not complete yet.
    let mut in_flight = TcpStream::connect(address).expect("connects");
    in_flight
        .set_read_timeout(Some(common::SOCKET_TIMEOUT))
        .expect("a timeout");
    let (first, rest) = body.split_at(body.len() / 2);
    write!(
        in_flight,
        "POST /api/models/credit_risk_model/prediction HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: in-flight-1\r\n\r\n{first}",
        body.len()
    )
    .expect("writes");
    std::thread::sleep(Duration::from_millis(200));

    let signalled = Instant::now();
    terminate(&child);
    std::thread::sleep(Duration::from_millis(200));
    in_flight
        .write_all(rest.as_bytes())
        .expect("the rest of the body");
    let response = common::read_response(&mut in_flight);
    assert_eq!(response.status, 200, "the in-flight request finishes");

    let status = wait_bounded(&mut child, Duration::from_secs(10));
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "the idle connection did not hold the process"
    );
    drop(idle);

    let lines: Vec<String> = lines.iter().collect();
    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let count = |message: &str| records.iter().filter(|r| r["message"] == message).count();
    let predictions = PREDICTIONS + 1;
    assert_eq!(count("Prediction requested."), predictions);
    assert_eq!(count("Prediction created."), predictions);
    assert_eq!(
        count("Request handled."),
        PREDICTIONS + 1,
        "the load and the in-flight request (health probes are not access-logged)"
    );
    assert_eq!(count("Shutdown started: finishing open requests."), 1);
    // With no LOG_HASH_KEY the service chose a random key, and said so.
    let key_warnings: Vec<_> = records
        .iter()
        .filter(|r| {
            r["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("LOG_HASH_KEY is not set"))
        })
        .collect();
    assert_eq!(key_warnings.len(), 1);
    assert_eq!(key_warnings[0]["log.level"], "WARN");
    assert_stopped_last(&records);
    assert!(
        records
            .iter()
            .all(|r| r["pod_name"] == "credit-risk-test-pod")
    );
    let in_flight_records = records
        .iter()
        .filter(|r| r["correlation_id"] == "in-flight-1")
        .count();
    assert_eq!(in_flight_records, 3);
}

/// One prediction request with its own request id; `None` when the
/// connection is refused or closed without an answer (the server has gone).
fn try_predict(address: SocketAddr, body: &str, request_id: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(common::SOCKET_TIMEOUT)).ok()?;
    write!(
        stream,
        "POST /api/models/credit_risk_model/prediction HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    raw.windows(4)
        .any(|w| w == b"\r\n\r\n")
        .then(|| common::parse_response(&raw).status)
}

#[test]
fn load_running_through_sigterm_loses_no_record_of_an_answered_request() {
    let (mut child, lines, address) = start_service();
    let body = common::good_application_json();
    let stop_at = Instant::now() + Duration::from_secs(20);
    // Four clients that keep sending until the server is gone (or 20 s).
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                for sequence in 0.. {
                    if Instant::now() > stop_at {
                        break;
                    }
                    let id = format!("load-{worker}-{sequence}");
                    match try_predict(address, &body, &id) {
                        Some(200) => answered.push(id),
                        Some(status) => panic!("{id} answered {status}"),
                        None => break,
                    }
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    let status = wait_bounded(&mut child, Duration::from_secs(10));
    assert!(status.success(), "a clean exit: {status:?}");
    let answered: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("no panic"))
        .collect();
    assert!(answered.len() >= 4, "the load ran before the signal");

    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| {
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        })
        .collect();
    let mut per_request: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for record in &records {
        if let (Some(id), Some(message)) = (
            record["correlation_id"].as_str(),
            record["message"].as_str(),
        ) {
            per_request.entry(id).or_default().push(message);
        }
    }
    // Every request answered 200 has its three records: none lost at exit.
    for id in &answered {
        let mut messages = per_request.get(id.as_str()).cloned().unwrap_or_default();
        messages.sort_unstable();
        assert_eq!(
            messages,
            [
                "Prediction created.",
                "Prediction requested.",
                "Request handled."
            ],
            "{id}"
        );
    }
    assert_stopped_last(&records);
}

#[test]
fn an_invalid_logging_configuration_stops_start_up_with_a_json_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_credit-risk-service"))
        .env("HTTP_HOST", "127.0.0.1")
        .env("HTTP_PORT", "0")
        .env("LOG_LEVEL", "loud")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let record: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(record["log.level"], "CRITICAL");
    assert!(
        record["error_info"]
            .as_str()
            .is_some_and(|e| e.starts_with("LOG_LEVEL=\"loud\" is not valid"))
    );
}

#[test]
fn a_missing_model_artifact_stops_start_up_with_a_critical_record() {
    let output = Command::new(env!("CARGO_BIN_EXE_credit-risk-service"))
        .env("HTTP_HOST", "127.0.0.1")
        .env("HTTP_PORT", "0")
        .env("MODEL_PATH", "no/such/model.json")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let last = records.last().expect("a record");
    assert_eq!(last["log.level"], "CRITICAL");
    assert_eq!(last["message"], "Service failed.");
    assert!(
        last["error_info"]
            .as_str()
            .is_some_and(|e| e.contains("no/such/model.json"))
    );
}

/// "Service stopped." is the service's last record; only the model's last
/// profile, which the log's guard writes as it shuts down, comes after it.
fn assert_stopped_last(records: &[serde_json::Value]) {
    let stopped = records
        .iter()
        .rposition(|r| r["message"] == "Service stopped.")
        .expect("a \"Service stopped.\" record");
    for record in &records[stopped + 1..] {
        assert_eq!(
            record["message"],
            logged_model::profile::PROFILE_MESSAGE,
            "only profiles after \"Service stopped.\""
        );
    }
}
