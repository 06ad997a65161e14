//! The real binary with its standard output stalled: the test stops reading
//! the pipe for three seconds under load from four clients. Liveness stays
//! fast, readiness says 503 during the stall and 200 after, every request is
//! answered once the pipe is read again, and the records add up: none lost
//! in `block` mode; written + reported dropped = emitted with a bounded wait.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The service with a pipe the test can stop reading.
struct Stallable {
    child: Child,
    address: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
    reading: Arc<AtomicBool>,
}

impl Stallable {
    fn start(extra_env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_credit-risk-service"));
        command
            .env("HTTP_HOST", "127.0.0.1")
            .env("HTTP_PORT", "0")
            .env("LOG_CHANNEL_SIZE", "64")
            .env("SHUTDOWN_TIMEOUT_SECONDS", "5")
            .env_remove("LOG_BLOCK_TIMEOUT_MS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the service starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reading = Arc::new(AtomicBool::new(true));
        {
            let (lines, reading) = (Arc::clone(&lines), Arc::clone(&reading));
            std::thread::spawn(move || {
                let mut reader = BufReader::with_capacity(4096, stdout);
                let mut line = String::new();
                loop {
                    while !reading.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => lines
                            .lock()
                            .expect("not poisoned")
                            .push(line.trim_end().to_owned()),
                    }
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            assert!(Instant::now() < deadline, "the service did not start");
            let started = lines.lock().expect("not poisoned").iter().find_map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).ok()?;
                (record["message"] == "Service started.").then(|| record["server.port"].as_u64())?
            });
            if let Some(port) = started {
                break port;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let address = SocketAddr::from(([127, 0, 0, 1], u16::try_from(port).expect("a port")));
        Stallable {
            child,
            address,
            lines,
            reading,
        }
    }

    /// Stops the service and returns every line it printed.
    fn stop(mut self) -> Vec<serde_json::Value> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                assert!(status.success(), "a clean exit: {status:?}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the service did not stop");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200)); // the reader's last lines
        let lines = self.lines.lock().expect("not poisoned").clone();
        lines
            .iter()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    }
}

/// A GET over a fresh connection: the status and how long it took.
fn probe(address: SocketAddr, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let response = common::send(address, "GET", path, &[], b"");
    (response.status, started.elapsed())
}

/// Load from four clients until `stop`: the count of 200 answers, and of any other.
fn load(address: SocketAddr, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<(u64, u64)>> {
    let body = common::good_application_json();
    (0..4)
        .map(|_| {
            let (body, stop) = (body.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let (mut ok, mut other) = (0, 0);
                let deadline = Instant::now() + Duration::from_secs(30);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    let mut stream = TcpStream::connect(address).expect("connects");
                    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("a timeout");
                    write!(
                        stream,
                        "POST /api/models/credit_risk_model/prediction HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .expect("writes");
                    let mut raw = Vec::new();
                    let _ = stream.read_to_end(&mut raw);
                    if common::parse_response(&raw).status == 200 {
                        ok += 1;
                    } else {
                        other += 1;
                    }
                }
                (ok, other)
            })
        })
        .collect()
}

/// The slowest liveness answer that still shows liveness never waited on the
/// stalled log: far below the three-second stall, with room for a loaded
/// machine's scheduling.
const LIVENESS_BOUND: Duration = Duration::from_secs(1);

/// Runs load through a three-second stall; returns the records, the 200s,
/// and what the probes saw.
fn through_a_stall(
    extra_env: &[(&str, &str)],
) -> (Vec<serde_json::Value>, u64, Duration, Vec<u16>, Vec<u16>) {
    let service = Stallable::start(extra_env);
    let address = service.address;
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(address, Arc::clone(&stop));
    let slowest_live = Arc::new(AtomicU64::new(0));
    let probing = Arc::new(AtomicBool::new(true));
    let readiness = Arc::new(Mutex::new(Vec::new()));
    let prober = {
        let (slowest_live, probing, readiness) = (
            Arc::clone(&slowest_live),
            Arc::clone(&probing),
            Arc::clone(&readiness),
        );
        std::thread::spawn(move || {
            while probing.load(Ordering::SeqCst) {
                let (status, took) = probe(address, "/api/health");
                assert_eq!(status, 200);
                slowest_live.fetch_max(took.as_micros() as u64, Ordering::SeqCst);
                let (ready, _) = probe(address, "/api/health/ready");
                readiness.lock().expect("not poisoned").push(ready);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    service.reading.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(3));
    let during: Vec<u16> = std::mem::take(&mut *readiness.lock().expect("not poisoned"));
    service.reading.store(true, Ordering::SeqCst);
    // Readiness comes back once the output takes records again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while readiness.lock().expect("not poisoned").last() != Some(&200) {
        assert!(Instant::now() < deadline, "readiness did not come back");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let (mut ok, mut other) = (0, 0);
    for client in clients {
        let (client_ok, client_other) = client.join().expect("a client ran");
        ok += client_ok;
        other += client_other;
    }
    probing.store(false, Ordering::SeqCst);
    prober.join().expect("the prober ran");
    let after = readiness.lock().expect("not poisoned").clone();
    assert_eq!(other, 0, "every request was answered 200");
    assert!(ok > 0);
    let records = service.stop();
    (
        records,
        ok,
        Duration::from_micros(slowest_live.load(Ordering::SeqCst)),
        during,
        after,
    )
}

fn count(records: &[serde_json::Value]) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for record in records {
        let key = match record["message"].as_str() {
            Some(message) => message.to_owned(),
            None => "?".to_owned(),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[test]
fn in_block_mode_a_stall_takes_the_pod_out_of_rotation_and_loses_nothing() {
    let (records, answered, slowest_live, during, after) = through_a_stall(&[]);
    assert!(
        slowest_live < LIVENESS_BOUND,
        "liveness took {slowest_live:?}"
    );
    assert!(
        during.contains(&503),
        "readiness said 503 during the stall: {during:?}"
    );
    assert_eq!(after.last(), Some(&200));
    let counts = count(&records);
    let get = |message: &str| counts.get(message).copied().unwrap_or(0);
    assert_eq!(get("Prediction requested."), answered, "{counts:?}");
    assert_eq!(get("Prediction created."), answered);
    assert_eq!(
        get("Request handled."),
        answered,
        "one access record per prediction request"
    );
    assert_eq!(get("Log records dropped: the log channel was full."), 0);
}

#[test]
fn with_a_bounded_wait_written_plus_reported_dropped_equals_emitted() {
    let (records, answered, slowest_live, during, _) =
        through_a_stall(&[("LOG_BLOCK_TIMEOUT_MS", "100")]);
    let counts = count(&records);
    assert!(
        slowest_live < LIVENESS_BOUND,
        "liveness took {slowest_live:?}"
    );
    assert!(during.contains(&503), "{during:?}");
    let get = |message: &str| counts.get(message).copied().unwrap_or(0);
    let written =
        get("Prediction requested.") + get("Prediction created.") + get("Request handled.");
    let reported: u64 = records
        .iter()
        .filter_map(|r| r["dropped_records"].as_u64())
        .sum();
    assert!(reported > 0, "the bounded wait dropped records: {counts:?}");
    assert_eq!(
        written + reported,
        3 * answered,
        "{counts:?}, {reported} reported dropped"
    );
}

#[test]
fn sigterm_during_a_stall_exits_within_the_shutdown_timeout_and_says_what_was_not_written() {
    let mut service = Stallable::start(&[("SHUTDOWN_TIMEOUT_SECONDS", "2")]);
    let address = service.address;
    service.reading.store(false, Ordering::SeqCst);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(address, Arc::clone(&stop));
    // Until the stall shows.
    let deadline = Instant::now() + Duration::from_secs(20);
    while probe(address, "/api/health/ready").0 != 503 {
        assert!(Instant::now() < deadline, "no stall");
        std::thread::sleep(Duration::from_millis(50));
    }
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &service.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = service.child.try_wait().expect("waits") {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "the service hung past its shutdown timeout"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, Ordering::SeqCst);
    // The open requests were abandoned at the shutdown timeout (2 s), then
    // the log was given 2 s more.
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "{:?}",
        signalled.elapsed()
    );
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    service
        .child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("reads");
    assert!(
        stderr.contains("log records could not be written before shutdown"),
        "{stderr}"
    );
    service.reading.store(true, Ordering::SeqCst);
    for client in clients {
        let _ = client.join();
    }
}

/// Five times in one process: load from four clients, the pipe left unread
/// until readiness says 503, then read again; once the load has stopped and
/// the output has drained, readiness answers 200 at once and for two idle
/// seconds after.
fn back_in_rotation_after_every_stall(extra_env: &[(&str, &str)]) {
    let service = Stallable::start(extra_env);
    let address = service.address;
    let lines_seen = || service.lines.lock().expect("not poisoned").len();
    for round in 1..=5 {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = load(address, Arc::clone(&stop));
        std::thread::sleep(Duration::from_millis(200));
        service.reading.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(15);
        while probe(address, "/api/health/ready").0 != 503 {
            assert!(Instant::now() < deadline, "round {round}: no stall showed");
            std::thread::sleep(Duration::from_millis(50));
        }
        service.reading.store(true, Ordering::SeqCst);
        stop.store(true, Ordering::SeqCst);
        for client in clients {
            let (_, other) = client.join().expect("a client ran");
            assert_eq!(other, 0, "round {round}: every request was answered 200");
        }
        // Drained: the reader has taken every line for 50 ms.
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = lines_seen();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = lines_seen();
            if now == seen {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: the output never drained"
            );
            seen = now;
        }
        // Within 100 ms of the drain (50 ms of it spent above), and then
        // for two idle seconds.
        let idle_until = Instant::now() + Duration::from_secs(2);
        let mut answers = Vec::new();
        while Instant::now() < idle_until {
            answers.push(probe(address, "/api/health/ready").0);
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(answers.len() >= 10, "round {round}: {answers:?}");
        assert!(
            answers.iter().all(|status| *status == 200),
            "round {round}: readiness after the drain, every 100 ms for 2 s idle: {answers:?}"
        );
    }
    let records = service.stop();
    let counts = count(&records);
    let get = |message: &str| counts.get(message).copied().unwrap_or(0);
    assert_eq!(get("Log records dropped: the log channel was full."), 0);
    assert_eq!(get("Prediction requested."), get("Prediction created."));
}

#[test]
fn after_a_stall_and_a_drain_the_line_drain_is_ready_and_stays_ready_while_idle() {
    back_in_rotation_after_every_stall(&[("LOG_DRAIN", "line")]);
}

#[test]
fn after_a_stall_and_a_drain_the_slog_async_drain_is_ready_and_stays_ready_while_idle() {
    back_in_rotation_after_every_stall(&[("LOG_DRAIN", "slog-async")]);
}
